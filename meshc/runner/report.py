"""The run report: one serialisable dict (schema: schemas/run-report.schema.json)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from meshc.engines.base import REASONS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from meshc.engines.base import Engine
    from meshc.rules.checks import CompiledContract, RowCheck
    from meshc.runner.processor import RunResult

REPORT_VERSION = 1
SAMPLE_ROWS = 5


def build_report(
    result: RunResult,
    compiled: CompiledContract,
    engine: Engine,
    source: str,
    elapsed: float,
    injected: Sequence[RowCheck] = (),
) -> dict[str, Any]:
    """`injected`: the checks added at run time (policies, foreign keys); they are reported with
    their own rule text and severity, like the contract's."""
    contract = result.contract
    rules = [
        _rule_entry(result, c.id, c.rule, c.severity, type(c).__name__) for c in compiled.row_checks
    ]
    known = {r["id"] for r in rules}
    extra = {c.id: c for c in injected if c.id not in known}
    rules += [_rule_entry(result, c.id, c.rule, c.severity, "Injected") for c in extra.values()]
    known |= set(extra)
    rules += [  # cast failures
        {
            "id": rule_id,
            "rule": "type" if rule_id.endswith(".type") else rule_id,
            "severity": "error",
            "kind": "Cast" if rule_id.endswith(".type") else "Injected",
            "failures": int(count),
        }
        for rule_id, count in sorted(result.failures.items())
        if rule_id not in known
    ]
    return {
        "schema_version": REPORT_VERSION,
        "run_id": result.run_id,
        "status": "ok" if result.ok else "failed",
        "contract": {
            "ref": contract.ref,
            "version": contract.info.version,
            "path": contract.path,
            "hash": contract.hash,
        },
        "engine": result.engine,
        "source": source,
        "rows": {
            "in": result.rows_in,
            "valid": result.rows_valid,
            "quarantined": result.rows_quarantined,
        },
        "pass_rate": round(result.pass_rate, 6),
        "rules": rules,
        "dataset_rules": [r.to_dict() for r in result.dataset_results],
        "warnings": [
            {"id": rule_id, "message": reason} for rule_id, reason in result.not_evaluated.items()
        ],
        "max_quarantine_ratio": contract.max_quarantine_ratio,
        "outputs": result.outputs,
        "lineage": {
            k: v
            for k, v in (result.lineage or {}).items()
            if k in ("record_path", "openlineage_event")
        },
        "samples": sample_quarantine(engine, result.quarantine_frame, SAMPLE_ROWS),
        "elapsed_seconds": round(elapsed, 3),
    }


def _rule_entry(
    result: RunResult, rule_id: str, rule: str, severity: str, kind: str
) -> dict[str, Any]:
    """A check not evaluated (a foreign key without parent data) has no failure count: it is
    `status: not_evaluated` with the reason, never a pass with 0 failures."""
    entry: dict[str, Any] = {"id": rule_id, "rule": rule, "severity": severity, "kind": kind}
    if rule_id in result.not_evaluated:
        return {
            **entry,
            "failures": None,
            "status": "not_evaluated",
            "reason": result.not_evaluated[rule_id],
        }
    entry["failures"] = int(result.failures.get(rule_id, 0))
    if rule_id in result.checked_against:
        entry["checked_against"] = result.checked_against[rule_id]
    return entry


def sample_quarantine(engine: Engine, frame: Any, n: int) -> list[dict[str, Any]]:
    """The first n quarantined rows as JSON-ready dicts (reasons kept structured)."""
    table = engine.to_arrow(frame)
    rows = table.slice(0, n).to_pylist()
    return [json.loads(json.dumps(row, default=str)) for row in rows]


__all__ = ["build_report", "sample_quarantine", "REASONS"]
