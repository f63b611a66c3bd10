"""Arithmetic and aggregates: `/` is float division, x/0 and x%0 are NULL, decimals stay exact."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from meshc.engines._pandas.coerce import MAX_PRECISION, literal, numeric_target, unify
from meshc.engines._pandas.dtypes import from_arrow, to_arrow
from meshc.engines._pandas.native import Env, Native, Translate, unsupported
from meshc.rules import expr as ir
from meshc.types import FLOAT, INTEGER, Kind, LogicalType

_INT64_LIMIT = 2.0**63
_PANDAS_OPS: dict[str, Callable[[pd.Series, pd.Series], pd.Series]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
}
_ARROW_OPS = {"+": pc.add_checked, "-": pc.subtract_checked, "*": pc.multiply_checked}


def arith(node: ir.Arith, translate: Translate) -> Native:
    lf, rf = translate(node.left), translate(node.right)
    types = [node.left.type, node.right.type]
    target = FLOAT if node.op == "/" else numeric_target(types) or INTEGER
    if node.op == "%" and target.kind is Kind.DECIMAL:
        raise unsupported("'%' on decimals")

    def run(env: Env) -> pd.Series:
        (a, b), _ = unify([lf(env), rf(env)], types, target)
        if node.op == "/":
            return _divide(a, b)
        if node.op == "%":
            return _modulo(a, b, target)
        if target.kind is Kind.DECIMAL:
            return from_arrow(_decimal_op(node.op, to_arrow(a), to_arrow(b)), Kind.DECIMAL)
        result = _PANDAS_OPS[node.op](a, b)
        if target.kind is Kind.INTEGER:
            # numpy int64 wraps silently on overflow; SQL engines refuse. NULL is the honest value.
            approx = _PANDAS_OPS[node.op](a.astype("Float64"), b.astype("Float64"))
            result = result.mask((approx.abs() >= _INT64_LIMIT).fillna(False).to_numpy(dtype=bool))
        return result

    return run


def _decimal_op(op: str, a: pa.Array, b: pa.Array) -> pa.Array:
    """Exact decimal arithmetic. Arrow widens the declared precision on every operation; past 38
    digits the operation runs in decimal256 and the result comes back to decimal128(38, scale)
    (an error only if a value really needs more than 38 digits)."""
    try:
        return _ARROW_OPS[op](a, b)
    except pa.ArrowInvalid:
        result = _ARROW_OPS[op](_narrowest256(a), _narrowest256(b))
        return result.cast(pa.decimal128(MAX_PRECISION, min(result.type.scale, MAX_PRECISION)))


def _narrowest256(values: pa.Array) -> pa.Array:
    """decimal256 with just the precision the actual values need (one max() over the column), so
    the declared precision of a product stays within decimal256's 76 digits."""
    scale = values.type.scale
    largest = pc.max(pc.abs(values)).as_py()
    whole = max(largest.adjusted() + 1, 0) if largest else 0
    return values.cast(pa.decimal256(max(whole + scale, scale, 1), scale))


def _divide(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a / b).mask((b == 0).fillna(False).to_numpy(dtype=bool))


def _modulo(a: pd.Series, b: pd.Series, target: LogicalType) -> pd.Series:
    """SQL's remainder takes the dividend's sign (fmod), unlike Python's `%`."""
    dtype = np.int64 if target.kind is Kind.INTEGER else np.float64
    left = a.to_numpy(dtype=dtype, na_value=0)
    right = b.to_numpy(dtype=dtype, na_value=1)
    missing = a.isna().to_numpy(dtype=bool) | b.isna().to_numpy(dtype=bool) | (right == 0)
    values = np.fmod(left, np.where(right == 0, 1, right))
    if target.kind is Kind.INTEGER:
        return pd.Series(pd.arrays.IntegerArray(values, missing))
    return pd.Series(pd.arrays.FloatingArray(values, missing))


def negate(node: ir.Neg, translate: Translate) -> Native:
    inner = translate(node.operand)
    if node.type is not None and node.type.kind is Kind.DECIMAL:
        return lambda env: from_arrow(pc.negate(to_arrow(inner(env))), Kind.DECIMAL)
    return lambda env: -inner(env)


def absolute(inner: Native, ltype: LogicalType | None) -> Native:
    if ltype is not None and ltype.kind is Kind.DECIMAL:
        return lambda env: from_arrow(pc.abs(to_arrow(inner(env))), Kind.DECIMAL)
    return lambda env: inner(env).abs()


_AGGREGATES: dict[str, Callable[[pa.Array], pa.Scalar]] = {
    "count": lambda a: pc.count(a, mode="only_valid"),
    "count_distinct": lambda a: pc.count_distinct(a, mode="only_valid"),
    "sum": lambda a: pc.sum(a, min_count=1),  # SQL: SUM of no values is NULL, not 0
    "avg": lambda a: pc.mean(a.cast(pa.float64(), safe=False), min_count=1),
    "min": pc.min,
    "max": pc.max,
}


def aggregate(node: ir.Agg, translate: Translate) -> Native:
    """An aggregate over the whole frame, broadcast to the evaluation length."""
    if node.fn == "count_all" or node.operand is None:
        return lambda env: literal(len(env.frame), INTEGER, env.length)
    inner, reducer = translate(node.operand), _AGGREGATES[node.fn]
    ltype = node.type or node.operand.type or INTEGER

    def run(env: Env) -> pd.Series:
        values = to_arrow(inner(Env(env.frame, len(env.frame))))
        return from_arrow(pa.repeat(reducer(values), env.length), ltype.kind)

    return run
