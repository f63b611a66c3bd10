"""Is one logical type wider than another? Decided on the text each type accepts (semantics.md).

| from \\ to      | string | float  | decimal(p2,s2)                  | integer                   |
|----------------|--------|--------|---------------------------------|---------------------------|
| integer        | wider  | wider  | wider when p2-s2 >= 19          | -                         |
| decimal(p,s)   | wider  | wider  | wider when p2-s2 >= p-s and     | wider when s = 0, p <= 18;|
|                |        |        | s2 >= s; narrower when both <=  | narrower when p-s >= 19   |
| float          | wider  | -      | narrower                        | narrower                  |
| date           | wider  | changed| changed                         | changed                   |

date -> timestamp and date -> timestamp_tz are wider (a date is a timestamp at midnight), the
reverse narrower; any other pair of kinds is `changed` (neither contains the other).
`string` is the widest type: every value of every type is also a string. timestamp <-> timestamp_tz
is a change of meaning (wall-clock vs UTC instant), so it is `changed`, neither wider nor narrower.
integer -> float counts as widening, as in SQL, although floats above 2**53 lose precision.
"""

from __future__ import annotations

import math
from typing import Literal

from meshc.types import Kind, LogicalType

Relation = Literal["same", "wider", "narrower", "changed"]

_INT64_DIGITS = 18.97  # int64 holds every 18-digit integer and some 19-digit ones


def relation(old: LogicalType, new: LogicalType) -> Relation:
    """How `new` relates to `old`: 'wider' when new accepts every value old accepts and more."""
    if old == new:
        return "same"
    if new.kind is Kind.STRING:
        return "wider"
    if old.kind is Kind.STRING:
        return "narrower"
    if old.is_numeric and new.is_numeric:
        return _contains(_numeric_domain(old), _numeric_domain(new))
    if old.kind is Kind.DATE and new.kind in (Kind.TIMESTAMP, Kind.TIMESTAMP_TZ):
        return "wider"
    if new.kind is Kind.DATE and old.kind in (Kind.TIMESTAMP, Kind.TIMESTAMP_TZ):
        return "narrower"
    return "changed"


def _numeric_domain(t: LogicalType) -> tuple[float, float]:
    """(integer digits, fraction digits) a numeric type can hold."""
    if t.kind is Kind.FLOAT:
        return (math.inf, math.inf)
    if t.kind is Kind.INTEGER:
        return (_INT64_DIGITS, 0.0)
    assert t.precision is not None and t.scale is not None
    return (float(t.precision - t.scale), float(t.scale))


def _contains(old: tuple[float, float], new: tuple[float, float]) -> Relation:
    grows = all(n >= o for o, n in zip(old, new, strict=True))
    shrinks = all(n <= o for o, n in zip(old, new, strict=True))
    if grows and shrinks:
        return "same"
    if grows:
        return "wider"
    return "narrower" if shrinks else "changed"
