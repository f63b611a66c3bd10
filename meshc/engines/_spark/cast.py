"""Casting to meshc logical types in Spark, exactly as docs/semantics.md specifies.

Every text cast is a regex pre-check of the documented form followed by a `try_*` conversion:
the regex decides what is accepted (so Spark's own leniency, e.g. '1.0' into decimal or
'5\\n' trimmed into an integer, never leaks), the conversion never raises under ANSI mode.
Each cast returns the typed value and an `ok` flag; a non-NULL input with `ok` False is a
cast failure. Patterns end in `\\z` because Java's `$` also matches before a final newline.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from meshc.engines import textcast as spec
from meshc.types import Kind, LogicalType


def _java(pattern: str) -> str:
    return spec.java(spec.full(pattern, end=r"\z"))


_INTEGER = _java(spec.INTEGER)
_FLOAT = _java(spec.FLOAT)
_NAN = _java(spec.FLOAT_NAN)
_DATE = _java(spec.DATE)
_TIMESTAMP = _java(spec.TIMESTAMP)
_INSTANT_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"
LONG_MIN = spec.INT64_MIN  # negating or abs() of it overflows

_SIMPLE: dict[Kind, T.DataType] = {
    Kind.STRING: T.StringType(),
    Kind.INTEGER: T.LongType(),
    Kind.FLOAT: T.DoubleType(),
    Kind.BOOLEAN: T.BooleanType(),
    Kind.DATE: T.DateType(),
    Kind.TIMESTAMP: T.TimestampNTZType(),
    Kind.TIMESTAMP_TZ: T.TimestampType(),
}


def spark_type(ltype: LogicalType) -> T.DataType:
    """The one native type every logical type maps to (timestamp_tz: Spark's instant type)."""
    if ltype.kind is Kind.DECIMAL:
        assert ltype.precision is not None and ltype.scale is not None
        return T.DecimalType(ltype.precision, ltype.scale)
    return _SIMPLE[ltype.kind]


def cast_text(raw: Column, ltype: LogicalType) -> tuple[Column, Column]:
    """(typed value, ok) for a string column; ok is True for a NULL input."""
    if ltype.kind is Kind.STRING:
        return raw, F.lit(True)
    text = F.trim(raw, F.lit(spec.TRIM_CHARS))  # ASCII spaces only, as documented
    typed, ok = _TEXT_CASTS[ltype.kind](text, ltype)
    return typed, raw.isNull() | F.coalesce(ok, F.lit(False))


def _integer(text: Column, _: LogicalType) -> tuple[Column, Column]:
    matched = text.rlike(_INTEGER)
    # overflow comes back NULL from try_cast, which `ok` turns into a failure
    typed = F.when(matched, text.try_cast(T.LongType()))
    return typed, typed.isNotNull()


def _float(text: Column, _: LogicalType) -> tuple[Column, Column]:
    is_nan = text.rlike(_NAN)  # a valid spelling of NULL; Spark's cast rejects '+nan'
    typed = F.when(text.rlike(_FLOAT), text.try_cast(T.DoubleType()))
    return F.when(~F.isnan(typed), typed), is_nan | typed.isNotNull()


def _decimal(text: Column, ltype: LogicalType) -> tuple[Column, Column]:
    assert ltype.precision is not None and ltype.scale is not None
    matched = text.rlike(_java(spec.decimal(ltype.precision, ltype.scale)))
    typed = F.when(matched, text.try_cast(spark_type(ltype)))
    return typed, typed.isNotNull()


def _boolean(text: Column, _: LogicalType) -> tuple[Column, Column]:
    lowered = F.lower(text)
    typed = F.when(lowered.isin(*spec.TRUE_TOKENS), F.lit(True)).when(
        lowered.isin(*spec.FALSE_TOKENS), F.lit(False)
    )
    return typed, typed.isNotNull()


def _date(text: Column, _: LogicalType) -> tuple[Column, Column]:
    # the parser is strict: impossible calendar dates (2023-02-29, 2024-13-45) give NULL
    typed = F.when(text.rlike(_DATE), F.try_to_date(text, "yyyy-MM-dd"))
    return typed, typed.isNotNull()


def _timestamp(text: Column, ltype: LogicalType) -> tuple[Column, Column]:
    """Every accepted spelling is rewritten to one canonical form with an offset, parsed once
    into an instant (independent of the session time zone), then made naive if asked."""

    def group(name: str, default: str) -> Column:
        value = F.regexp_extract(text, _TIMESTAMP, spec.group_index(spec.TIMESTAMP, name))
        return F.when(value == "", F.lit(default)).otherwise(value)

    offset = group("zone", "+00:00")
    canonical = F.concat(
        group("year", ""),
        F.lit("-"),
        group("month", ""),
        F.lit("-"),
        group("day", ""),
        F.lit("T"),
        group("hour", "00"),
        F.lit(":"),
        group("minute", "00"),
        F.lit(":"),
        group("second", "00"),
        F.lit("."),
        F.rpad(group("fraction", "0"), spec.FRACTION_DIGITS, "0"),
        F.when(offset == "Z", F.lit("+00:00")).otherwise(offset),
    )
    instant = F.when(text.rlike(_TIMESTAMP), F.try_to_timestamp(canonical, F.lit(_INSTANT_FORMAT)))
    typed = instant if ltype.kind is Kind.TIMESTAMP_TZ else to_naive_utc(instant)
    return typed, typed.isNotNull()


def to_naive_utc(instant: Column) -> Column:
    """An instant as its UTC wall time, without going through the session time zone."""
    epoch = F.lit("1970-01-01 00:00:00").cast(T.TimestampNTZType())
    return F.timestamp_add("MICROSECOND", F.unix_micros(instant), epoch)


def from_naive_utc(naive: Column) -> Column:
    """A naive timestamp read as UTC wall time, as an instant."""
    epoch = F.lit("1970-01-01 00:00:00").cast(T.TimestampNTZType())
    micros = F.timestamp_diff("MICROSECOND", epoch, naive)
    return F.timestamp_micros(micros)


_TEXT_CASTS = spec.text_casts(_integer, _float, _decimal, _boolean, _date, _timestamp)


def cast_column(raw: Column, source: T.DataType, ltype: LogicalType) -> tuple[Column, Column]:
    """(typed, ok) for a column of any stored type (text sources, or Parquet's own types)."""
    if isinstance(source, T.StringType):
        return cast_text(raw, ltype)
    target = spark_type(ltype)
    if ltype.kind is Kind.STRING:
        return raw.try_cast(T.StringType()), F.lit(True)
    if isinstance(source, (T.TimestampType, T.TimestampNTZType)) and ltype.kind in (
        Kind.TIMESTAMP,
        Kind.TIMESTAMP_TZ,
    ):
        return retime(raw, source, ltype), F.lit(True)
    if isinstance(source, (T.FloatType, T.DoubleType)):
        raw = F.when(~F.isnan(raw), raw)  # stored NaN is NULL, not a failure
    typed = raw.try_cast(target)
    ok = raw.isNull() | typed.isNotNull()
    if isinstance(source, T.NumericType) and ltype.is_numeric:
        # a lossless round trip, so 1.5 -> integer or 1.234 -> decimal(5,2) fail, never round
        ok = raw.isNull() | (typed.isNotNull() & (typed.try_cast(source) == raw))
    return typed, F.coalesce(ok, F.lit(False))


def retime(raw: Column, source: T.DataType, ltype: LogicalType) -> Column:
    """Stored timestamps: an instant stays an instant; a naive one is taken as UTC."""
    if isinstance(source, T.TimestampType):
        return raw if ltype.kind is Kind.TIMESTAMP_TZ else to_naive_utc(raw)
    return from_naive_utc(raw) if ltype.kind is Kind.TIMESTAMP_TZ else raw


def cast_value(operand: Column, source: LogicalType | None, target: LogicalType) -> Column:
    """The IR's CAST: a failed cast is NULL; float -> integer truncates toward zero."""
    if source is not None and source.kind is Kind.STRING:
        typed, ok = cast_text(operand, target)
        return F.when(ok, typed)
    if source is not None and source.kind is Kind.FLOAT:
        operand = F.when(~F.isnan(operand), operand)
        if target.kind is Kind.INTEGER:  # Spark clamps 2^63 to the maximum; it overflows
            operand = F.when(operand < F.lit(-float(spec.INT64_MIN)), operand)
    if source is not None and source.kind is Kind.TIMESTAMP_TZ and target.kind is Kind.TIMESTAMP:
        return to_naive_utc(operand)
    if source is not None and source.kind is Kind.TIMESTAMP and target.kind is Kind.TIMESTAMP_TZ:
        return from_naive_utc(operand)
    # Spark's double -> bigint cast truncates toward zero; try_cast makes overflow NULL
    return operand.try_cast(spark_type(target))
