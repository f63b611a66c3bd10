"""Arithmetic and aggregates: `/` is float division, x/0 and x%0 are NULL, decimals stay exact."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from meshc.engines import textcast as spec
from meshc.engines._pandas.coerce import MAX_PRECISION, literal, numeric_target, unify
from meshc.engines._pandas.dtypes import from_arrow, to_arrow
from meshc.engines._pandas.native import Env, Native, Translate, unsupported
from meshc.rules import expr as ir
from meshc.types import FLOAT, INTEGER, Kind, LogicalType

# The signed 64-bit range, as decimals: integer results are computed exactly in decimal128.
_INT64_RANGE = tuple(pa.scalar(v, pa.decimal128(19, 0)) for v in (spec.INT64_MIN, spec.INT64_MAX))
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
        if target.kind is Kind.INTEGER:  # numpy int64 would wrap silently
            exact = _decimal_op(node.op, _as_decimal(a), _as_decimal(b))
            return _to_int64(exact)
        return _PANDAS_OPS[node.op](a, b)

    return run


def _as_decimal(series: pd.Series) -> pa.Array:
    return to_arrow(series).cast(pa.decimal128(19, 0))


def _to_int64(exact: pa.Array) -> pd.Series:
    """An exact integer result as Int64: NULL outside the signed 64-bit range."""
    low, high = _INT64_RANGE
    fits = pc.and_(pc.greater_equal(exact, low), pc.less_equal(exact, high))
    kept = pc.if_else(pc.fill_null(fits, False), exact, pa.scalar(None, exact.type))
    return from_arrow(kept.cast(pa.int64()), Kind.INTEGER)


def _decimal_op(op: str, a: pa.Array, b: pa.Array) -> pa.Array:
    """Exact decimal arithmetic. Arrow widens the declared precision on every operation; past 38
    digits the operation runs in decimal256 and the result comes back to decimal128(38, scale)
    (an error only if a value really needs more than 38 digits)."""
    try:
        return _ARROW_OPS[op](a, b)
    except pa.ArrowInvalid:
        result = _ARROW_OPS[op](_narrowest256(a), _narrowest256(b))
        scale = min(result.type.scale, MAX_PRECISION)
        # a value that needs more than 38 digits is NULL, like integer overflow
        bound = pa.scalar(Decimal(10) ** (MAX_PRECISION - scale), pa.decimal256(76, scale))
        fits = pc.fill_null(pc.less(pc.abs(result), bound), False)
        kept = pc.if_else(fits, result, pa.scalar(None, result.type))
        return kept.cast(pa.decimal128(MAX_PRECISION, scale))


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
    if node.type is not None and node.type.kind is Kind.INTEGER:  # -MIN overflows
        return lambda env: _to_int64(pc.negate(_as_decimal(inner(env))))
    return lambda env: -inner(env)


def absolute(inner: Native, ltype: LogicalType | None) -> Native:
    if ltype is not None and ltype.kind is Kind.DECIMAL:
        return lambda env: from_arrow(pc.abs(to_arrow(inner(env))), Kind.DECIMAL)
    if ltype is not None and ltype.kind is Kind.INTEGER:  # |MIN| overflows
        return lambda env: _to_int64(pc.abs(_as_decimal(inner(env))))
    return lambda env: inner(env).abs()


_AGGREGATES: dict[str, Callable[[pa.Array], pa.Scalar]] = {
    "count": lambda a: pc.count(a, mode="only_valid"),
    "count_distinct": lambda a: pc.count_distinct(a, mode="only_valid"),
    "sum": lambda a: _sum(a),
    "avg": lambda a: pc.mean(a.cast(pa.float64(), safe=False), min_count=1),
    "min": pc.min,
    "max": pc.max,
}


def _sum(values: pa.Array) -> pa.Scalar:
    """SQL: the SUM of no values is NULL, not 0. An integer total is exact (decimal128) and NULL
    outside signed 64-bit, where arrow's int64 sum would wrap."""
    if not pa.types.is_integer(values.type):
        return pc.sum(values, min_count=1)
    exact = pc.sum(values.cast(pa.decimal128(19, 0)), min_count=1).as_py()
    low, high = _INT64_RANGE
    fits = exact is not None and low.as_py() <= exact <= high.as_py()
    return pa.scalar(int(exact) if fits else None, pa.int64())


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
