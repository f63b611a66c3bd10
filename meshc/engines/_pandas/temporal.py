"""Date arithmetic: `+ INTERVAL` (months and years clamp to the month's end) and date - date."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from meshc.engines._pandas import calendar
from meshc.engines._pandas.dtypes import from_arrow, to_arrow
from meshc.engines._pandas.native import Env, Native, Translate
from meshc.rules import expr as ir
from meshc.types import Kind

_UNIT_US = {
    "day": calendar.US_PER_DAY,
    "hour": 3_600_000_000,
    "minute": 60_000_000,
    "second": 1_000_000,
}


def _ints(arr: pa.Array, as_type: pa.DataType) -> np.ndarray:
    return np.asarray(
        pc.fill_null(arr.cast(as_type), 0).to_numpy(zero_copy_only=False), dtype=np.int64
    )


def _ymd(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(
        np.asarray(
            pc.fill_null(f(arr), 1970 if f is pc.year else 1).to_numpy(zero_copy_only=False),
            dtype=np.int64,
        )
        for f in (pc.year, pc.month, pc.day)
    )  # type: ignore[return-value]


def _shift(arr: pa.Array, kind: Kind, amount: int, unit: str) -> np.ndarray:
    """New values as int64 (days for dates, microseconds for timestamps)."""
    is_date = kind is Kind.DATE
    base = _ints(arr, pa.int32() if is_date else pa.int64())
    if unit in ("year", "month"):
        months = amount * 12 if unit == "year" else amount
        days = calendar.add_months(*_ymd(arr), months)
        if is_date:
            return days
        time_of_day = base - (base // calendar.US_PER_DAY) * calendar.US_PER_DAY
        return days * calendar.US_PER_DAY + time_of_day
    if is_date:
        return base + amount  # the compiler allows only days on dates
    return base + amount * _UNIT_US[unit]


def date_add(node: ir.DateAdd, translate: Translate) -> Native:
    inner = translate(node.operand)
    kind = node.type.kind if node.type else Kind.DATE

    def run(env: Env) -> pd.Series:
        arr = to_arrow(inner(env))
        values = _shift(arr, kind, node.amount, node.unit)
        storage = pa.int32() if kind is Kind.DATE else pa.int64()
        missing = np.asarray(pc.is_null(arr).to_numpy(zero_copy_only=False), dtype=bool)
        shifted = pa.array(values, type=pa.int64(), mask=missing).cast(storage).cast(arr.type)
        return from_arrow(shifted, kind)

    return run


def date_diff_days(node: ir.DateDiffDays, translate: Translate) -> Native:
    lf, rf = translate(node.left), translate(node.right)

    def days(series: pd.Series) -> pd.Series:
        return from_arrow(to_arrow(series).cast(pa.int32()).cast(pa.int64()), Kind.INTEGER)

    return lambda env: days(lf(env)) - days(rf(env))
