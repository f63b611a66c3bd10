"""PII masking (base.MASKING) of data columns and of `_meshc_reasons[].value`, NULL in, NULL out.

Polars has no HMAC-SHA256 expression, so `hash` is the one step that calls Python: hmac runs once
per *distinct* value of the batch, and the digests are mapped back natively.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import polars as pl

from meshc.engines.base import REASONS, REDACTED
from meshc.engines.masking_key import keyed_hash, masking_key
from meshc.errors import MeshcError

_KEEP_LAST = 4
FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


def mask_frame(frame: FrameT, masks: Mapping[str, str]) -> FrameT:
    schema = frame.collect_schema() if isinstance(frame, pl.LazyFrame) else frame.schema
    unknown = sorted(set(masks.values()) - {"hash", "redact", "partial", "nullify"})
    if unknown:
        raise MeshcError(f"unknown masking method(s): {', '.join(unknown)}")
    exprs = [
        _masked_column(name, method, schema[name])
        for name, method in masks.items()
        if name in schema
    ]
    if REASONS in schema and masks:
        exprs.append(_masked_reasons(masks))
    return frame.with_columns(exprs) if exprs else frame


def masked(value: pl.Expr, method: str) -> pl.Expr:
    """The masking expression for one value, as text (nullify: NULL)."""
    text = value.cast(pl.String)
    if method == "nullify":
        return pl.lit(None, pl.String)
    if method == "hash":
        key = masking_key()  # read before any batch runs: a missing key fails at once
        return text.map_batches(lambda s: _keyed_hash(s, key), return_dtype=pl.String)
    if method == "redact":
        return pl.when(text.is_not_null()).then(pl.lit(REDACTED))
    length = text.str.len_chars()
    # the last four characters stay; a value of four characters or fewer is all stars
    visible = pl.when(length > _KEEP_LAST).then(text.str.slice(-_KEEP_LAST)).otherwise(pl.lit(""))
    return visible.str.pad_start(length, "*")


def _masked_column(name: str, method: str, dtype: pl.DataType) -> pl.Expr:
    if method == "nullify":
        return pl.lit(None, dtype).alias(name)  # the column keeps its type
    return masked(pl.col(name), method).alias(name)


def _masked_reasons(masks: Mapping[str, str]) -> pl.Expr:
    reason = pl.element()
    value = reason.struct.field("value")
    for name, method in masks.items():
        value = (
            pl.when(reason.struct.field("column") == name)
            .then(masked(reason.struct.field("value"), method))
            .otherwise(value)
        )
    return pl.col(REASONS).list.eval(reason.struct.with_fields(value.alias("value"))).alias(REASONS)


def _keyed_hash(series: pl.Series, key: bytes) -> pl.Series:
    distinct = series.drop_nulls().unique()
    digests = {v: keyed_hash(key, v) for v in distinct.to_list()}
    return series.replace_strict(digests, default=None, return_dtype=pl.String)
