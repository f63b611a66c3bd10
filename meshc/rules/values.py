"""Contract values (accepted_values, min, max) as Python values of a field's type.

Below the rule type checker (meshc.rules.typecheck makes them typed literals) and used by the
loader on its own, to compare a field's bounds, without importing the rule IR.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from meshc.rules.problems import RuleProblem
from meshc.types import Kind, LogicalType


def value_for(value: Any, ltype: LogicalType) -> Any:
    """`value` as a value of `ltype`; RuleProblem MC208 when it is not one."""
    kind = ltype.kind
    if kind is Kind.STRING:
        return str(value)
    if kind is Kind.BOOLEAN and isinstance(value, bool):
        return value
    if kind is Kind.INTEGER and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is Kind.FLOAT and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if (
        kind is Kind.DECIMAL
        and isinstance(value, (int, float, str))
        and not isinstance(value, bool)
    ):
        try:
            return Decimal(str(value))
        except ArithmeticError:
            pass
    if ltype.is_temporal and isinstance(value, str):
        return parse_temporal(value, ltype)
    raise RuleProblem("MC208", f"{value!r} is not a valid {ltype} value")


def parse_temporal(text: str, target: LogicalType) -> Any:
    try:
        if target.kind is Kind.DATE:
            return dt.date.fromisoformat(text.strip())
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise RuleProblem(
            "MC306",
            f"invalid {target} literal '{text}'",
            hint="use ISO format: DATE '2024-01-31', TIMESTAMP '2024-01-31 12:00:00'",
        ) from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
        return value if target.kind is Kind.TIMESTAMP_TZ else value.replace(tzinfo=None)
    return value.replace(tzinfo=dt.timezone.utc) if target.kind is Kind.TIMESTAMP_TZ else value


def bounds_reversed(low: Any, high: Any, ltype: LogicalType) -> bool:
    """min > max, compared as values of the field's type (100000 > 0.01 for a decimal, dates as
    dates); bounds that are not valid values of the type are reported elsewhere (MC208)."""
    try:
        lo, hi = value_for(low, ltype), value_for(high, ltype)
        return bool(lo > hi)
    except (RuleProblem, TypeError):
        return False
