"""PII masking as sqlglot expressions (base.MASKING), for data columns and reason values.

DuckDB has sha256 but no HMAC, so `hash` composes HMAC-SHA256 from it over BLOBs (RFC 2104):
sha256(outer || unhex(sha256(inner || utf8(text)))). The padded keys are never spelled in SQL:
the expression names two parameters, and `key_parameters` gives their values, bound (as BLOBs)
each time the relation runs, so the key shows in no query text, plan or error message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlglot import exp

from meshc.engines import sql_trees as sb
from meshc.engines.base import REASON_FIELDS, REASONS, REDACTED
from meshc.engines.masking_key import hmac_pads, masking_key

_INNER, _OUTER = "meshc_hmac_inner", "meshc_hmac_outer"


def key_parameters(masks: Mapping[str, str]) -> dict[str, bytes]:
    """The parameters the masking expressions of `masks` read: the padded keys, when any column
    is hashed (the key is read only then)."""
    if "hash" not in masks.values():
        return {}
    inner, outer = hmac_pads(masking_key())
    return {_INNER: inner, _OUTER: outer}


def masked(value: exp.Expression, method: str) -> exp.Expression:
    """The masking expression for one value; NULL in, NULL out."""
    text = exp.Cast(this=value, to=exp.DataType.build("VARCHAR"))
    if method == "nullify":
        return exp.Null()
    if method == "hash":
        return _hmac_sha256(text)
    if method == "redact":
        return exp.If(
            this=exp.Is(this=value, expression=exp.Null()),
            true=exp.Null(),
            false=sb.string(REDACTED),
        )
    length = exp.Anonymous(this="length", expressions=[text])
    stars = exp.Anonymous(
        this="repeat",
        expressions=[
            sb.string("*"),
            exp.Anonymous(
                this="greatest",
                expressions=[
                    exp.Sub(this=length, expression=exp.Literal.number(4)),
                    exp.Literal.number(0),
                ],
            ),
        ],
    )
    tail = exp.Anonymous(this="right", expressions=[text, exp.Literal.number(4)])
    whole = exp.Anonymous(this="repeat", expressions=[sb.string("*"), length])
    return exp.Case(
        ifs=[exp.If(this=exp.LTE(this=length, expression=exp.Literal.number(4)), true=whole)],
        default=exp.DPipe(this=stars, expression=tail),
    )


def _hmac_sha256(text: exp.Expression) -> exp.Expression:
    def sha256(data: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="sha256", expressions=[data])

    def key(name: str) -> exp.Expression:
        return exp.Placeholder(this=name)  # $name in DuckDB

    utf8 = exp.Anonymous(this="encode", expressions=[text])
    inner_digest = exp.Anonymous(
        this="unhex", expressions=[sha256(exp.DPipe(this=key(_INNER), expression=utf8))]
    )
    return sha256(exp.DPipe(this=key(_OUTER), expression=inner_digest))


def mask_select(columns: Sequence[str], masks: Mapping[str, str]) -> list[exp.Expression]:
    """Select items that mask the masked columns and keep the others (reasons included)."""
    return [masked_item(sb.alias(exp.column(sb.ident(n)), n), masks) for n in columns]


def masked_item(item: exp.Expression, masks: Mapping[str, str]) -> exp.Expression:
    """One select item (`value AS name`) masked as the column `name` is: its value masked when
    `name` is a masked column, each reason's value when it is the reasons; else as it is."""
    name = item.alias_or_name
    value = item.this if isinstance(item, exp.Alias) else item
    if name in masks:
        # NULLIF(x, x) is NULL with x's type: nullify keeps the column's type
        if masks[name] == "nullify":
            return sb.alias(exp.Nullif(this=value, expression=value.copy()), name)
        return sb.alias(masked(value, masks[name]), name)
    if name == REASONS and masks:
        return sb.alias(_mask_reasons(value, masks), name)
    return item


def _mask_reasons(col: exp.Expression, masks: Mapping[str, str]) -> exp.Expression:
    x = exp.to_identifier("r")
    field = {f: exp.Dot(this=exp.column(x), expression=exp.to_identifier(f)) for f in REASON_FIELDS}
    value: exp.Expression = field["value"]
    for name, method in masks.items():
        value = exp.If(
            this=exp.EQ(this=field["column"], expression=sb.string(name)),
            true=masked(field["value"], method),
            false=value,
        )
    rebuilt = exp.Struct(
        expressions=[
            exp.PropertyEQ(
                this=exp.to_identifier(f), expression=value if f == "value" else field[f]
            )
            for f in REASON_FIELDS
        ]
    )
    return exp.Anonymous(
        this="list_transform", expressions=[col, exp.Lambda(this=rebuilt, expressions=[x])]
    )
