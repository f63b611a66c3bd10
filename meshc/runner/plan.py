"""Stage 5: a CompiledContract plus run settings becomes the ValidationPlan an engine executes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from meshc.engines.base import ColumnSpec, ValidationPlan
from meshc.rules import checks as ck
from meshc.rules import expr as ir
from meshc.types import STRING


def bind_check(check: ck.RowCheck, now: dt.datetime) -> ck.RowCheck:
    """Fix CURRENT_DATE / CURRENT_TIMESTAMP to this run's clock (same value on every engine)."""
    if isinstance(check, ck.SqlRule):
        bound = ir.bind_now(check.expr, now.date(), now)
        return replace(check, expr=bound) if bound is not check.expr else check
    return check


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
) -> ValidationPlan:
    """The plan for one dataset; `now` (timezone-aware, UTC) defaults to the current time."""
    contract = compiled.contract
    now = now or dt.datetime.now(dt.timezone.utc)
    columns = plan_columns(compiled)
    checks = tuple(bind_check(c, now) for c in (*compiled.evaluable_row_checks, *extra_checks))
    source = contract.source
    return ValidationPlan(
        columns=columns,
        checks=checks,
        null_values=source.null_values if source else ("",),
        extra_columns=contract.extra_columns,
        include_reasons=contract.quarantine.include_error_reason,
        lineage=dict(lineage or {}),
    )
