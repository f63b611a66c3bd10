"""`_meshc_reasons` as one native expression: a list of reason structs per quarantined row.

The obvious form, `concat_list` of one `when(flag).then(struct(...))` per reason, is ~20x slower
in Polars 2.1 than a `concat_list` of strings (4 s for 41k quarantined rows of a 7-reason
contract, more than validating a million rows). So each row first gets a list of *tags*, one
string per reason that applies: the reason's position (fixed width), a marker of whether the
value is NULL, and the value's text. One vectorised `list.eval` then turns every tag into the
struct: the fixed fields are looked up by position, the value is the tag's tail.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from meshc.engines import spec
from meshc.engines.base import REASON_FIELDS

# A rule's text and message are the same in every row that fails it (and can be long: an IN list
# of 80 KB): as Categorical they are held once, each row keeps a small index. Written to Parquet
# they stay strings (dictionary-encoded), so readers see the same values.
_DICTIONARY_FIELDS = ("rule", "message")
_FIELD_DTYPES: dict[str, pl.DataType] = {
    name: pl.Categorical() if name in _DICTIONARY_FIELDS else pl.String() for name in REASON_FIELDS
}
REASON_DTYPE = pl.List(pl.Struct(_FIELD_DTYPES))
_WIDTH = 6  # digits of a reason's position in its tag: up to a million reasons per contract
_PRESENT, _NULL = "+", "-"


def reasons(entries: Sequence[tuple[str, spec.ReasonSpec]]) -> pl.Expr:
    """The reasons of a row, in `entries` order: (flag column, reason) pairs, one reason per
    flag that is True."""
    if not entries:
        return pl.lit([], REASON_DTYPE)
    tags = [_tag(position, flag, reason) for position, (flag, reason) in enumerate(entries)]
    tag = pl.element()
    position = tag.str.head(_WIDTH).cast(pl.UInt32)
    specs = [reason for _, reason in entries]
    fields = {
        name: position.replace_strict(
            list(range(len(specs))),
            [getattr(s, name) for s in specs],
            return_dtype=_FIELD_DTYPES[name],
        )
        for name in REASON_FIELDS
        if name != "value"
    }
    fields["value"] = pl.when(tag.str.slice(_WIDTH, 1) == _PRESENT).then(tag.str.slice(_WIDTH + 1))
    struct = pl.struct([fields[name].alias(name) for name in REASON_FIELDS])
    return pl.concat_list(tags).list.drop_nulls().list.eval(struct)


def _tag(position: int, flag: str, reason: spec.ReasonSpec) -> pl.Expr:
    """NULL when the flag is not set; else `<position><+ or -><value text>`."""
    prefix = f"{position:0{_WIDTH}d}"
    if reason.column is None:
        return pl.when(pl.col(flag)).then(pl.lit(prefix + _NULL))
    value = pl.col(reason.column).cast(pl.String)
    tagged = (
        pl.when(value.is_null())
        .then(pl.lit(prefix + _NULL))
        .otherwise(pl.concat_str([pl.lit(prefix + _PRESENT), value]))
    )
    return pl.when(pl.col(flag)).then(tagged)
