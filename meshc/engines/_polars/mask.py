"""PII masking (base.MASKING) of data columns and of `_meshc_reasons[].value`, NULL in, NULL out.

`hash` (HMAC-SHA256) is native: the polars-hash plugin's `hmac_sha256`, in Rust, byte-identical to
the other engines (tests/test_masking.py). The plugin takes its key as text, so a key that is not
UTF-8 (possible only from MESHC_MASKING_KEY_FILE), or an environment without the plugin, falls back
to Python's hashlib once per *distinct* value of a batch, the digests mapped back natively.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

import polars as pl

from meshc.engines.base import REASONS, REDACTED
from meshc.engines.masking_key import keyed_hasher, masking_key
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
        return _keyed_hash(text, masking_key())  # a missing key fails here, before any batch
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


def _keyed_hash(text: pl.Expr, key: bytes) -> pl.Expr:
    native = _plugin_hmac(text, key)
    if native is not None:
        return native
    digest = keyed_hasher(key)
    return text.map_batches(lambda s: _hash_distinct(s, digest), return_dtype=pl.String)


def _plugin_hmac(text: pl.Expr, key: bytes) -> pl.Expr | None:
    try:
        import polars_hash
    except ImportError:  # installed by the `polars` extra; without it, the Python route
        return None
    try:
        key_text = key.decode("utf-8")
    except UnicodeDecodeError:  # the plugin would hash the UTF-8 of a different key
        return None
    return polars_hash.CryptographicHashingNameSpace(text).hmac_sha256(key=key_text)


def _hash_distinct(series: pl.Series, digest: Callable[[str], str]) -> pl.Series:
    distinct = series.drop_nulls().unique()
    digests = {v: digest(v) for v in distinct.to_list()}
    return series.replace_strict(digests, default=None, return_dtype=pl.String)
