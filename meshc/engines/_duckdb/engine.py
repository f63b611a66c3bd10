"""The DuckDB engine: one in-process connection, DuckDBPyRelation as the native frame.

Every statement is a sqlglot tree rendered for DuckDB (see meshc.engines.sql_trees); no contract
text is ever pasted into SQL. The session time zone is UTC so TIMESTAMPTZ values print, cast and
export as UTC.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from meshc.engines import spec
from meshc.engines import sql_trees as sb
from meshc.engines._duckdb import io, split, stream
from meshc.engines._duckdb.mask import key_parameters, mask_select, masked_item
from meshc.engines._duckdb.translate import aggregate_query
from meshc.engines.base import EngineLifecycle, Split, ValidationPlan, refuse_unknown_options
from meshc.errors import WriteError
from meshc.rules import expr as ir


def connect(config: Mapping[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-process connection whose session time zone is UTC. (`TimeZone` cannot go in
    `config`: DuckDB 2.0 refuses it there unless ICU is already loaded; SET works.)

    Insertion order is kept (DuckDB's default, pinned here): both outputs keep the source's row
    order, and the streamed split relies on it."""
    con = duckdb.connect(config={**dict(config or {}), "preserve_insertion_order": True})
    utc = exp.EQ(this=exp.column("TimeZone"), expression=sb.string("UTC"))
    con.execute(sb.render(exp.Set(expressions=[exp.SetItem(this=utc)])))
    return con


class DuckDBEngine(EngineLifecycle):
    """meshc's Engine Protocol on DuckDB: one connection, opened here and closed by `close`
    (or on leaving a `with` block); its relations are unusable afterwards."""

    name = "duckdb"

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.con = connect(config)
        # spill files, and DuckDB's own temp files unless `config` names a temp_directory (its
        # default for an in-memory database is `.tmp` in the working directory): made on first use
        self._spill = stream.SpillDir()
        self._own_temp = "temp_directory" not in (config or {})
        self._names = itertools.count()
        # views streaming a relation of another connection: their readers (see _view)
        self._readers: dict[str, pa.RecordBatchReader] = {}
        # by id() of each relation validate_streaming returned: it, and the spill file it reads
        self._spilled: dict[int, tuple[duckdb.DuckDBPyRelation, Path]] = {}

    def close(self) -> None:
        self.con.close()  # idempotent in DuckDB
        self._spilled.clear()
        self._spill.remove()

    # -- Protocol ----------------------------------------------------------------------------------
    def read(
        self,
        paths: Sequence[str],
        fmt: str,
        *,
        delimiter: str = ",",
        header: bool = True,
        text_columns: Sequence[str] = (),
    ) -> duckdb.DuckDBPyRelation:
        # Text formats read every column as VARCHAR; `text_columns` must be in every file.
        return io.read(
            self.con, paths, fmt, delimiter=delimiter, header=header, required=text_columns
        )

    def validate(
        self, frame: duckdb.DuckDBPyRelation, plan: ValidationPlan
    ) -> Split[duckdb.DuckDBPyRelation]:
        with contextlib.suppress(WriteError):  # no temp dir: DuckDB's default, as before
            self._temp_directory()
        source = self._source(frame)
        try:
            extras = split.check_columns(source, plan)
            table = self._fresh("split")
            create = exp.Create(
                this=exp.Table(this=sb.ident(table)),
                kind="TABLE",
                expression=split.split_query(source, plan),
                properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
            )
            self.con.execute(sb.render(create))
        finally:
            self._release(source.view)
        row = self._one_row(split.counts_query(table, plan))
        rows_in, rows_quarantined, *flags = (int(v) for v in row)
        casts, checks = flags[: len(plan.columns)], flags[len(plan.columns) :]
        return spec.counted_split(
            self.con.sql(sb.render(split.valid_query(table, plan, extras))),
            self.con.sql(sb.render(split.quarantine_query(table, plan, source))),
            rows_in=rows_in,
            rows_quarantined=rows_quarantined,
            failures=spec.failure_counts(
                plan, dict(zip((c.name for c in plan.columns), casts, strict=True)), checks
            ),
        )

    def validate_streaming(
        self, frame: duckdb.DuckDBPyRelation, plan: ValidationPlan
    ) -> Split[duckdb.DuckDBPyRelation]:
        """`validate` in one pass and bounded memory: the validation query is read once as a
        stream, its valid and quarantined rows written to Parquet spill files as they come and
        its flags counted on the way (stream.py); the outputs are relations over those files."""
        return self.validate_streaming_masked(frame, plan, {})

    def validate_streaming_masked(
        self, frame: duckdb.DuckDBPyRelation, plan: ValidationPlan, masks: Mapping[str, str]
    ) -> Split[duckdb.DuckDBPyRelation]:
        """`validate_streaming`, then `mask` of both outputs, in the same one pass: the masks
        are part of the streamed query, so each output is written once, already masked."""
        self._temp_directory()
        valid_path = self._spill.fresh("valid.parquet")
        quarantine_path = valid_path.with_name("quarantine.parquet")
        source = self._source(frame)
        try:
            extras = split.check_columns(source, plan)
            final = split.split_query(source, plan, numbered=False)
            ordered = split.reorders(final)  # then numbered, and the stream sorted back
            query, layout = stream.stream_query(
                split.split_query(source, plan) if ordered else final,
                [masked_item(i, masks) for i in split.valid_items(plan, extras)],
                [masked_item(i, masks) for i in split.quarantine_items(plan, source)],
                split.counted_flags(plan),
                order_by=split.ROW if ordered else None,
            )
            rows_in, rows_quarantined, *flags = stream.stream_split(
                self.con, query, layout, (valid_path, quarantine_path), key_parameters(masks)
            )
        finally:
            self._release(source.view)
        casts, checks = flags[: len(plan.columns)], flags[len(plan.columns) :]
        return spec.counted_split(
            self._spilled_relation(valid_path),
            self._spilled_relation(quarantine_path),
            rows_in=rows_in,
            rows_quarantined=rows_quarantined,
            failures=spec.failure_counts(
                plan, dict(zip((c.name for c in plan.columns), casts, strict=True)), checks
            ),
        )

    def cast(self, frame: duckdb.DuckDBPyRelation, plan: ValidationPlan) -> duckdb.DuckDBPyRelation:
        return self.con.sql(sb.render(split.cast_query(self._source(frame), plan)))

    def aggregate(
        self, frame: duckdb.DuckDBPyRelation, exprs: Mapping[str, ir.Expr]
    ) -> dict[str, Any]:
        if not exprs:
            return {}
        view = self._view(frame)
        try:
            return dict(zip(exprs, self._one_row(aggregate_query(exprs, view)), strict=True))
        finally:
            self._release(view)

    def write(self, frame: duckdb.DuckDBPyRelation, path: Path, fmt: str) -> None:
        spilled = self._spilled.get(id(frame))
        if fmt.lower() == "parquet" and spilled is not None and spilled[0] is frame:
            stream.link_or_copy(spilled[1], Path(path))  # already this output, as COPY writes it
            return
        view = self._view(frame)
        try:
            io.write(self.con, view, frame.columns, Path(path), fmt)
        finally:
            self._release(view)

    def mask(
        self, frame: duckdb.DuckDBPyRelation, masks: Mapping[str, str]
    ) -> duckdb.DuckDBPyRelation:
        if not masks:
            return frame
        query = sb.select(*mask_select(frame.columns, masks)).from_(
            exp.Table(this=sb.ident(self._view(frame)))
        )
        return self.con.sql(sb.render(query), params=key_parameters(masks) or None)

    def to_arrow(self, frame: duckdb.DuckDBPyRelation) -> pa.Table:
        return frame.to_arrow_table()

    def head(self, frame: duckdb.DuckDBPyRelation, n: int) -> pa.Table:
        # a LIMIT keeps the relation's order: insertion order is pinned on (see connect)
        return frame.limit(n).to_arrow_table()

    def columns(self, frame: duckdb.DuckDBPyRelation) -> list[str]:
        return list(frame.columns)

    # -- helpers -----------------------------------------------------------------------------------
    def _fresh(self, kind: str) -> str:
        return f"__meshc_{kind}_{next(self._names)}"

    def _temp_directory(self) -> None:
        """Once: DuckDB's temp files (what does not fit in memory) go to the spill folder."""
        if self._own_temp:
            folder = sb.string(str(self._spill.path / "duckdb"))
            setting = exp.EQ(this=exp.column("temp_directory"), expression=folder)
            self.con.execute(sb.render(exp.Set(expressions=[exp.SetItem(this=setting)])))
            self._own_temp = False

    def _spilled_relation(self, path: Path) -> duckdb.DuckDBPyRelation:
        """A relation over a spill file, remembered so that `write` can link the file."""
        relation = self.con.read_parquet(str(path))
        self._spilled[id(relation)] = (relation, path)
        return relation

    def _one_row(self, query: exp.Select) -> tuple[Any, ...]:
        """The single row of an aggregate query (fetchall: DuckDB 2 refuses new work on a
        connection while a result is only partly fetched)."""
        rows = self.con.execute(sb.render(query)).fetchall()
        return tuple(rows[0])

    def _source(self, frame: duckdb.DuckDBPyRelation) -> split.Source:
        columns = tuple(zip(frame.columns, map(str, frame.types), strict=True))
        return split.Source(self._view(frame), columns)

    def _view(self, frame: duckdb.DuckDBPyRelation) -> str:
        """Register a relation under a fresh internal name so generated SQL can read it.

        A relation of another connection (the caller's own, or a database file's) cannot be
        read here: it is streamed in through Arrow instead (a record batch reader, scanned once,
        nothing materialised), and `_release` closes the reader so the caller's connection is
        free again. (`create_view` would have put the name on the caller's connection.)"""
        name = self._fresh("view")
        probe = sb.select(exp.Star()).from_(exp.Table(this=sb.ident(name))).limit(0)
        try:
            self.con.register(name, frame)
            self.con.execute(sb.render(probe)).fetchall()
        except duckdb.InvalidInputException:  # "cannot be read on a connection to another ..."
            self.con.unregister(name)
            reader = frame.to_arrow_reader()
            self._readers[name] = reader
            self.con.register(name, reader)
        return name

    def _release(self, view: str) -> None:
        """Close the Arrow reader behind `view`, if it streams another connection's relation."""
        reader = self._readers.pop(view, None)
        if reader is not None:
            self.con.unregister(view)
            reader.close()


def create(**options: Any) -> DuckDBEngine:
    """The registry's entry point: `create(config={...})` passes DuckDB settings through."""
    refuse_unknown_options("duckdb", options, ("config",))
    return DuckDBEngine(options.get("config"))
