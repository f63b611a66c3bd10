"""Casting source columns to logical types, exactly as docs/semantics.md documents.

Text goes through the shared text cast (meshc.engines.sql_textcast, also used by the SQL
generator); a column already stored as another type is cast losslessly, here.
"""

from __future__ import annotations

from sqlglot import exp

from meshc.engines import sql_trees as sb
from meshc.engines.sql_textcast import Casted, native_type, text_cast
from meshc.types import Kind, LogicalType


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


def _nan_to_null(value: exp.Expression) -> exp.Expression:
    # NaN is neither finite nor infinite. (Not isnan(): DuckDB 2.0 folds it to FALSE from the
    # min/max statistics of a Parquet file written by Arrow, so a stored NaN read as a number.)
    finite_or_inf = exp.Or(this=sb.fn("isfinite", value), expression=sb.fn("isinf", value))
    is_nan = exp.Not(this=sb.paren(finite_or_inf))
    return sb.case([(sb.false_when_null(is_nan), exp.Null())], value)


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
