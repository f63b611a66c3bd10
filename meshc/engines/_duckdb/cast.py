"""Casting source values to logical types, exactly as docs/semantics.md documents.

DuckDB's TRY_CAST is more lenient than the spec (it reads '1.0' and '1e3' as BIGINT, ' 5' with
spaces, '2024-1-5' as a date, '24:00' as a time, and rounds '1.234' into DECIMAL(10,2)). So every
text cast is a RE2 `regexp_full_match` pre-check of the documented form first, and TRY_CAST only
decides what the form cannot (64-bit range, real calendar dates). A cast yields `value` (NULL when
the text is not accepted) and `ok` (FALSE for a non-NULL input that is a cast failure).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from meshc.engines._duckdb import sqlbuild as sb
from meshc.types import Kind, LogicalType

_INTEGER = r"[+-]?[0-9]+"
_FLOAT = r"(?i)(?:[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[+-]?[0-9]+)?|inf|infinity)|nan)"
_DECIMAL = r"[+-]?[0-9]+(?:\.[0-9]+)?"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
# An offset only follows a time: DuckDB cannot read '2024-01-01Z', and a date-only offset is odd.
_TIMESTAMP = (
    _DATE + r"(?:[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?)?"
)
_TRUE = ("true", "t", "yes", "1")
_FALSE = ("false", "f", "no", "0")


def native_type(ltype: LogicalType) -> str:
    """The DuckDB type a logical type is stored as (spelled as DuckDBPyType prints it)."""
    if ltype.kind is Kind.DECIMAL:
        return f"DECIMAL({ltype.precision},{ltype.scale})"
    return {
        Kind.STRING: "VARCHAR",
        Kind.INTEGER: "BIGINT",
        Kind.FLOAT: "DOUBLE",
        Kind.BOOLEAN: "BOOLEAN",
        Kind.DATE: "DATE",
        Kind.TIMESTAMP: "TIMESTAMP",
        Kind.TIMESTAMP_TZ: "TIMESTAMP WITH TIME ZONE",
    }[ltype.kind]


@dataclass(frozen=True)
class Casted:
    value: exp.Expression  # the typed value, NULL when not accepted
    ok: exp.Expression  # FALSE for a non-NULL input that is not accepted (NULL for NULL input)


def column_cast(raw: exp.Expression, source_type: str, ltype: LogicalType) -> Casted:
    """Cast one source column: text by the documented forms, stored types losslessly."""
    target = native_type(ltype)
    if source_type == target:
        return Casted(_nan_to_null(raw) if ltype.kind is Kind.FLOAT else raw, exp.true())
    if ltype.kind is Kind.STRING:
        return Casted(sb.cast(raw, "VARCHAR"), exp.true())
    if source_type == "VARCHAR" or not _buildable(source_type):
        return text_cast(sb.cast(raw, "VARCHAR"), ltype)
    return _lossless_cast(raw, source_type, ltype)


def text_cast(text: exp.Expression, ltype: LogicalType) -> Casted:
    """Text -> logical type by the documented forms (ASCII spaces trimmed, except for string)."""
    if ltype.kind is Kind.STRING:
        return Casted(text, exp.true())
    trimmed = exp.Trim(this=text, expression=sb.string(" "))
    if ltype.kind is Kind.BOOLEAN:
        return _boolean(trimmed)
    patterns, native = _form(ltype)
    matches: list[exp.Expression] = [
        sb.fn("regexp_full_match", trimmed, sb.string(p)) for p in patterns
    ]
    accepted = sb.and_all([*matches, sb.not_null(sb.try_cast(trimmed, native))])
    value: exp.Expression = sb.try_cast(trimmed, native)
    if ltype.kind is Kind.TIMESTAMP:  # read as an instant (offsets applied), then drop the zone
        value = sb.cast(value, "TIMESTAMP")
    if ltype.kind is Kind.FLOAT:
        value = _nan_to_null(value)
    return Casted(sb.case([(accepted, value)]), accepted)


def _form(ltype: LogicalType) -> tuple[list[str], str]:
    """(regexes the text must fully match, DuckDB type TRY_CAST reads it into)."""
    kind = ltype.kind
    if kind is Kind.DECIMAL:
        return [_DECIMAL, _decimal_bounds(ltype)], native_type(ltype)
    return {
        Kind.INTEGER: ([_INTEGER], "BIGINT"),
        Kind.FLOAT: ([_FLOAT], "DOUBLE"),
        Kind.DATE: ([_DATE], "DATE"),
        Kind.TIMESTAMP: ([_TIMESTAMP], "TIMESTAMPTZ"),
        Kind.TIMESTAMP_TZ: ([_TIMESTAMP], "TIMESTAMPTZ"),
    }[kind]


def _decimal_bounds(ltype: LogicalType) -> str:
    """At most p-s integer digits (leading zeros aside, so '0.5' fits decimal(2,2)) and at most s
    fraction digits, so TRY_CAST never rounds: more scale is a failure, not a changed amount."""
    scale = ltype.scale or 0
    int_digits = (ltype.precision or 0) - scale
    fraction = rf"(?:\.[0-9]{{1,{scale}}})?" if scale > 0 else ""
    return rf"[+-]?0*[0-9]{{0,{int_digits}}}{fraction}"


def _boolean(trimmed: exp.Expression) -> Casted:
    lowered = exp.Lower(this=trimmed)
    is_true = exp.In(this=lowered, expressions=[sb.string(v) for v in _TRUE])
    is_false = exp.In(this=lowered, expressions=[sb.string(v) for v in _FALSE])
    value = sb.case([(is_true, exp.true()), (is_false, exp.false())])
    return Casted(value, sb.or_all([is_true, is_false]))


def _nan_to_null(value: exp.Expression) -> exp.Expression:
    return sb.case([(sb.false_when_null(sb.fn("isnan", value)), exp.Null())], value)


def _buildable(source_type: str) -> bool:
    try:
        sb.dtype(source_type)
    except Exception:  # nested or exotic types: compare them through their text form
        return False
    return "[" not in source_type and "STRUCT" not in source_type and "MAP" not in source_type


def _lossless_cast(raw: exp.Expression, source_type: str, ltype: LogicalType) -> Casted:
    """A stored value of another type is accepted only when the cast round-trips exactly
    (1.0 -> 1 is fine, 1.5 -> 2 is a failure): never a silent rounding."""
    source = _nan_to_null(raw) if source_type in ("DOUBLE", "FLOAT") else raw
    value: exp.Expression = sb.try_cast(source, native_type(ltype))
    round_trip = exp.EQ(this=sb.cast(value, source_type), expression=sb.paren(source))
    accepted = sb.and_all([sb.not_null(value), round_trip])
    ok = sb.or_all([sb.is_null(source), accepted])
    if ltype.kind is Kind.FLOAT:
        value = _nan_to_null(value)
    return Casted(sb.case([(sb.false_when_null(accepted), value)]), ok)
