"""meshc IR -> pyspark Column expressions, one small function per node class.

Built only with `pyspark.sql.functions` (never by pasting rule text into `F.expr`). Spark already
gives SQL three-valued logic, NULL-propagating comparisons, SQL `IN` semantics and a NULL
`concat` on any NULL argument. What differs from meshc semantics is handled here: ANSI mode
raises on overflow and division by zero (so arithmetic goes through `try_*` functions or
guards), and Java regex `$` / `.` treat more characters as line ends than the other engines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from functools import reduce
from typing import Any

from pyspark.sql import Column, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from meshc.engines import spec
from meshc.engines._spark.cast import LONG_MIN, cast_value, spark_type
from meshc.rules import expr as ir
from meshc.rules.regex import java_pattern
from meshc.types import Kind, LogicalType

ColumnResolver = Callable[[str], Column]
Handler = Callable[["Translator", Any], Column]

ENGINE = "spark"
_TIME_UNITS = {
    "hour": "HOUR",
    "minute": "MINUTE",
    "second": "SECOND",
    "day": "DAY",
    "month": "MONTH",
    "year": "YEAR",
}


def quote(name: str) -> Column:
    """A column by its exact name (dots and spaces are not struct paths here)."""
    return F.col("`" + name.replace("`", "``") + "`")


class Translator:
    """Translates IR trees; `column` maps a column name to the Column holding it (the typed
    column during validation, a plain `F.col` for aggregates)."""

    def __init__(self, column: ColumnResolver | None = None) -> None:
        self.column: ColumnResolver = column or quote

    def __call__(self, node: ir.Expr) -> Column:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            raise spec.no_handler(node, ENGINE)
        return handler(self, node)


def _col(t: Translator, node: ir.Col) -> Column:
    return t.column(node.name)


def literal(value: Any, ltype: LogicalType | None) -> Column:
    """A typed literal. Temporal and decimal values go through their text form: pyspark would
    read a naive datetime in the Python process's local zone, and a Decimal as decimal(38,18)."""
    if value is None:
        return F.lit(None).cast(spark_type(ltype)) if ltype else F.lit(None)
    if isinstance(value, dt.datetime):
        return _timestamp_literal(value, ltype)
    if isinstance(value, dt.date):
        return F.lit(value.isoformat()).cast(T.DateType())
    if isinstance(value, Decimal):
        # the literal keeps its own scale: min 1.005 on a decimal(10,2) must not round to 1.01
        digits = value.as_tuple()
        scale = max(-int(digits.exponent), 0)
        precision = min(max(len(digits.digits) + max(int(digits.exponent), 0), scale, 1), 38)
        return F.lit(str(value)).cast(T.DecimalType(precision, scale))
    if isinstance(value, bool) or ltype is None:
        return F.lit(value)
    if isinstance(value, int) and ltype.kind is Kind.INTEGER:
        return F.lit(value).cast(T.LongType())
    if isinstance(value, float) and ltype.kind is Kind.FLOAT:
        return F.lit(value).cast(T.DoubleType())
    return F.lit(value)


def _timestamp_literal(value: dt.datetime, ltype: LogicalType | None) -> Column:
    """An aware value is an instant (naive targets get its UTC wall time); a naive value is a
    UTC wall time (an instant target reads it as UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    text = value.isoformat(sep=" ")
    if ltype is None or ltype.kind is Kind.TIMESTAMP_TZ:
        return F.lit(f"{text}+00:00").cast(T.TimestampType())
    return F.lit(text).cast(T.TimestampNTZType())


def _lit(_: Translator, node: ir.Lit) -> Column:
    return literal(node.value, node.ltype)


def _compare(t: Translator, node: ir.Compare) -> Column:
    return spec.COMPARISONS[node.op](t(node.left), t(node.right))


def _and(t: Translator, node: ir.And) -> Column:
    return t(node.left) & t(node.right)


def _or(t: Translator, node: ir.Or) -> Column:
    return t(node.left) | t(node.right)


def _not(t: Translator, node: ir.Not) -> Column:
    return ~t(node.operand)


def _is_null(t: Translator, node: ir.IsNull) -> Column:
    operand = t(node.operand)
    return operand.isNotNull() if node.negated else operand.isNull()


def _in_list(t: Translator, node: ir.InList) -> Column:
    # Spark's IN is SQL's: x IN (.., NULL) is NULL rather than FALSE when nothing matches
    found = t(node.operand).isin(*[t(v) for v in node.values])
    return ~found if node.negated else found


def _between(t: Translator, node: ir.Between) -> Column:
    operand = t(node.operand)
    inside = (operand >= t(node.low)) & (operand <= t(node.high))
    return ~inside if node.negated else inside


def _regex_search(t: Translator, node: ir.RegexSearch) -> Column:
    # rlike is a search (Matcher.find), the pattern goes in as a literal, never through SQL text
    return t(node.operand).rlike(java_pattern(node.pattern, node.case_insensitive))


def _arith(t: Translator, node: ir.Arith) -> Column:
    left, right = t(node.left), t(node.right)
    if node.op == "/":
        if node.ltype.kind is Kind.FLOAT:
            left, right = left.cast(T.DoubleType()), right.cast(T.DoubleType())
        # try_divide: x / 0 is NULL (ANSI mode would raise), also for doubles
        result = F.try_divide(left, right)
    elif node.op == "%":
        result = F.try_mod(left, right)  # the dividend's sign, as in SQL; x % 0 is NULL
    elif node.op == "+":
        result = F.try_add(left, right)
    elif node.op == "-":
        result = F.try_subtract(left, right)
    else:
        result = F.try_multiply(left, right)
    return result.try_cast(spark_type(node.ltype))


def _neg(t: Translator, node: ir.Neg) -> Column:
    operand = t(node.operand)
    if node.type is not None and node.type.kind is Kind.INTEGER:
        return F.when(operand != F.lit(LONG_MIN), -operand)  # -MIN overflows: NULL
    return -operand


def _case(t: Translator, node: ir.Case) -> Column:
    (first_cond, first_value), *rest = node.whens
    chain = F.when(t(first_cond), t(first_value))
    for cond, value in rest:
        chain = chain.when(t(cond), t(value))
    return chain.otherwise(t(node.default))


def _coalesce(t: Translator, node: ir.Coalesce) -> Column:
    return F.coalesce(*[t(a) for a in node.args])


def _cast(t: Translator, node: ir.Cast) -> Column:
    return cast_value(t(node.operand), node.operand.type, node.to)


def _str_fn(t: Translator, node: ir.StrFn) -> Column:
    operand = t(node.operand)
    if node.fn == "length":
        return F.char_length(operand).cast(T.LongType())
    if node.fn == "upper":
        return F.upper(operand)
    if node.fn == "lower":
        return F.lower(operand)
    if node.fn == "trim":
        return F.trim(operand, F.lit(" "))
    if node.fn == "abs":
        if node.type is not None and node.type.kind is Kind.INTEGER:
            return F.when(operand != F.lit(LONG_MIN), F.abs(operand))  # |MIN| overflows
        return F.abs(operand)
    raise spec.unsupported(f"function {node.fn}", ENGINE)


def _substring(t: Translator, node: ir.Substring) -> Column:
    operand = t(node.operand)
    if node.length is None:
        return F.substr(operand, F.lit(node.start))
    return F.substr(operand, F.lit(node.start), F.lit(max(node.length, 0)))


def _concat(t: Translator, node: ir.Concat) -> Column:
    return F.concat(*[t(a) for a in node.args])


def _date_add(t: Translator, node: ir.DateAdd) -> Column:
    operand = t(node.operand)
    is_date = node.operand.type is not None and node.operand.type.kind is Kind.DATE
    if is_date and node.unit == "day":
        return F.date_add(operand, node.amount)
    if is_date and node.unit in ("month", "year"):
        months = node.amount * (12 if node.unit == "year" else 1)
        return F.add_months(operand, months)  # clamps: 2024-01-31 + 1 month = 2024-02-29
    # timestampadd clamps months to the month end too, and keeps NTZ / instant types
    return F.timestamp_add(_TIME_UNITS[node.unit], F.lit(node.amount), operand)


def _date_diff_days(t: Translator, node: ir.DateDiffDays) -> Column:
    return F.datediff(t(node.left), t(node.right)).cast(T.LongType())


def _is_duplicate(t: Translator, node: ir.IsDuplicate) -> Column:
    keys = [t(c) for c in node.columns]
    has_null = reduce(lambda a, b: a | b, [k.isNull() for k in keys])
    repeated = F.count(F.lit(1)).over(Window.partitionBy(*keys)) > 1
    return F.when(has_null, F.lit(False)).otherwise(repeated)


def _agg(t: Translator, node: ir.Agg) -> Column:
    if node.fn == "count_all":
        return F.count(F.lit(1)).cast(T.LongType())
    assert node.operand is not None
    operand = t(node.operand)
    if node.fn == "count":
        return F.count(operand).cast(T.LongType())
    if node.fn == "count_distinct":
        return F.count_distinct(operand).cast(T.LongType())
    if node.fn == "sum":
        return F.try_sum(operand)  # NULL on overflow instead of an ANSI error
    if node.fn == "avg":
        return F.avg(operand.cast(T.DoubleType()))
    if node.fn == "min":
        return F.min(operand)
    if node.fn == "max":
        return F.max(operand)
    raise spec.unsupported(f"aggregate {node.fn}", ENGINE)


# one function per node class, found by name: `_in_list` translates `InList`
_HANDLERS: dict[type[ir.Expr], Handler] = spec.handlers(globals())


def translate(node: ir.Expr, column: ColumnResolver | None = None) -> Column:
    """One IR tree as a Spark Column."""
    return Translator(column)(node)
