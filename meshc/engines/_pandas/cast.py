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

from meshc.engines._pandas import calendar
from meshc.engines._pandas.dtypes import arrow_type, from_arrow, to_arrow, typed
from meshc.types import INTEGER, STRING, Kind, LogicalType

Arrow: TypeAlias = "pa.Array | pa.ChunkedArray"
_INT = r"^[+-]?[0-9]+$"
_FLOAT = r"(?i)^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?|inf|infinity|nan)$"
_DATE = r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})"
_TIME = r"(?:[T ](?P<H>[0-9]{2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:\.(?P<f>[0-9]{1,6}))?)?)?"
_ZONE = r"(?:Z|(?P<zs>[+-])(?P<zh>[0-9]{2}):(?P<zm>[0-9]{2}))?$"
_TRUE = pa.array(["true", "t", "yes", "1"])
_FALSE = pa.array(["false", "f", "no", "0"])
_INT64_MAX, _INT64_MIN_ABS = "9223372036854775807", "9223372036854775808"


def cast_text(raw: pd.Series, ltype: LogicalType) -> tuple[pd.Series, np.ndarray]:
    """Text -> `ltype` by the documented forms: (values, numpy mask of cast failures). A failure
    is a non-NULL text outside the form; it and NULL come back as NULL (so does `nan` for float,
    which is accepted and read as NULL)."""
    arr = to_arrow(raw)
    if ltype.kind is Kind.STRING:
        return from_arrow(arr, Kind.STRING), np.zeros(len(raw), dtype=bool)  # byte for byte
    text = pc.utf8_trim(arr.cast(pa.string()), " ")  # one string width, so literals match it
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
    accepted = pc.match_substring_regex(text, _FLOAT)
    return _nan_to_null(_keep(_unsigned(text), accepted).cast(pa.float64())), accepted


def _nan_to_null(values: Arrow) -> Arrow:
    return pc.if_else(pc.fill_null(pc.is_nan(values), False), pa.scalar(None, pa.float64()), values)


def _decimal(text: Arrow, ltype: LogicalType) -> tuple[Arrow, Arrow]:
    precision, scale = ltype.precision or 38, ltype.scale or 0
    whole = precision - scale
    integer = rf"(?:0*[1-9][0-9]{{0,{whole - 1}}}|0+)" if whole > 0 else "0+"
    fraction = rf"(?:\.[0-9]{{1,{scale}}})?" if scale > 0 else ""
    ok = pc.match_substring_regex(text, rf"^[+-]?{integer}{fraction}$")
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
    y, m, d = _field(parts, "y"), _field(parts, "m"), _field(parts, "d")
    ok = matched & calendar.valid_date(y, m, d)
    days = calendar.days_from_civil(np.where(ok, y, 1970), np.where(ok, m, 1), np.where(ok, d, 1))
    return days, ok


def _date(text: Arrow, _: LogicalType) -> tuple[Arrow, Arrow]:
    days, ok = _date_parts(pc.extract_regex(text, _DATE + "$"))
    values = pa.array(days.astype(np.int32), type=pa.int32(), mask=~ok).cast(pa.date32())
    return values, pa.array(ok)


def _timestamp(text: Arrow, ltype: LogicalType) -> tuple[Arrow, Arrow]:
    parts = pc.extract_regex(text, _DATE + _TIME + _ZONE)
    days, ok = _date_parts(parts)
    hour, minute, second = _field(parts, "H"), _field(parts, "M"), _field(parts, "S")
    frac_text = pc.utf8_rpad(pc.fill_null(pc.struct_field(parts, "f"), ""), 6, "0")
    micros = np.asarray(frac_text.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
    zone_h, zone_m = _field(parts, "zh"), _field(parts, "zm")
    sign = np.where(
        np.asarray(pc.fill_null(pc.struct_field(parts, "zs"), "").to_numpy(zero_copy_only=False))
        == "-",
        -1,
        1,
    )
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59) & (zone_h <= 23) & (zone_m <= 59)
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


_TEXT_CASTS: dict[Kind, Callable[[Arrow, LogicalType], tuple[Arrow, Arrow]]] = {
    Kind.INTEGER: _integer,
    Kind.FLOAT: _float,
    Kind.DECIMAL: _decimal,
    Kind.BOOLEAN: _boolean,
    Kind.DATE: _date,
    Kind.TIMESTAMP: _timestamp,
    Kind.TIMESTAMP_TZ: _timestamp,
}


# -- CAST(x AS type) inside rules ------------------------------------------------------------------
def _to_string(series: pd.Series, source: LogicalType) -> pd.Series:
    return from_arrow(to_arrow(series).cast(pa.large_string()), Kind.STRING)


def _via_text(series: pd.Series, target: LogicalType) -> pd.Series:
    return cast_text(_to_string(series, STRING), target)[0]


def _float_to_integer(series: pd.Series, _: LogicalType) -> pd.Series:
    values = series.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    ok = np.isfinite(values) & (np.abs(values) < 2.0**63)
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
