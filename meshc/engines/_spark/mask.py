"""PII masking with pyspark functions (base.MASKING), for data columns and reason values.

Spark has sha2 but no HMAC, so `hash` composes HMAC-SHA256 from it over binary (RFC 2104):
sha2(outer || unhex(sha2(inner || utf8(text)))), the padded keys as hex literals."""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from meshc.engines.base import REASON_FIELDS, REASONS, REDACTED
from meshc.engines.masking_key import hmac_pads, masking_key


def masked(value: Column, method: str) -> Column:
    text = value.cast("string")
    if method == "nullify":
        return F.lit(None).cast("string")
    if method == "hash":
        return _hmac_sha256(text)
    if method == "redact":
        return F.when(value.isNull(), F.lit(None)).otherwise(F.lit(REDACTED))
    length = F.length(text)
    tail = F.substring(text, -4, 4)
    return F.when(length <= 4, F.repeat(F.lit("*"), length)).otherwise(
        F.concat(F.repeat(F.lit("*"), length - 4), tail)
    )


def _hmac_sha256(text: Column) -> Column:
    inner, outer = hmac_pads(masking_key())
    utf8 = F.encode(text, "UTF-8")
    inner_digest = F.unhex(F.sha2(F.concat(F.unhex(F.lit(inner.hex())), utf8), 256))
    return F.sha2(F.concat(F.unhex(F.lit(outer.hex())), inner_digest), 256)


def mask_frame(frame: DataFrame, masks: Mapping[str, str]) -> DataFrame:
    types = {f.name: f.dataType for f in frame.schema.fields}
    columns = []
    for name in frame.columns:
        col = F.col(f"`{name}`")
        if name in masks:
            method = masks[name]
            value = F.lit(None).cast(types[name]) if method == "nullify" else masked(col, method)
            columns.append(value.alias(name))
        elif name == REASONS:
            columns.append(F.transform(col, lambda r: _mask_reason(r, masks)).alias(name))
        else:
            columns.append(col)
    return frame.select(*columns)


def _mask_reason(reason: Column, masks: Mapping[str, str]) -> Column:
    value = reason["value"]
    for name, method in masks.items():
        value = F.when(reason["column"] == F.lit(name), masked(reason["value"], method)).otherwise(
            value
        )
    return F.struct(*[(value if f == "value" else reason[f]).alias(f) for f in REASON_FIELDS])
