"""What the engine suite shares: building plans and text frames, running them, reading results.

Results are read through `engine.to_arrow`, so one assertion holds on every engine. The few
things the Engine protocol has no call for (a frame of text columns built in memory, one
expression evaluated over a frame) go through a small per-engine `Driver`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from meshc.engines.base import ColumnSpec, Split, StreamingEngine, ValidationPlan
from meshc.rules import expr as ir
from meshc.rules.checks import NotNull, Origin, RowCheck, Severity, SqlRule, Unique
from meshc.types import Kind, LogicalType

ORIGIN = Origin("t.yaml", 1, 1)
UTC = dt.timezone.utc
Texts = Sequence[str | None]


def dec(precision: int, scale: int) -> LogicalType:
    return LogicalType(Kind.DECIMAL, precision, scale)


DEC52 = dec(5, 2)


# -- plans -----------------------------------------------------------------------------------------
def rule(
    rule_id: str,
    expr: ir.Expr,
    sql: str = "",
    severity: Severity = "error",
    description: str | None = None,
) -> SqlRule:
    """A SQL rule; its text (shown in reasons) is `sql`, else its id."""
    return SqlRule(
        id=rule_id,
        severity=severity,
        rule=sql or rule_id,
        origin=ORIGIN,
        description=description,
        expr=expr,
        sql=sql or rule_id,
    )


def not_null(column: ir.Col) -> NotNull:
    return NotNull(f"{column.name}.required", "error", "required", ORIGIN, None, column)


def unique(check_id: str, *key: ir.Col, severity: Severity = "error") -> Unique:
    return Unique(
        check_id, severity, f"unique({', '.join(c.name for c in key)})", ORIGIN, None, key
    )


def plan(columns: Mapping[str, LogicalType], *checks: RowCheck, **options: Any) -> ValidationPlan:
    specs = tuple(ColumnSpec(n, t) for n, t in columns.items())
    return ValidationPlan(columns=specs, checks=checks, **options)


# -- per engine ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Driver:
    text_frame: Callable[[Any, Mapping[str, Texts]], Any]  # (engine, columns) -> native frame
    values: Callable[[Any, Any, ir.Expr], list[Any]]  # (engine, frame, expression) -> per row


def _polars_text(_: Any, columns: Mapping[str, Texts]) -> Any:
    import polars as pl

    return pl.LazyFrame(dict(columns), schema={c: pl.String for c in columns})


def _polars_values(_: Any, frame: Any, expr: ir.Expr) -> list[Any]:
    from meshc.engines._polars.translate import translate

    result = frame.lazy().select(translate(expr).alias("v")).collect()
    return list(result.to_arrow().column("v").to_pylist())


def _pandas_text(_: Any, columns: Mapping[str, Texts]) -> Any:
    import pandas as pd

    return pd.DataFrame({c: pd.Series(v, dtype="string[pyarrow]") for c, v in columns.items()})


def _pandas_values(_: Any, frame: Any, expr: ir.Expr) -> list[Any]:
    import pyarrow as pa

    from meshc.engines._pandas.translate import evaluate

    return list(pa.array(evaluate(expr, frame.reset_index(drop=True))).to_pylist())


def _duckdb_text(engine: Any, columns: Mapping[str, Texts]) -> Any:
    import pyarrow as pa

    table = pa.table({c: pa.array(list(v), pa.string()) for c, v in columns.items()})
    return engine.con.from_arrow(table)


def _duckdb_values(engine: Any, frame: Any, expr: ir.Expr) -> list[Any]:
    from meshc.engines import sql_trees as sb
    from meshc.engines._duckdb.translate import translate

    table = frame.project(f"{sb.render(translate(expr))} AS v").to_arrow_table()
    return list(table.column("v").to_pylist())


def _spark_text(engine: Any, columns: Mapping[str, Texts]) -> Any:
    from pyspark.sql import types as T

    schema = T.StructType([T.StructField(c, T.StringType()) for c in columns])
    return engine.session.createDataFrame(list(zip(*columns.values(), strict=True)), schema)


def _spark_values(_: Any, frame: Any, expr: ir.Expr) -> list[Any]:
    from meshc.engines._spark.translate import translate

    return list(frame.select(translate(expr).alias("v")).toArrow().column("v").to_pylist())


DRIVERS = {
    "polars": Driver(_polars_text, _polars_values),
    "pandas": Driver(_pandas_text, _pandas_values),
    "duckdb": Driver(_duckdb_text, _duckdb_values),
    "spark": Driver(_spark_text, _spark_values),
}


def text_frame(engine: Any, **columns: Texts) -> Any:
    """An in-memory frame of text columns, as a text source is read (NULL where None)."""
    return DRIVERS[engine.name].text_frame(engine, columns)


def known_gap(request: pytest.FixtureRequest, engine: Any, *names: str, reason: str) -> None:
    """A known difference of the engines `names` from the spec: a strict xfail there, so the
    test says so as soon as it is fixed."""
    if engine.name in names:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))


# -- running and reading ---------------------------------------------------------------------------
def rows(engine: Any, frame: Any) -> list[dict[str, Any]]:
    return list(engine.to_arrow(frame).to_pylist())


def column(engine: Any, frame: Any, name: str) -> list[Any]:
    return list(engine.to_arrow(frame).column(name).to_pylist())


def run(engine: Any, frame: Any, p: ValidationPlan) -> Split:
    """Validate, checking the invariant and that the counts match the frames."""
    split = engine.validate(frame, p)
    assert split.rows_in == split.rows_valid + split.rows_quarantined
    assert engine.to_arrow(split.valid).num_rows == split.rows_valid
    assert engine.to_arrow(split.quarantine).num_rows == split.rows_quarantined
    if isinstance(engine, StreamingEngine):  # a written run streams: it must split alike
        _assert_same_split(engine, engine.validate_streaming(frame, p), split)
    return split


def _assert_same_split(engine: Any, streamed: Split, split: Split) -> None:
    counts = ("rows_in", "rows_valid", "rows_quarantined", "failures")
    assert [getattr(streamed, c) for c in counts] == [getattr(split, c) for c in counts]
    for role in ("valid", "quarantine"):
        mine, theirs = (engine.to_arrow(getattr(s, role)) for s in (streamed, split))
        assert mine.column_names == theirs.column_names, role
        assert mine.to_pylist() == theirs.to_pylist(), role


def cast_one(engine: Any, ltype: LogicalType, values: Texts) -> tuple[list[Any], list[Any]]:
    """(typed values of the rows that cast, raw texts of those that failed), in input order."""
    index = [str(i) for i in range(len(values))]
    split = run(engine, text_frame(engine, i=index, x=values), plan({"i": _INT, "x": ltype}))
    good = sorted(rows(engine, split.valid), key=lambda r: r["i"])
    bad = sorted(rows(engine, split.quarantine), key=lambda r: int(r["i"]))
    return [r["x"] for r in good], [r["x"] for r in bad]


_INT = LogicalType(Kind.INTEGER)


def predicate_values(
    engine: Any, expr: ir.Expr, columns: Mapping[str, LogicalType], **data: Texts
) -> list[bool]:
    """Per row of `data` (which has a `row` column): whether it passes `expr` (TRUE or NULL)."""
    split = run(engine, text_frame(engine, **data), plan(columns, rule("r", expr)))
    failing = set(column(engine, split.quarantine, "row"))
    return [row not in failing for row in data["row"]]


def values(
    engine: Any, expr: ir.Expr, columns: Mapping[str, LogicalType], **data: Texts
) -> list[Any]:
    """`expr` evaluated per row over the typed columns cast from `data` (all must cast)."""
    split = run(engine, text_frame(engine, **data), plan(columns))
    assert split.rows_quarantined == 0
    return DRIVERS[engine.name].values(engine, split.valid, expr)


def scalar(engine: Any, expr: ir.Expr) -> Any:
    """A column-free expression's value."""
    [value] = values(engine, expr, {"row": _STRING}, row=["1"])
    return value


_STRING = LogicalType(Kind.STRING)


def parquet_codecs(path: Path) -> set[str]:
    """The compression of every column chunk of a Parquet file."""
    meta = pq.ParquetFile(path).metadata
    return {
        meta.row_group(g).column(c).compression
        for g in range(meta.num_row_groups)
        for c in range(meta.num_columns)
    }
