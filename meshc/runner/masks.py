"""Which PII masks a run applies, and whether an engine may apply them in its streamed pass.

Masking comes after the checks (rules see real values) and before anything is written or
returned. An engine that masks while streaming (`MasksWhileStreaming`: DuckDB, Polars) writes
each output once, already masked; that is only the same run when nothing reads the unmasked
outputs between validation and masking, and the dataset checks do read the valid output then.
So the masks are folded only when no dataset check reads a masked column."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshc.rules import checks as ck
from meshc.rules import expr as ir


def contract_masks(contract: Any) -> dict[str, str]:
    """Field name -> masking method (meshc.contract.Contract's fields with `masking`)."""
    return {f.name: f.masking for f in contract.fields if f.masking}


def foldable(masks: Mapping[str, str], dataset_checks: tuple[ck.DatasetCheck, ...]) -> bool:
    """Whether masking may happen in the streamed pass: there are masks, and no dataset check
    (evaluated on the valid output before masking) reads a masked column."""
    return bool(masks) and not any(masks.keys() & _columns_read(c) for c in dataset_checks)


def _columns_read(check: ck.DatasetCheck) -> set[str]:
    if isinstance(check, ck.RowCount):
        return set()
    if isinstance(check, (ck.NullRatio, ck.Freshness)):
        return {check.column.name}
    if isinstance(check, ck.AggregateSql):
        return set(ir.columns_of(check.expr))
    raise AssertionError(f"unknown dataset check {type(check).__name__}")  # say what it reads
