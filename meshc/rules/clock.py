"""The run's clock in rules: CURRENT_DATE / CURRENT_TIMESTAMP bound to one instant per run.

Below both the runner (meshc/runner/plan.py) and the validators (meshc/validators/), which bind
the same way so that every engine and every artifact judges a rule at the same instant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from meshc.rules import checks as ck
from meshc.rules import expr as ir


def bind_check(check: ck.RowCheck, now: dt.datetime) -> ck.RowCheck:
    """Fix CURRENT_DATE / CURRENT_TIMESTAMP to this run's clock (same value on every engine)."""
    if isinstance(check, ck.SqlRule):
        bound = ir.bind_now(check.expr, now.date(), now)
        return replace(check, expr=bound) if bound is not check.expr else check
    return check
