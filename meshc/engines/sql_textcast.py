"""Text -> logical type as SQL trees, exactly as docs/semantics.md documents (public module).

DuckDB's TRY_CAST is more lenient than the spec (it reads '1.0' and '1e3' as BIGINT, ' 5' with
spaces, '2024-1-5' as a date, '24:00' as a time, and rounds '1.234' into DECIMAL(10,2)). So every
text cast is a RE2 `regexp_full_match` pre-check of the documented form first, and TRY_CAST only
decides what the form cannot (64-bit range, real calendar dates). A cast yields `value` (NULL when
the text is not accepted) and `ok` (FALSE for a non-NULL input that is a cast failure). The trees
are spelled in DuckDB's dialect; the SQL generator (meshc.engines.sql_generator) localises them for
other dialects, and the DuckDB engine's column casts (meshc/engines/_duckdb/cast.py) build on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from meshc.engines import sql_trees as sb
from meshc.engines import textcast as spec
from meshc.types import Kind, LogicalType


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


def text_cast(text: exp.Expression, ltype: LogicalType) -> Casted:
    """Text -> logical type by the documented forms (ASCII spaces trimmed, except for string)."""
    if ltype.kind is Kind.STRING:
        return Casted(text, exp.true())
    trimmed = exp.Trim(this=text, expression=sb.string(spec.TRIM_CHARS))
    if ltype.kind is Kind.BOOLEAN:
        return _boolean(trimmed)
    pattern, native = _form(ltype)
    readable: exp.Expression = trimmed
    if ltype.kind in (Kind.TIMESTAMP, Kind.TIMESTAMP_TZ):
        # DuckDB cannot read an offset right after a date ('2024-01-05Z'): midnight goes between
        readable = sb.fn(
            "regexp_replace", trimmed, sb.string(spec.DATE_THEN_OFFSET), sb.string(r"\1T00:00\2")
        )
    value: exp.Expression = sb.try_cast(readable, native)
    # no named groups: DuckDB does not need them and the Spark SQL emitter reuses this tree
    match = sb.fn("regexp_full_match", trimmed, sb.string(spec.plain(pattern)))
    accepted = sb.and_all([match, sb.not_null(value)])
    if ltype.kind is Kind.TIMESTAMP:  # read as an instant (offsets applied), then drop the zone
        value = sb.cast(value, "TIMESTAMP")
    if ltype.kind is Kind.FLOAT:  # NaN, signed or not, is a valid spelling read as NULL
        nan = sb.fn("regexp_full_match", trimmed, sb.string(spec.FLOAT_NAN))
        return Casted(sb.case([(accepted, value)]), sb.or_all([accepted, nan]))
    return Casted(sb.case([(accepted, value)]), accepted)


def _form(ltype: LogicalType) -> tuple[str, str]:
    """(the regex the text must fully match, the DuckDB type TRY_CAST reads it into)."""
    kind = ltype.kind
    if kind is Kind.DECIMAL:
        assert ltype.precision is not None and ltype.scale is not None
        return spec.decimal(ltype.precision, ltype.scale), native_type(ltype)
    return {
        Kind.INTEGER: (spec.INTEGER, "BIGINT"),
        Kind.FLOAT: (spec.FLOAT, "DOUBLE"),
        Kind.DATE: (spec.DATE, "DATE"),
        Kind.TIMESTAMP: (spec.TIMESTAMP, "TIMESTAMPTZ"),
        Kind.TIMESTAMP_TZ: (spec.TIMESTAMP, "TIMESTAMPTZ"),
    }[kind]


def _boolean(trimmed: exp.Expression) -> Casted:
    lowered = exp.Lower(this=trimmed)
    is_true = exp.In(this=lowered, expressions=[sb.string(v) for v in spec.TRUE_TOKENS])
    is_false = exp.In(this=lowered, expressions=[sb.string(v) for v in spec.FALSE_TOKENS])
    value = sb.case([(is_true, exp.true()), (is_false, exp.false())])
    return Casted(value, sb.or_all([is_true, is_false]))
