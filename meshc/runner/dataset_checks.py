"""Dataset checks (row count, null ratio, freshness, aggregate SQL) as aggregate expressions that
the engine evaluates in one pass over the valid output, then judged here in plain Python."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from meshc.engines.base import Engine
from meshc.rules import checks as ck
from meshc.rules import expr as ir
from meshc.types import BOOLEAN, INTEGER


@dataclass(frozen=True)
class DatasetResult:
    id: str
    rule: str
    severity: str
    passed: bool
    observed: Any
    message: str

    def to_dict(self) -> dict[str, Any]:
        observed = (
            self.observed.isoformat()
            if isinstance(self.observed, (dt.date, dt.datetime))
            else self.observed
        )
        return {
            "id": self.id,
            "rule": self.rule,
            "severity": self.severity,
            "passed": self.passed,
            "observed": observed,
            "message": self.message,
        }


def evaluate_dataset_checks(
    engine: Engine, frame: Any, checks: tuple[ck.DatasetCheck, ...], now: dt.datetime
) -> list[DatasetResult]:
    if not checks:
        return []
    exprs: dict[str, ir.Expr] = {"__rows": ir.Agg("count_all", None, INTEGER)}
    for i, check in enumerate(checks):
        if isinstance(check, ck.NullRatio):
            exprs[f"c{i}"] = ir.Agg("count", check.column, INTEGER)
        elif isinstance(check, ck.Freshness):
            exprs[f"c{i}"] = ir.Agg("max", check.column, check.column.type)
        elif isinstance(check, ck.AggregateSql):
            exprs[f"c{i}"] = ir.bind_now(check.expr, now.date(), now)
    values = engine.aggregate(frame, exprs)
    rows = int(values["__rows"] or 0)
    return [_judge(check, values.get(f"c{i}"), rows, now) for i, check in enumerate(checks)]


def _judge(check: ck.DatasetCheck, value: Any, rows: int, now: dt.datetime) -> DatasetResult:
    base = {"id": check.id, "rule": check.rule, "severity": check.severity}
    if isinstance(check, ck.RowCount):
        ok = (check.min is None or rows >= check.min) and (check.max is None or rows <= check.max)
        return DatasetResult(**base, passed=ok, observed=rows, message=f"{rows} rows")
    if isinstance(check, ck.NullRatio):
        ratio = 0.0 if rows == 0 else (rows - int(value or 0)) / rows
        return DatasetResult(
            **base,
            passed=ratio <= check.max,
            observed=round(ratio, 6),
            message=f"{ratio:.2%} NULL (max {check.max:.2%})",
        )
    if isinstance(check, ck.Freshness):
        return _freshness(check, value, now, base)
    assert isinstance(check, ck.AggregateSql)
    passed = value is not False  # NULL (e.g. SUM over no rows) is not a violation, as for rows
    return DatasetResult(
        **base, passed=passed, observed=value, message="holds" if passed else "does not hold"
    )


def _freshness(
    check: ck.Freshness, newest: Any, now: dt.datetime, base: dict[str, Any]
) -> DatasetResult:
    if newest is None:
        return DatasetResult(
            **base, passed=False, observed=None, message="no values: cannot tell freshness"
        )
    if isinstance(newest, dt.datetime):
        newest_utc = newest if newest.tzinfo else newest.replace(tzinfo=dt.timezone.utc)
    else:
        newest_utc = dt.datetime(newest.year, newest.month, newest.day, tzinfo=dt.timezone.utc)
    age = (now - newest_utc).total_seconds()
    ok = age <= check.max_age_seconds
    return DatasetResult(
        **base,
        passed=ok,
        observed=newest,
        message=f"newest value is {_human(age)} old (max {_human(check.max_age_seconds)})",
    )


def _human(seconds: float) -> str:
    seconds = max(seconds, 0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


__all__ = ["DatasetResult", "evaluate_dataset_checks", "BOOLEAN"]
