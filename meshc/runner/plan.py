"""Stage 5: a CompiledContract plus run settings becomes the ValidationPlan an engine executes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from meshc.engines.base import ColumnSpec, ValidationPlan
from meshc.engines.spec import DEFAULT_NULL_VALUES
from meshc.rules import checks as ck
from meshc.rules.clock import bind_check
from meshc.types import STRING

__all__ = ["bind_check", "build_plan", "plan_columns"]


def plan_columns(compiled: ck.CompiledContract) -> tuple[ColumnSpec, ...]:
    """The columns a run reads: declared fields, then the undeclared ones rules read (as text)."""
    fields = compiled.contract.fields
    return tuple(ColumnSpec(f.name, f.type) for f in fields) + tuple(
        ColumnSpec(name, STRING) for name in compiled.implicit_columns
    )


def build_plan(
    compiled: ck.CompiledContract,
    *,
    now: dt.datetime | None = None,
    lineage: Mapping[str, Any] | None = None,
    extra_checks: tuple[ck.RowCheck, ...] = (),
    text_source: bool | None = None,
) -> ValidationPlan:
    """The plan for one dataset; `now` (timezone-aware, UTC) defaults to the current time.
    `text_source`: whether the frame was read from a text format (see ValidationPlan)."""
    contract = compiled.contract
    now = now or dt.datetime.now(dt.timezone.utc)
    columns = plan_columns(compiled)
    checks = tuple(bind_check(c, now) for c in (*compiled.evaluable_row_checks, *extra_checks))
    source = contract.source
    return ValidationPlan(
        columns=columns,
        checks=checks,
        null_values=source.null_values if source else DEFAULT_NULL_VALUES,
        extra_columns=contract.extra_columns,
        include_reasons=contract.quarantine.include_error_reason,
        lineage=dict(lineage or {}),
        text_source=text_source,
    )
