"""PII masking on Arrow arrays (base.MASKING), for the engines whose frames are Arrow-backed
(pandas; Polars masks natively: _polars/mask.py). HMAC-SHA256 has no Arrow kernel, so `hash`
runs Python's hashlib once per distinct value (the key: engines/masking_key.py)."""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa
import pyarrow.compute as pc

from meshc.engines.base import REASON_FIELDS, REDACTED
from meshc.engines.masking_key import keyed_hasher, masking_key


def mask_array(values: pa.Array | pa.ChunkedArray, method: str) -> pa.Array | pa.ChunkedArray:
    if method == "nullify":
        return pa.nulls(len(values), values.type)
    text = (
        values
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type)
        else pc.cast(values, pa.string())
    )
    text = pc.cast(text, pa.string())
    if method == "redact":
        return pc.if_else(pc.is_null(text), pa.scalar(None, pa.string()), pa.scalar(REDACTED))
    if method == "hash":
        digest = keyed_hasher(masking_key())
        distinct = pc.unique(text).drop_null()
        digests = pa.array([digest(v) for v in distinct.to_pylist()], pa.string())
        return pc.take(digests, pc.index_in(text, value_set=distinct))
    if method == "partial":
        length = pc.utf8_length(text)
        hidden = pc.max_element_wise(pc.subtract(length, 4), 0)
        stars = pc.binary_repeat(pa.scalar("*"), hidden)
        tail = pc.utf8_slice_codeunits(text, start=-4)
        short = pc.binary_repeat(pa.scalar("*"), length)
        return pc.if_else(
            pc.less_equal(length, 4), short, pc.binary_join_element_wise(stars, tail, "")
        )
    raise ValueError(f"unknown masking {method!r}")


def mask_reasons(reasons: pa.Array | pa.ChunkedArray, masks: Mapping[str, str]) -> pa.Array:
    """Mask `value` in every reason whose `column` is masked, keeping the list layout."""
    if isinstance(reasons, pa.ChunkedArray):
        reasons = reasons.combine_chunks()
    entries = reasons.flatten()
    value, column = entries.field("value"), entries.field("column")
    for name, method in masks.items():
        hit = pc.fill_null(pc.equal(column, name), False)
        value = pc.if_else(hit, mask_array(value, method), value)
    fields = [value if f == "value" else entries.field(f) for f in REASON_FIELDS]
    rebuilt = pa.StructArray.from_arrays(fields, names=list(REASON_FIELDS))
    return pa.ListArray.from_arrays(
        reasons.offsets, rebuilt, type=reasons.type, mask=reasons.is_null()
    )


def mask_table(table: pa.Table, masks: Mapping[str, str], reasons_column: str) -> pa.Table:
    for name, method in masks.items():
        if name in table.column_names:
            i = table.column_names.index(name)
            table = table.set_column(i, name, mask_array(table.column(name), method))
    if reasons_column in table.column_names and len(table):
        i = table.column_names.index(reasons_column)
        table = table.set_column(
            i, reasons_column, mask_reasons(table.column(reasons_column), masks)
        )
    return table
