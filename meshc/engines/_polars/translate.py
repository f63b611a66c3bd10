"""meshc IR -> Polars expressions, one small function per node class.

Polars already gives SQL's three-valued (Kleene) logic for `&`, `|` and `~`, and NULL for a
comparison with NULL; the places where it differs from meshc semantics are handled here:
`/` and `%` by zero (infinity or an error in Polars -> NULL), `%` sign (Polars floors, SQL
truncates), `IN` lists holding NULL, and empty SUMs (0 in Polars, NULL in SQL).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import reduce
from typing import Any

import polars as pl

from meshc.engines import spec
from meshc.engines._polars.cast import cast_value, polars_dtype
from meshc.rules import expr as ir
from meshc.rules.typecheck import decimal_operands
from meshc.types import Kind

ColumnResolver = Callable[[str], pl.Expr]
Handler = Callable[["Translator", Any], pl.Expr]

ENGINE = "polars"
MAX_DECIMAL_DIGITS = 38
_DURATION_SUFFIX = {
    "year": "y",
    "month": "mo",
    "day": "d",
    "hour": "h",
    "minute": "m",
    "second": "s",
}


class Translator:
    """Translates IR trees; `column` maps a column name to the Polars expression holding it
    (the typed column during validation, a plain `pl.col` for aggregates)."""

    def __init__(self, column: ColumnResolver | None = None) -> None:
        self.column: ColumnResolver = column or pl.col

    def __call__(self, node: ir.Expr) -> pl.Expr:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            raise spec.no_handler(node, ENGINE)
        return handler(self, node)


def _col(t: Translator, node: ir.Col) -> pl.Expr:
    return t.column(node.name)


def _lit(_: Translator, node: ir.Lit) -> pl.Expr:
    if node.value is None:
        return pl.lit(None, polars_dtype(node.ltype) if node.ltype else None)
    if isinstance(node.value, Decimal):
        # the literal keeps its own scale: min 1.005 on a decimal(10,2) must not round to 1.01
        return pl.lit(node.value)
    if node.ltype is None or node.ltype.kind is Kind.DECIMAL:
        return pl.lit(node.value)
    return pl.lit(node.value, polars_dtype(node.ltype))


def _compare(t: Translator, node: ir.Compare) -> pl.Expr:
    return spec.COMPARISONS[node.op](t(node.left), t(node.right))


def _and(t: Translator, node: ir.And) -> pl.Expr:
    return t(node.left) & t(node.right)


def _or(t: Translator, node: ir.Or) -> pl.Expr:
    return t(node.left) | t(node.right)


def _not(t: Translator, node: ir.Not) -> pl.Expr:
    return ~t(node.operand)


def _is_null(t: Translator, node: ir.IsNull) -> pl.Expr:
    operand = t(node.operand)
    return operand.is_not_null() if node.negated else operand.is_null()


def _in_list(t: Translator, node: ir.InList) -> pl.Expr:
    operand = t(node.operand)
    values = [v.value for v in node.values if isinstance(v, ir.Lit)]
    same_type = all(v.type == node.operand.type for v in node.values)  # else 0.5 would become 0
    if (
        same_type
        and len(values) == len(node.values)
        and None not in values
        and not any(isinstance(v, Decimal) for v in values)
    ):
        found = operand.is_in(_as_list(values, operand_dtype(node.operand)))
    else:
        # x IN (.., NULL) is NULL rather than FALSE when nothing matches: OR of equalities
        found = reduce(lambda a, b: a | b, (operand == t(v) for v in node.values))
    return ~found if node.negated else found


def _as_list(values: list[Any], dtype: pl.DataType | None) -> pl.Expr:
    """A list literal for is_in (a bare Series is deprecated as ambiguous in Polars 2)."""
    return pl.lit(pl.Series(values, dtype=dtype, strict=False)).implode()


def operand_dtype(node: ir.Expr) -> pl.DataType | None:
    return polars_dtype(node.type) if node.type is not None else None


def _between(t: Translator, node: ir.Between) -> pl.Expr:
    operand = t(node.operand)
    inside = (operand >= t(node.low)) & (operand <= t(node.high))
    return ~inside if node.negated else inside


def _regex_search(t: Translator, node: ir.RegexSearch) -> pl.Expr:
    pattern = f"(?i){node.pattern}" if node.case_insensitive else node.pattern
    return t(node.operand).str.contains(pattern, literal=False, strict=True)


def _arith(t: Translator, node: ir.Arith) -> pl.Expr:
    left, right = t(node.left), t(node.right)
    if node.op in "/%":
        # x / 0 and x % 0 are NULL; masking the divisor first also avoids Polars' decimal
        # division-by-zero error
        right = pl.when(right != 0).then(right)
    if node.op == "/":
        return left.cast(pl.Float64) / right.cast(pl.Float64)
    integer = node.ltype.kind is Kind.INTEGER
    if integer:  # exact in 128 bits, then NULL outside 64 (Polars' Int64 would wrap)
        left, right = left.cast(pl.Int128), right.cast(pl.Int128)
    elif node.ltype.kind is Kind.DECIMAL and node.op in "+-*":
        fits = _decimal_fits(node.op, left, right, node.ltype.scale or 0)
        left, right = pl.when(fits).then(left), pl.when(fits).then(right)
    if node.op == "%":
        # SQL's remainder takes the dividend's sign (-7 % 3 = -1); Polars' % floors (= 2)
        result = (left.abs() % right.abs()) * left.sign()
    elif node.op == "+":
        result = left + right
    elif node.op == "-":
        result = left - right
    elif node.ltype.kind is Kind.DECIMAL and decimal_operands(node):
        result = _exact_product(left, right, node.ltype.scale or 0)
    else:
        result = left * right
    return _to_int64(result) if integer else result


def _exact_product(left: pl.Expr, right: pl.Expr, scale: int) -> pl.Expr:
    """SQL's product of decimals has the sum of their scales (0.25 * 0.25 = 0.0625); Polars gives
    it the larger one (0.06). With one operand padded to the result's scale, Polars' product is
    exact. The smaller operand is padded: when the product fits, it has room for the digits (the
    larger one may not); the cast in the branch not taken may fail, hence strict=False."""
    wide = pl.Decimal(MAX_DECIMAL_DIGITS, scale)
    pad_left = left.abs() <= right.abs()
    return (
        pl.when(pad_left)
        .then(left.cast(wide, strict=False) * right)
        .otherwise(left * right.cast(wide, strict=False))
    )


def _decimal_fits(op: str, left: pl.Expr, right: pl.Expr, scale: int) -> pl.Expr:
    """Whether `left op right` fits decimal(38, scale); Polars raises for the whole frame when
    one row does not, so those rows get NULL operands (a NULL result, like integer overflow).
    + and - are decided exactly, and so is * of whole numbers (in Int128); * with a fraction by a
    float estimate that calls a result overflowing from 10^(38-scale) * (1 - 1e-12) on (a double
    product errs by far less than that)."""
    digits = MAX_DECIMAL_DIGITS - scale
    if op == "*":
        estimate = (left.cast(pl.Float64) * right.cast(pl.Float64)).abs()
        if scale == 0:  # exact: the product of whole numbers below 1.5e38 fits Int128
            safe = estimate < 1.5e38
            product = pl.when(safe).then(left.cast(pl.Int128)) * right.cast(pl.Int128)
            return (safe & (product.abs() < pl.lit(10**digits, pl.Int128))).fill_null(True)
        return (estimate < 10.0**digits * (1 - 1e-12)).fill_null(True)
    largest = Decimal("9" * digits + ("." + "9" * scale if scale else ""))  # exact, no context
    top = pl.lit(largest, pl.Decimal(MAX_DECIMAL_DIGITS, scale))
    step = right if op == "+" else -right
    # top - step and -top - step are only computed where they stay in range (masked otherwise)
    up, down = pl.when(step >= 0).then(step), pl.when(step < 0).then(step)
    return pl.coalesce(left <= top - up, left >= -top - down).fill_null(True)


def _to_int64(exact: pl.Expr) -> pl.Expr:
    """An exact (128-bit) integer result as Int64: NULL outside the signed 64-bit range."""
    return exact.cast(pl.Int64, strict=False)


def _neg(t: Translator, node: ir.Neg) -> pl.Expr:
    operand = t(node.operand)
    if node.type is not None and node.type.kind is Kind.INTEGER:
        return _to_int64(pl.lit(0, pl.Int128) - operand.cast(pl.Int128))  # -MIN overflows
    return -operand


def _case(t: Translator, node: ir.Case) -> pl.Expr:
    (first_cond, first_value), *rest = node.whens
    chain: Any = pl.when(t(first_cond)).then(t(first_value))
    for cond, value in rest:
        chain = chain.when(t(cond)).then(t(value))
    result: pl.Expr = chain.otherwise(t(node.default))
    return result


def _coalesce(t: Translator, node: ir.Coalesce) -> pl.Expr:
    return pl.coalesce([t(a) for a in node.args])


def _cast(t: Translator, node: ir.Cast) -> pl.Expr:
    return cast_value(t(node.operand), node.operand.type, node.to)


def _str_fn(t: Translator, node: ir.StrFn) -> pl.Expr:
    operand = t(node.operand)
    if node.fn == "length":
        return operand.str.len_chars().cast(pl.Int64)
    if node.fn == "upper":
        return operand.str.to_uppercase()
    if node.fn == "lower":
        return operand.str.to_lowercase()
    if node.fn == "trim":
        return operand.str.strip_chars(" ")
    if node.fn == "abs":
        if node.type is not None and node.type.kind is Kind.INTEGER:
            return _to_int64(operand.cast(pl.Int128).abs())  # |MIN| overflows
        return operand.abs()
    raise spec.unsupported(f"function {node.fn}", ENGINE)


def _substring(t: Translator, node: ir.Substring) -> pl.Expr:
    return t(node.operand).str.slice(node.start - 1, node.length)


def _concat(t: Translator, node: ir.Concat) -> pl.Expr:
    return pl.concat_str([t(a) for a in node.args], ignore_nulls=False)


def _date_add(t: Translator, node: ir.DateAdd) -> pl.Expr:
    # offset_by clamps to the month end (2024-01-31 + 1 month = 2024-02-29), as specified
    return t(node.operand).dt.offset_by(f"{node.amount}{_DURATION_SUFFIX[node.unit]}")


def _date_diff_days(t: Translator, node: ir.DateDiffDays) -> pl.Expr:
    return (t(node.left) - t(node.right)).dt.total_days().cast(pl.Int64)


def _is_duplicate(t: Translator, node: ir.IsDuplicate) -> pl.Expr:
    keys = [t(c) for c in node.columns]
    has_null = pl.any_horizontal([k.is_null() for k in keys])
    repeated = pl.len().over(keys) > 1
    return pl.when(has_null).then(pl.lit(False)).otherwise(repeated)


def _agg(t: Translator, node: ir.Agg) -> pl.Expr:
    if node.fn == "count_all":
        return pl.len().cast(pl.Int64)
    assert node.operand is not None
    operand = t(node.operand)
    if node.fn == "count":
        return operand.count().cast(pl.Int64)
    if node.fn == "count_distinct":
        return operand.drop_nulls().n_unique().cast(pl.Int64)
    if node.fn == "sum":
        # SQL: the SUM of no non-NULL values is NULL, Polars says 0; an integer SUM is exact
        # in 128 bits and NULL outside 64, like any integer overflow
        if node.type is not None and node.type.kind is Kind.INTEGER:
            return pl.when(operand.count() > 0).then(_to_int64(operand.cast(pl.Int128).sum()))
        return pl.when(operand.count() > 0).then(operand.sum())
    if node.fn == "avg":
        return operand.cast(pl.Float64).mean()
    if node.fn == "min":
        return operand.min()
    if node.fn == "max":
        return operand.max()
    raise spec.unsupported(f"aggregate {node.fn}", ENGINE)


# one function per node class, found by name: `_in_list` translates `InList`
_HANDLERS: dict[type[ir.Expr], Handler] = spec.handlers(globals())


def translate(node: ir.Expr, column: ColumnResolver | None = None) -> pl.Expr:
    """One IR tree as a Polars expression."""
    return Translator(column)(node)
