"""Types of rule expressions: comparability, common branch types, typed literals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from meshc.rules import expr as ir
from meshc.rules.problems import RuleProblem
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


def parse_temporal(text: str, target: LogicalType) -> Any:
    try:
        if target.kind is Kind.DATE:
            return dt.date.fromisoformat(text.strip())
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise RuleProblem(
            "MC306",
            f"invalid {target} literal '{text}'",
            hint="use ISO format: DATE '2024-01-31', TIMESTAMP '2024-01-31 12:00:00'",
        ) from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
        return value if target.kind is Kind.TIMESTAMP_TZ else value.replace(tzinfo=None)
    return value.replace(tzinfo=dt.timezone.utc) if target.kind is Kind.TIMESTAMP_TZ else value


def literal_for(value: Any, ltype: LogicalType) -> ir.Lit:
    """A contract value (accepted_values, min, max) as a literal of a field's type."""
    if value is None:
        return ir.Lit(None, None)
    kind = ltype.kind
    if kind is Kind.STRING:
        return ir.Lit(str(value), STRING)
    if kind is Kind.BOOLEAN and isinstance(value, bool):
        return ir.Lit(value, BOOLEAN)
    if kind is Kind.INTEGER and isinstance(value, int) and not isinstance(value, bool):
        return ir.Lit(value, INTEGER)
    if kind is Kind.FLOAT and isinstance(value, (int, float)) and not isinstance(value, bool):
        return ir.Lit(float(value), FLOAT)
    if (
        kind is Kind.DECIMAL
        and isinstance(value, (int, float, str))
        and not isinstance(value, bool)
    ):
        try:
            return ir.Lit(Decimal(str(value)), ltype)
        except ArithmeticError:
            pass
    if ltype.is_temporal and isinstance(value, str):
        return ir.Lit(parse_temporal(value, ltype), ltype)
    raise RuleProblem("MC208", f"{value!r} is not a valid {ltype} value")
