"""Implicit coercions between evaluated operands: literals broadcast, numbers unified.

Comparisons between integer, float and decimal are numeric (expr.py): any float makes both sides
float, else any decimal makes both decimal (at the widest scale), else both stay integer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa

from meshc.engines._pandas.dtypes import arrow_type, from_arrow, nulls, to_arrow
from meshc.types import BOOLEAN, FLOAT, INTEGER, Kind, LogicalType

MAX_PRECISION = 38


def literal(value: Any, ltype: LogicalType | None, length: int) -> pd.Series:
    """A literal broadcast to `length` rows, in the canonical dtype of its type."""
    if value is None:
        return nulls(length, ltype or BOOLEAN)
    assert ltype is not None, "a non-NULL literal always has a type"
    if ltype.kind is Kind.DECIMAL:
        # The literal's own precision/scale, so a Decimal is never rounded to fit a field's type.
        scalar = pa.scalar(Decimal(value))
    elif ltype.kind is Kind.TIMESTAMP_TZ and isinstance(value, dt.datetime) and value.tzinfo:
        scalar = pa.scalar(value.astimezone(dt.timezone.utc), type=arrow_type(ltype))
    else:
        scalar = pa.scalar(value, type=arrow_type(ltype))
    return from_arrow(pa.repeat(scalar, length), ltype.kind)


def numeric_target(types: Sequence[LogicalType | None]) -> LogicalType | None:
    """The common numeric type of some operands (None when none is numeric)."""
    known = [t for t in types if t is not None and t.is_numeric]
    if not known:
        return None
    if any(t.kind is Kind.FLOAT for t in known):
        return FLOAT
    decimals = [t for t in known if t.kind is Kind.DECIMAL]
    if decimals:
        return LogicalType(Kind.DECIMAL, MAX_PRECISION, max(t.scale or 0 for t in decimals))
    return INTEGER


def to_kind(series: pd.Series, source: LogicalType | None, target: LogicalType) -> pd.Series:
    """Widen one operand to `target`'s kind (numbers only widen; NULL literals take any type)."""
    if source is None:
        return nulls(len(series), target)
    if source.kind is target.kind:
        return series
    if target.kind is Kind.FLOAT and source.is_numeric:
        # unsafe: a 64-bit integer or a 38-digit decimal may round to the nearest double (SQL too)
        return from_arrow(to_arrow(series).cast(pa.float64(), safe=False), Kind.FLOAT)
    if target.kind is Kind.DECIMAL and source.kind is Kind.INTEGER:
        return from_arrow(to_arrow(series).cast(pa.decimal128(19, 0)), Kind.DECIMAL)
    raise TypeError(f"cannot widen {source} to {target}")  # the compiler type-checks first


def same_decimal(series: list[pd.Series]) -> list[pd.Series]:
    """Decimal operands cast to one arrow type (widest scale), so pandas can mix them."""
    types = [to_arrow(s).type for s in series]
    scale = max(t.scale for t in types)
    common = pa.decimal128(MAX_PRECISION, scale)
    return [
        s if t == common else from_arrow(to_arrow(s).cast(common), Kind.DECIMAL)
        for s, t in zip(series, types, strict=True)
    ]


def unify(
    series: list[pd.Series],
    types: Sequence[LogicalType | None],
    target: LogicalType | None = None,
    *,
    one_dtype: bool = False,
) -> tuple[list[pd.Series], LogicalType | None]:
    """Operands brought to one kind: `target`'s if given, else their common numeric type, else the
    first known type (the compiler type-checks first). Decimals keep their own precision and scale
    (arrow compares and adds across scales) unless `one_dtype` asks for a single dtype, which
    CASE and COALESCE need to merge columns."""
    if target is None:
        target = numeric_target(types) or next((t for t in types if t is not None), None)
    if target is None:
        return series, None
    out = [to_kind(s, t, target) for s, t in zip(series, types, strict=True)]
    if one_dtype and target.kind is Kind.DECIMAL:
        out = same_decimal(out)
    return out, target
