"""Types of rule expressions: comparability, common branch types, typed literals."""

from __future__ import annotations

import datetime as dt
from typing import Any

from meshc.rules import expr as ir
from meshc.rules.problems import RuleProblem
from meshc.rules.values import value_for
from meshc.types import (
    BOOLEAN,
    FLOAT,
    INTEGER,
    STRING,
    TIMESTAMP,
    TIMESTAMP_TZ,
    Kind,
    LogicalType,
    UnknownType,
    parse_type,
)


def comparable(a: LogicalType | None, b: LogicalType | None) -> bool:
    if a is None or b is None:
        return True
    if a.is_numeric and b.is_numeric:
        return True
    return a.kind == b.kind


def common_type(types: list[LogicalType | None]) -> LogicalType | None:
    known = [t for t in types if t is not None]
    if not known:
        return None
    if all(t.is_numeric for t in known):
        if any(t.kind is Kind.FLOAT for t in known):
            return FLOAT
        decimals = [t for t in known if t.kind is Kind.DECIMAL]
        if decimals:
            return LogicalType(Kind.DECIMAL, 38, max(t.scale or 0 for t in decimals))
        return INTEGER
    first = known[0]
    if all(t.kind == first.kind for t in known):
        return first
    return MIXED


MIXED = LogicalType(Kind.STRING, precision=-1)  # sentinel: incompatible branch types
MAX_DECIMAL_DIGITS = 38  # every engine's widest decimal


def decimal_operands(node: ir.Arith) -> bool:
    """Whether both operands of `node` are decimals (SQL's decimal product rule applies)."""
    sides = (node.left, node.right)
    return all(side.type is not None and side.type.kind is Kind.DECIMAL for side in sides)


def arith_type(
    op: str, left: LogicalType | None, right: LogicalType | None, offset: int | None = None
) -> LogicalType:
    """SQL's result type of `left op right` on numbers: `/` is float division; on decimals `+`,
    `-` and `%` keep the larger scale and `*` adds the scales (0.25 * 0.25 = 0.0625), with up to
    38 digits (an exact result needing more is NULL: docs/semantics.md). Raises RuleProblem when
    a product needs more than 38 fraction digits, which no engine can hold exactly."""
    if op == "/":
        return FLOAT
    common = common_type([left, right]) or INTEGER
    if common.kind is not Kind.DECIMAL or op != "*":
        return common
    scale = sum(t.scale or 0 for t in (left, right) if t is not None and t.kind is Kind.DECIMAL)
    if scale > MAX_DECIMAL_DIGITS:
        raise RuleProblem(
            "MC306",
            f"{left} * {right} needs {scale} fraction digits, more than {MAX_DECIMAL_DIGITS}",
            hint="CAST one side to a decimal with a smaller scale, or to DOUBLE",
            offset=offset,
        )
    return LogicalType(Kind.DECIMAL, MAX_DECIMAL_DIGITS, scale)


def typed_null(expr: ir.Expr, ltype: LogicalType | None) -> ir.Expr:
    """A bare NULL takes the type its context needs, so no engine sees an untyped NULL where it
    expects a boolean or a value of a branch's type (Polars and Spark reject those)."""
    if isinstance(expr, ir.Lit) and expr.value is None and expr.ltype is None and ltype is not None:
        return ir.Lit(None, ltype)
    return expr


def align_timestamp_literal(expr: ir.Expr, other: LogicalType | None) -> ir.Expr:
    """A TIMESTAMP literal compared with a UTC timestamp column is read as UTC (literals with an
    offset were already converted to UTC), so `ts_tz >= TIMESTAMP '2024-01-01 00:00:00'` works."""
    if (
        isinstance(expr, ir.Lit)
        and expr.type == TIMESTAMP
        and other == TIMESTAMP_TZ
        and isinstance(expr.value, dt.datetime)
    ):
        return ir.Lit(expr.value.replace(tzinfo=dt.timezone.utc), TIMESTAMP_TZ)
    return expr


def cast_target(sql_type: str) -> LogicalType | None:
    aliases = {
        "varchar": "string",
        "text": "string",
        "int": "integer",
        "bigint": "integer",
        "integer": "integer",
        "double": "float",
        "float": "float",
        "real": "float",
        "boolean": "boolean",
        "date": "date",
        "timestamp": "timestamp",
        "timestamptz": "timestamptz",
        "timestamp with time zone": "timestamptz",
    }
    try:
        return parse_type(aliases.get(sql_type, sql_type))
    except UnknownType:
        return None


def literal_for(value: Any, ltype: LogicalType) -> ir.Lit:
    """A contract value (accepted_values, min, max) as a literal of a field's type."""
    if value is None:
        return ir.Lit(None, None)
    plain = {Kind.STRING: STRING, Kind.BOOLEAN: BOOLEAN, Kind.INTEGER: INTEGER, Kind.FLOAT: FLOAT}
    return ir.Lit(value_for(value, ltype), plain.get(ltype.kind, ltype))


# -- bounds: what every engine can evaluate without an error ------------------------------------
# 10,000 years in each unit (a Gregorian 400-year cycle is 146,097 days): any date or timestamp
# of years 1-9999 moved by that much still fits every engine (DuckDB casts a day count to INT32,
# pandas shifts date32 days, Spark's date_add takes an INT); 999999999999 days crashed three.
INTERVAL_LIMITS = {
    "year": 10_000,
    "month": 120_000,
    "day": 3_652_425,
    "hour": 87_658_200,
    "minute": 5_259_492_000,
    "second": 315_569_520_000,
}
# DuckDB nests a many-argument CONCAT past its expression depth limit (1000) at 1000 arguments.
MAX_FUNCTION_ARGS = 100


def check_interval(amount: int, unit: str, offset: int | None) -> None:
    limit = INTERVAL_LIMITS[unit]
    if abs(amount) > limit:
        raise RuleProblem(
            "MC316",
            f"INTERVAL '{amount}' {unit.upper()} is out of range (at most {limit} {unit}s, "
            "10,000 years)",
            hint="dates and timestamps span years 1-9999; use a smaller interval",
            offset=offset,
        )


def check_float_literal(value: float, text: str, offset: int | None) -> None:
    if value in (float("inf"), float("-inf")):
        raise RuleProblem(
            "MC316",
            f"number literal {text} does not fit in a 64-bit float",
            hint="use a value within ±1.7e308",
            offset=offset,
        )


def check_arity(function: str, count: int, offset: int | None) -> None:
    if count > MAX_FUNCTION_ARGS:
        raise RuleProblem(
            "MC317",
            f"{function} has {count} arguments, more than {MAX_FUNCTION_ARGS}",
            hint="split the rule into several rules",
            offset=offset,
        )
