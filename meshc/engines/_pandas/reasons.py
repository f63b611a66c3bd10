"""`_meshc_reasons`: list<struct<rule_id, rule, column, value, message, severity>>, built
vectorised (one pass per check over the quarantined rows, then one stable sort)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from meshc.engines.base import REASON_FIELDS

# A rule's text and message repeat in every row that fails it (and can be long: an IN list of
# 80 KB): dictionary-encoded, each text is held once and each row keeps an index. Parquet stores
# them as strings (dictionary pages), so readers see the same values.
DICTIONARY_FIELDS = ("rule", "message")
_TEXT = pa.dictionary(pa.int32(), pa.string())
REASON_TYPE = pa.list_(
    pa.struct(
        [(name, _TEXT if name in DICTIONARY_FIELDS else pa.string()) for name in REASON_FIELDS]
    )
)


@dataclass(frozen=True)
class Reason:
    """One check's failures over the quarantined rows, in reason order."""

    failed: np.ndarray  # bool per quarantined row
    rule_id: str
    rule: str
    column: str | None
    values: pa.Array  # the column's raw text per quarantined row (NULL when missing)
    message: str
    severity: str


def _constant(value: str | None, length: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), length)


def _dictionary(texts: list[str], positions: list[np.ndarray], order: np.ndarray) -> pa.Array:
    """One entry per failure, as indices into the distinct `texts` (one per reason)."""
    code = {text: i for i, text in enumerate(dict.fromkeys(texts))}
    codes = [np.full(len(p), code[t], np.int32) for t, p in zip(texts, positions, strict=True)]
    indices = np.concatenate([np.zeros(0, np.int32), *codes])[order]
    return pa.DictionaryArray.from_arrays(
        pa.array(indices, pa.int32()), pa.array(list(code), pa.string())
    )


def build_reasons(reasons: list[Reason], rows: int) -> pa.ListArray:
    """One list per quarantined row, entries in the order of `reasons`."""
    positions = [np.flatnonzero(r.failed) for r in reasons]
    row_of = np.concatenate([np.zeros(0, np.int64), *positions])
    rank = np.concatenate(
        [np.zeros(0, np.int64)] + [np.full(len(p), k, np.int64) for k, p in enumerate(positions)]
    )
    order = np.lexsort((rank, row_of))  # by row, then by reason order
    columns = {name: [] for name in REASON_FIELDS}  # type: dict[str, list[pa.Array]]
    for reason, pos in zip(reasons, positions, strict=True):
        n = len(pos)
        for name in ("rule_id", "column", "severity"):
            columns[name].append(_constant(getattr(reason, name), n))
        columns["value"].append(reason.values.take(pa.array(pos, pa.int64())).cast(pa.string()))
    fields = {
        name: pa.concat_arrays(columns[name] or [pa.array([], pa.string())]).take(order)
        for name in ("rule_id", "column", "value", "severity")
    }
    for name in DICTIONARY_FIELDS:
        fields[name] = _dictionary([getattr(r, name) for r in reasons], positions, order)
    entries = pa.StructArray.from_arrays(
        [fields[name] for name in REASON_FIELDS], names=list(REASON_FIELDS)
    )
    offsets = np.concatenate([[0], np.cumsum(np.bincount(row_of, minlength=rows))])
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), entries, type=REASON_TYPE)


def reasons_to_json(reasons: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The reasons column as JSON text, for CSV and JSON outputs (one value per quarantined row,
    at write time; JSON escaping has no arrow kernel)."""
    return pa.array(
        [None if r is None else json.dumps(r, ensure_ascii=False) for r in reasons.to_pylist()],
        pa.string(),
    )
