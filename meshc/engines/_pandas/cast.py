"""Casting, exactly as docs/semantics.md says, with no pandas or pyarrow leniency leaking through.

Every text cast first matches the documented form with an RE2 pattern (pyarrow.compute) and only
then converts the matching values with a native kernel, so a form the spec rejects (`1.0` as an
integer, `2023-02-29` as a date, `1.234` as decimal(5,2)) can never slip through a lenient parser.
A value that does not match becomes NULL; the caller compares with the input to find failures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from meshc.engines import textcast as spec
from meshc.engines._pandas import calendar
from meshc.engines._pandas.dtypes import arrow_type, from_arrow, to_arrow, typed
from meshc.types import INTEGER, STRING, Kind, LogicalType

Arrow: TypeAlias = "pa.Array | pa.ChunkedArray"
_INT = spec.full(spec.INTEGER)
_FLOAT = spec.full(spec.FLOAT)
_NAN = spec.full(spec.FLOAT_NAN)
_DATE = spec.full(spec.DATE)
_TIMESTAMP = spec.full(spec.TIMESTAMP)
_TRUE = pa.array(spec.TRUE_TOKENS)
_FALSE = pa.array(spec.FALSE_TOKENS)
_INT64_MAX, _INT64_MIN_ABS = str(spec.INT64_MAX), str(-spec.INT64_MIN)


def cast_text(raw: pd.Series, ltype: LogicalType) -> tuple[pd.Series, np.ndarray]:
    """Text -> `ltype` by the documented forms: (values, numpy mask of cast failures). A failure
    is a non-NULL text outside the form; it and NULL come back as NULL (so does `nan` for float,
    which is accepted and read as NULL)."""
    arr = to_arrow(raw)
    if ltype.kind is Kind.STRING:
        return from_arrow(arr, Kind.STRING), np.zeros(len(raw), dtype=bool)  # byte for byte
    # one string width, so literals match it
    text = pc.utf8_trim(arr.cast(pa.string()), spec.TRIM_CHARS)
    values, accepted = _TEXT_CASTS[ltype.kind](text, ltype)
    bad = pc.and_(pc.is_valid(arr), pc.invert(pc.fill_null(accepted, False)))
    return typed(values, ltype), np.asarray(bad.to_numpy(zero_copy_only=False), dtype=bool)


def cast_stored(column: pd.Series, ltype: LogicalType) -> tuple[pd.Series, np.ndarray]:
    """A typed (parquet) column -> `ltype`: lossless native cast, else through its text form so
    the same documented forms decide (a stored 1.5 is not an integer). NaN is read as NULL."""
    arr = to_arrow(column)
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return cast_text(column, ltype)
    if pa.types.is_floating(arr.type):
        arr = _nan_to_null(arr.cast(pa.float64()))  # a stored NaN is NULL whatever the target
    try:
        converted = arr.cast(arrow_type(ltype), safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return cast_text(from_arrow(arr.cast(pa.large_string()), Kind.STRING), ltype)
    return from_arrow(converted, ltype.kind), np.zeros(len(column), dtype=bool)


# -- text forms ------------------------------------------------------------------------------------
def _keep(arr: Arrow, ok: Arrow) -> Arrow:
    """`arr` where `ok` is true, NULL elsewhere."""
    return pc.if_else(pc.fill_null(ok, False), arr, pa.scalar(None, arr.type))


def _unsigned(arr: Arrow) -> Arrow:
    return pc.replace_substring_regex(arr, r"^\+", "")  # arrow's parsers reject a leading '+'


def _integer(text: Arrow, _: LogicalType) -> tuple[Arrow, Arrow]:
    ok = pc.match_substring_regex(text, _INT)
    negative = pc.starts_with(text, "-")
    digits = pc.replace_substring_regex(text, r"^[+-]?0*", "")
    limit = pc.if_else(negative, _INT64_MIN_ABS, _INT64_MAX)
    width = pc.utf8_length(digits)
    # Same-width digit strings compare like numbers, so the 64-bit range check is exact.
    in_range = pc.or_(
        pc.less(width, 19), pc.and_(pc.equal(width, 19), pc.less_equal(digits, limit))
    )
    signed = pc.if_else(negative, pc.binary_join_element_wise("-", digits, ""), digits)
    canonical = pc.if_else(pc.equal(width, 0), "0", signed)
    accepted = pc.and_(ok, in_range)
    return _keep(canonical, accepted).cast(pa.int64()), accepted


def _float(text: Arrow, _: LogicalType) -> tuple[Arrow, Arrow]:
    number = pc.match_substring_regex(text, _FLOAT)
    nan = pc.match_substring_regex(text, _NAN)  # a valid spelling, read as NULL
    return _keep(_unsigned(text), number).cast(pa.float64()), pc.or_(number, nan)


def _nan_to_null(values: Arrow) -> Arrow:
    return pc.if_else(pc.fill_null(pc.is_nan(values), False), pa.scalar(None, pa.float64()), values)


def _decimal(text: Arrow, ltype: LogicalType) -> tuple[Arrow, Arrow]:
    precision, scale = ltype.precision or 38, ltype.scale or 0
    ok = pc.match_substring_regex(text, spec.full(spec.decimal(precision, scale)))
    return _keep(_unsigned(text), ok).cast(pa.decimal128(precision, scale)), ok


def _boolean(text: Arrow, _: LogicalType) -> tuple[Arrow, Arrow]:
    lowered = pc.utf8_lower(text)
    is_true, is_false = pc.is_in(lowered, _TRUE), pc.is_in(lowered, _FALSE)
    accepted = pc.or_(is_true, is_false)
    return _keep(is_true, accepted), accepted


def _field(parts: Arrow, name: str) -> np.ndarray:
    """One regex group as int64 numpy (0 for unmatched or absent optional groups)."""
    text = pc.fill_null(pc.struct_field(parts, name), "")
    text = pc.if_else(pc.equal(text, ""), "0", text)
    return np.asarray(text.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _date_parts(parts: Arrow) -> tuple[np.ndarray, np.ndarray]:
    """(days since epoch, valid mask) from the y/m/d groups of a match."""
    matched = np.asarray(pc.is_valid(parts).to_numpy(zero_copy_only=False), dtype=bool)
    y, m, d = _field(parts, "year"), _field(parts, "month"), _field(parts, "day")
    ok = matched & calendar.valid_date(y, m, d)
    days = calendar.days_from_civil(np.where(ok, y, 1970), np.where(ok, m, 1), np.where(ok, d, 1))
    return days, ok


def _date(text: Arrow, _: LogicalType) -> tuple[Arrow, Arrow]:
    days, ok = _date_parts(pc.extract_regex(text, _DATE))
    values = pa.array(days.astype(np.int32), type=pa.int32(), mask=~ok).cast(pa.date32())
    return values, pa.array(ok)


def _timestamp(text: Arrow, ltype: LogicalType) -> tuple[Arrow, Arrow]:
    parts = pc.extract_regex(text, _TIMESTAMP)  # the pattern bounds every clock field
    days, ok = _date_parts(parts)
    hour, minute, second = _field(parts, "hour"), _field(parts, "minute"), _field(parts, "second")
    digits = spec.FRACTION_DIGITS
    frac_text = pc.utf8_rpad(pc.fill_null(pc.struct_field(parts, "fraction"), ""), digits, "0")
    micros = np.asarray(frac_text.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
    zone_h, zone_m = _field(parts, "zonehour"), _field(parts, "zoneminute")
    zone_sign = pc.fill_null(pc.struct_field(parts, "zonesign"), "")
    sign = np.where(np.asarray(zone_sign.to_numpy(zero_copy_only=False)) == "-", -1, 1)
    offset_us = sign * (zone_h * 60 + zone_m) * 60_000_000  # local = UTC + offset
    total = (
        days * calendar.US_PER_DAY
        + hour * 3_600_000_000
        + minute * 60_000_000
        + second * 1_000_000
        + micros
        - offset_us
    )
    values = pa.array(np.where(ok, total, 0), type=pa.int64(), mask=~ok).cast(arrow_type(ltype))
    return values, pa.array(ok)


_TEXT_CASTS = spec.text_casts(_integer, _float, _decimal, _boolean, _date, _timestamp)


# -- CAST(x AS type) inside rules ------------------------------------------------------------------
def _to_string(series: pd.Series, source: LogicalType) -> pd.Series:
    return from_arrow(to_arrow(series).cast(pa.large_string()), Kind.STRING)


def _via_text(series: pd.Series, target: LogicalType) -> pd.Series:
    return cast_text(_to_string(series, STRING), target)[0]


def _float_to_integer(series: pd.Series, _: LogicalType) -> pd.Series:
    values = series.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    # [-2^63, 2^63): every double in it truncates into signed 64-bit, -2^63 included
    ok = np.isfinite(values) & (values >= -(2.0**63)) & (values < 2.0**63)
    truncated = np.trunc(np.where(ok, values, 0.0)).astype(np.int64)  # toward zero, per the spec
    return pd.Series(pd.arrays.IntegerArray(truncated, ~ok))


def _decimal_to_integer(series: pd.Series, _: LogicalType) -> pd.Series:
    text = pc.replace_substring_regex(to_arrow(series).cast(pa.large_string()), r"\..*$", "")
    # Cutting the fraction off the text truncates exactly; overflow is NULL like any failed cast.
    return cast_text(from_arrow(text, Kind.STRING), INTEGER)[0]


def _round_to_decimal(series: pd.Series, target: LogicalType) -> pd.Series:
    rounded = pc.round(to_arrow(series), target.scale or 0, round_mode="half_towards_infinity")
    return _via_text(
        from_arrow(rounded, Kind.FLOAT if pa.types.is_floating(rounded.type) else Kind.DECIMAL),
        target,
    )


def _native(series: pd.Series, target: LogicalType) -> pd.Series:
    return typed(to_arrow(series), target)


def _to_float(series: pd.Series, _: LogicalType) -> pd.Series:
    return from_arrow(to_arrow(series).cast(pa.float64(), safe=False), Kind.FLOAT)


def _boolean_to_integer(series: pd.Series, _: LogicalType) -> pd.Series:
    return series.astype("Int64")


def _number_to_boolean(series: pd.Series, _: LogicalType) -> pd.Series:
    return (series != 0).astype("boolean")


_N, _T = (Kind.INTEGER, Kind.FLOAT, Kind.DECIMAL), (Kind.DATE, Kind.TIMESTAMP, Kind.TIMESTAMP_TZ)
RULE_CASTS: dict[tuple[Kind, Kind], Callable[[pd.Series, LogicalType], pd.Series]] = {
    **{(k, Kind.STRING): _to_string for k in Kind},
    **{(Kind.STRING, k): lambda s, t: cast_text(s, t)[0] for k in Kind},
    (Kind.FLOAT, Kind.INTEGER): _float_to_integer,
    (Kind.DECIMAL, Kind.INTEGER): _decimal_to_integer,
    (Kind.INTEGER, Kind.FLOAT): _to_float,
    (Kind.DECIMAL, Kind.FLOAT): _to_float,
    (Kind.INTEGER, Kind.DECIMAL): _via_text,
    (Kind.FLOAT, Kind.DECIMAL): _round_to_decimal,
    (Kind.DECIMAL, Kind.DECIMAL): _round_to_decimal,
    (Kind.BOOLEAN, Kind.INTEGER): _boolean_to_integer,
    (Kind.INTEGER, Kind.BOOLEAN): _number_to_boolean,
    **{(a, b): _native for a in _T for b in _T},
    **{(k, k): lambda s, t: s for k in Kind if k is not Kind.DECIMAL},
}
