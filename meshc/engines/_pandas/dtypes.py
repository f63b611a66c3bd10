"""Logical types <-> pandas dtypes, and the arrow round trips every other module relies on.

One pandas dtype per logical type, chosen so that NULL is a real missing value and boolean logic
is SQL's three-valued (Kleene) logic:

- string: `string[pyarrow]` (RE2 regex and UTF-8 kernels from pyarrow)
- integer: `Int64`; float: `Float64` (masked: NULL is NA, never NaN); boolean: `boolean`
  (`&`, `|`, `~` are Kleene)
- decimal(p,s): `ArrowDtype(decimal128(p, s))` (exact; comparisons across scales work)
- date: `ArrowDtype(date32)`: stays a date (datetime64 would turn it into a timestamp and limit
  years to 1677..2262)
- timestamp / timestamp_tz: `ArrowDtype(timestamp("us"))` / `ArrowDtype(timestamp("us", "UTC"))`
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from meshc.types import Kind, LogicalType

STRING_DTYPE = pd.StringDtype("pyarrow")
_MASKED: dict[Kind, Any] = {
    Kind.STRING: STRING_DTYPE,
    Kind.INTEGER: pd.Int64Dtype(),
    Kind.FLOAT: pd.Float64Dtype(),
    Kind.BOOLEAN: pd.BooleanDtype(),
}


def arrow_type(ltype: LogicalType) -> pa.DataType:
    """The arrow type a logical type is stored as (valid output, parquet files)."""
    kind = ltype.kind
    if kind is Kind.DECIMAL:
        return pa.decimal128(ltype.precision or 38, ltype.scale or 0)
    return {
        Kind.STRING: pa.large_string(),
        Kind.INTEGER: pa.int64(),
        Kind.FLOAT: pa.float64(),
        Kind.BOOLEAN: pa.bool_(),
        Kind.DATE: pa.date32(),
        Kind.TIMESTAMP: pa.timestamp("us"),
        Kind.TIMESTAMP_TZ: pa.timestamp("us", tz="UTC"),
    }[kind]


def pandas_dtype(ltype: LogicalType) -> Any:
    return _MASKED.get(ltype.kind) or pd.ArrowDtype(arrow_type(ltype))


def to_arrow(series: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A Series as arrow data (masked NA -> arrow null) for pyarrow.compute kernels."""
    return pa.array(series)


def from_arrow(data: pa.Array | pa.ChunkedArray, kind: Kind) -> pd.Series:
    """Arrow data as a Series of the canonical pandas dtype for `kind` (the data must already
    have the matching arrow type, up to string width and decimal precision)."""
    masked = _MASKED.get(kind)
    if masked is not None:
        if kind is Kind.STRING and data.type == pa.string():
            data = data.cast(pa.large_string())
        return pd.Series(pd.arrays.ArrowExtensionArray(data)).astype(masked)
    return pd.Series(pd.arrays.ArrowExtensionArray(data))


def typed(data: pa.Array | pa.ChunkedArray, ltype: LogicalType) -> pd.Series:
    """Arrow data cast (safely) to `ltype`'s arrow type, as a canonical Series."""
    return from_arrow(data.cast(arrow_type(ltype)), ltype.kind)


def nulls(length: int, ltype: LogicalType) -> pd.Series:
    return typed(pa.nulls(length, arrow_type(ltype)), ltype)


def as_boolean(series: pd.Series) -> pd.Series:
    """Any boolean-valued Series (numpy bool, bool[pyarrow], boolean) as masked `boolean`."""
    return series.astype(pd.BooleanDtype())


def fails(result: pd.Series) -> Any:
    """numpy mask of rows where a predicate is FALSE (NULL is not a violation)."""
    return (~as_boolean(result)).fillna(False).to_numpy(dtype=bool)
