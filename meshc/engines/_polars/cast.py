"""Casting to meshc logical types in Polars, exactly as docs/semantics.md specifies.

Every text cast is a regex pre-check of the documented form followed by a non-strict native
cast: the regex decides what is accepted (so Polars' own leniency, e.g. rounding '1.234' into
decimal(5,2), never leaks), the native cast only converts. Each cast returns the typed value
and an `ok` flag; a non-NULL input with `ok` False is a cast failure.
"""

from __future__ import annotations

import polars as pl

from meshc.engines import textcast as spec
from meshc.types import Kind, LogicalType

_INTEGER = spec.full(spec.INTEGER)
_FLOAT = spec.full(spec.FLOAT)
_NAN = spec.full(spec.FLOAT_NAN)
_DATE = spec.full(spec.DATE)
_TIMESTAMP = spec.full(spec.TIMESTAMP)
_BOOLEANS = {**dict.fromkeys(spec.TRUE_TOKENS, True), **dict.fromkeys(spec.FALSE_TOKENS, False)}

UTC = "UTC"


def polars_dtype(ltype: LogicalType) -> pl.DataType:
    """The one native type every logical type maps to."""
    kind = ltype.kind
    if kind is Kind.DECIMAL:
        assert ltype.precision is not None and ltype.scale is not None
        return pl.Decimal(ltype.precision, ltype.scale)
    if kind is Kind.TIMESTAMP:
        return pl.Datetime("us")
    if kind is Kind.TIMESTAMP_TZ:
        return pl.Datetime("us", UTC)
    return _SIMPLE[kind]


_SIMPLE: dict[Kind, pl.DataType] = {
    Kind.STRING: pl.String(),
    Kind.INTEGER: pl.Int64(),
    Kind.FLOAT: pl.Float64(),
    Kind.BOOLEAN: pl.Boolean(),
    Kind.DATE: pl.Date(),
}


def cast_text(raw: pl.Expr, ltype: LogicalType) -> tuple[pl.Expr, pl.Expr]:
    """(typed value, ok) for a String expression; ok is NULL-safe (True for NULL input)."""
    if ltype.kind is Kind.STRING:
        return raw, pl.lit(True)
    text = raw.str.strip_chars(spec.TRIM_CHARS)
    typed, matched = _TEXT_CASTS[ltype.kind](text, ltype)
    ok = raw.is_null() | (matched.fill_null(False) & typed.is_not_null())
    if ltype.kind is Kind.FLOAT:  # NaN, signed or not, is a valid float spelling read as NULL
        ok = ok | text.str.contains(_NAN).fill_null(False)
    return typed, ok


def _integer(text: pl.Expr, _: LogicalType) -> tuple[pl.Expr, pl.Expr]:
    matched = text.str.contains(_INTEGER)
    # overflow comes back NULL from the non-strict cast, which `ok` turns into a failure
    return pl.when(matched).then(text.cast(pl.Int64, strict=False)), matched


def _float(text: pl.Expr, _: LogicalType) -> tuple[pl.Expr, pl.Expr]:
    matched = text.str.contains(_FLOAT)
    return pl.when(matched).then(text.cast(pl.Float64, strict=False)), matched


def _decimal(text: pl.Expr, ltype: LogicalType) -> tuple[pl.Expr, pl.Expr]:
    assert ltype.precision is not None and ltype.scale is not None
    matched = text.str.contains(spec.full(spec.decimal(ltype.precision, ltype.scale)))
    return pl.when(matched).then(text.cast(polars_dtype(ltype), strict=False)), matched


def _boolean(text: pl.Expr, _: LogicalType) -> tuple[pl.Expr, pl.Expr]:
    typed = text.str.to_lowercase().replace_strict(_BOOLEANS, default=None, return_dtype=pl.Boolean)
    return typed, typed.is_not_null()


def _date(text: pl.Expr, _: LogicalType) -> tuple[pl.Expr, pl.Expr]:
    matched = text.str.contains(_DATE)
    # strptime rejects impossible calendar dates (2023-02-29, 2024-13-45) as NULL
    return pl.when(matched).then(text.str.strptime(pl.Date, "%Y-%m-%d", strict=False)), matched


def _timestamp(text: pl.Expr, ltype: LogicalType) -> tuple[pl.Expr, pl.Expr]:
    """The regex decides the form; a few exact formats parse it. Rewriting every spelling into
    one canonical string first was 10x slower (the parse then misses Polars' fast path)."""
    matched = text.str.contains(_TIMESTAMP)
    # 'YYYY-MM-DD HH:MM' -> 'T'; a date with an offset but no time gets midnight
    canonical = text.str.replace(" ", "T", literal=True).str.replace(
        _DATE_WITH_OFFSET, "${1}T00:00${2}"
    )
    utc = pl.Datetime("us", UTC)
    attempts = [canonical.str.strptime(utc, fmt, strict=False) for fmt in _TIMESTAMP_FORMATS]
    attempts.append(text.str.strptime(pl.Date, "%Y-%m-%d", strict=False).cast(utc))
    # formats without an offset read as UTC; %#z takes 'Z' and '+HH:MM' and converts to UTC
    instant = pl.when(matched).then(pl.coalesce(attempts))
    typed = instant if ltype.kind is Kind.TIMESTAMP_TZ else instant.dt.replace_time_zone(None)
    return typed, matched


_DATE_WITH_OFFSET = spec.DATE_THEN_OFFSET
# %.f also takes no fraction at all; more than 6 digits never get here (the regex rejects them)
_TIMESTAMP_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M%#z",
    "%Y-%m-%dT%H:%M",
)


_TEXT_CASTS = spec.text_casts(_integer, _float, _decimal, _boolean, _date, _timestamp)


def cast_column(raw: pl.Expr, source: pl.DataType, ltype: LogicalType) -> tuple[pl.Expr, pl.Expr]:
    """(typed, ok) for a column of any stored type (text sources, or Parquet's own types)."""
    if source == pl.String:
        return cast_text(raw, ltype)
    if ltype.kind is Kind.STRING:
        return raw.cast(pl.String), pl.lit(True)
    if isinstance(source, pl.Datetime) and ltype.kind in (Kind.TIMESTAMP, Kind.TIMESTAMP_TZ):
        return _retime(raw, source, ltype), pl.lit(True)
    if source.is_float():
        raw = raw.fill_nan(None)  # stored NaN is NULL, not a failure
    target = polars_dtype(ltype)
    typed = raw.cast(target, strict=False)
    ok = raw.is_null() | typed.is_not_null()
    if source.is_numeric() and ltype.is_numeric:
        # a lossless round trip, so 1.5 -> integer or 1.234 -> decimal(5,2) fail, never round
        ok = raw.is_null() | (typed.is_not_null() & (typed.cast(source, strict=False) == raw))
    return typed, ok


def _retime(raw: pl.Expr, source: pl.Datetime, ltype: LogicalType) -> pl.Expr:
    """Stored timestamps: an aware value is normalised to UTC; a naive one is taken as UTC."""
    value = raw.dt.cast_time_unit("us")
    if source.time_zone is not None:
        value = value.dt.convert_time_zone(UTC)
    elif ltype.kind is Kind.TIMESTAMP_TZ:
        value = value.dt.replace_time_zone(UTC)
    if ltype.kind is Kind.TIMESTAMP and source.time_zone is not None:
        value = value.dt.replace_time_zone(None)
    return value


def cast_value(operand: pl.Expr, source: LogicalType | None, target: LogicalType) -> pl.Expr:
    """The IR's CAST: a failed cast is NULL; float -> integer truncates toward zero."""
    if source is not None and source.kind is Kind.STRING:
        typed, ok = cast_text(operand, target)
        return pl.when(ok).then(typed)
    if source is not None and source.kind is Kind.FLOAT and target.kind is Kind.INTEGER:
        # Polars truncates toward zero already; NaN/inf/overflow become NULL (non-strict)
        return operand.cast(pl.Int64, strict=False)
    return operand.cast(polars_dtype(target), strict=False)
