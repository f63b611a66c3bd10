"""The DuckDB engine: one in-process connection, DuckDBPyRelation as the native frame.

Every statement is a sqlglot tree rendered for DuckDB (see sqlbuild); no contract text is ever
pasted into SQL. The session time zone is UTC so TIMESTAMPTZ values print, cast and export as UTC.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from meshc.engines._duckdb import io, split
from meshc.engines._duckdb import sqlbuild as sb
from meshc.engines._duckdb.mask import mask_select
from meshc.engines._duckdb.translate import translate
from meshc.engines.base import Split, ValidationPlan, cast_rule_id
from meshc.rules import expr as ir


def connect(config: Mapping[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-process connection whose session time zone is UTC. (`TimeZone` cannot go in
    `config`: DuckDB 2.0 refuses it there unless ICU is already loaded; SET works.)"""
    con = duckdb.connect(config=dict(config or {}))
    utc = exp.EQ(this=exp.column("TimeZone"), expression=sb.string("UTC"))
    con.execute(sb.render(exp.Set(expressions=[exp.SetItem(this=utc)])))
    return con


class DuckDBEngine:
    """meshc's Engine Protocol on DuckDB."""

    name = "duckdb"

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.con = connect(config)
        self._names = itertools.count()

    def close(self) -> None:
        self.con.close()

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

    def validate(self, frame: duckdb.DuckDBPyRelation, plan: ValidationPlan) -> Split:
        source = self._source(frame)
        extras = split.check_columns(source, plan)
        table = self._fresh("split")
        create = exp.Create(
            this=exp.Table(this=sb.ident(table)),
            kind="TABLE",
            expression=split.split_query(source, plan),
            properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
        )
        self.con.execute(sb.render(create))
        row = self._one_row(split.counts_query(table, plan))
        rows_in, rows_quarantined, *flags = (int(v) for v in row)
        return Split(
            valid=self.con.sql(sb.render(split.valid_query(table, plan, extras))),
            quarantine=self.con.sql(sb.render(split.quarantine_query(table, plan, source))),
            rows_in=rows_in,
            rows_valid=rows_in - rows_quarantined,
            rows_quarantined=rows_quarantined,
            failures=_failures(plan, flags),
        )

    def cast(self, frame: duckdb.DuckDBPyRelation, plan: ValidationPlan) -> duckdb.DuckDBPyRelation:
        return self.con.sql(sb.render(split.cast_query(self._source(frame), plan)))

    def aggregate(
        self, frame: duckdb.DuckDBPyRelation, exprs: Mapping[str, ir.Expr]
    ) -> dict[str, Any]:
        if not exprs:
            return {}
        items = [sb.alias(translate(e), name) for name, e in exprs.items()]
        query = sb.select(*items).from_(exp.Table(this=sb.ident(self._view(frame))))
        return dict(zip(exprs, self._one_row(query), strict=True))

    def write(self, frame: duckdb.DuckDBPyRelation, path: Path, fmt: str) -> None:
        io.write(self.con, self._view(frame), frame.columns, Path(path), fmt)

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
        """Register a relation under a fresh internal name so generated SQL can read it."""
        name = self._fresh("view")
        frame.create_view(name, replace=True)
        return name


def _failures(plan: ValidationPlan, flags: list[int]) -> dict[str, int]:
    """Every check id (0 when none fail); a cast id only when some value failed its cast."""
    casts, checks = flags[: len(plan.columns)], flags[len(plan.columns) :]
    failures: dict[str, int] = {}
    for spec, count in zip(plan.columns, casts, strict=True):
        if count:
            failures[cast_rule_id(spec.name)] = count
    for check, count in zip(plan.checks, checks, strict=True):
        failures[check.id] = failures.get(check.id, 0) + count
    return failures


def create(**options: Any) -> DuckDBEngine:
    """The registry's entry point: `create(config={...})` passes DuckDB settings through."""
    return DuckDBEngine(**options)
