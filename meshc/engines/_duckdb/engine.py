"""The DuckDB engine: one in-process connection, DuckDBPyRelation as the native frame.

Every statement is a sqlglot tree rendered for DuckDB (see meshc.engines.sql_trees); no contract
text is ever pasted into SQL. The session time zone is UTC so TIMESTAMPTZ values print, cast and
export as UTC.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from meshc.engines import spec
from meshc.engines import sql_trees as sb
from meshc.engines._duckdb import io, split
from meshc.engines._duckdb.mask import mask_select
from meshc.engines._duckdb.translate import translate
from meshc.engines.base import EngineLifecycle, Split, ValidationPlan, refuse_unknown_options
from meshc.rules import expr as ir


def connect(config: Mapping[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-process connection whose session time zone is UTC. (`TimeZone` cannot go in
    `config`: DuckDB 2.0 refuses it there unless ICU is already loaded; SET works.)"""
    con = duckdb.connect(config=dict(config or {}))
    utc = exp.EQ(this=exp.column("TimeZone"), expression=sb.string("UTC"))
    con.execute(sb.render(exp.Set(expressions=[exp.SetItem(this=utc)])))
    return con


class DuckDBEngine(EngineLifecycle):
    """meshc's Engine Protocol on DuckDB: one connection, opened here and closed by `close`
    (or on leaving a `with` block); its relations are unusable afterwards."""

    name = "duckdb"

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.con = connect(config)
        self._names = itertools.count()
        # views streaming a relation of another connection: their readers (see _view)
        self._readers: dict[str, pa.RecordBatchReader] = {}

    def close(self) -> None:
        self.con.close()  # idempotent in DuckDB

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

    def cast(self, frame: duckdb.DuckDBPyRelation, plan: ValidationPlan) -> duckdb.DuckDBPyRelation:
        return self.con.sql(sb.render(split.cast_query(self._source(frame), plan)))

    def aggregate(
        self, frame: duckdb.DuckDBPyRelation, exprs: Mapping[str, ir.Expr]
    ) -> dict[str, Any]:
        if not exprs:
            return {}
        items = [sb.alias(translate(e), name) for name, e in exprs.items()]
        view = self._view(frame)
        try:
            query = sb.select(*items).from_(exp.Table(this=sb.ident(view)))
            return dict(zip(exprs, self._one_row(query), strict=True))
        finally:
            self._release(view)

    def write(self, frame: duckdb.DuckDBPyRelation, path: Path, fmt: str) -> None:
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
        return self.con.sql(sb.render(query))

    def to_arrow(self, frame: duckdb.DuckDBPyRelation) -> pa.Table:
        return frame.to_arrow_table()

    def columns(self, frame: duckdb.DuckDBPyRelation) -> list[str]:
        return list(frame.columns)

    # -- helpers -----------------------------------------------------------------------------------
    def _fresh(self, kind: str) -> str:
        return f"__meshc_{kind}_{next(self._names)}"

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
