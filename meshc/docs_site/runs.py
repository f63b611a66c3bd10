"""A data product's runs over time, read from the run records the runner writes.

Each run with lineage enabled leaves `<root>/_meshc/runs/<domain>/<name>/<run_id>.json`
(meshc.runner.lineage.record_paths) next to `latest.json` (a copy of the newest) and the
OpenLineage event `<run_id>.openlineage.json`. Records are files other tools may have touched: one
that cannot be read is listed with the reason, never a crash and never a silent gap.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_RUNS = 50  # the charts show the newest runs; the page says how many there were


@dataclass(frozen=True)
class RunPoint:
    """One run of a data product, as its record tells it."""

    run_id: str
    started_at: str
    engine: str
    status: str
    rows_in: int
    rows_valid: int
    rows_quarantined: int
    contract_version: str
    rule_failures: dict[str, int] | None  # None: a record written before meshc kept them

    @property
    def pass_rate(self) -> float | None:
        """Share of source rows that passed, in percent; None for a run that read no rows."""
        return 100.0 * self.rows_valid / self.rows_in if self.rows_in else None


@dataclass
class RunHistory:
    folder: Path
    runs: list[RunPoint] = field(default_factory=list)  # oldest first, at most MAX_RUNS
    total: int = 0  # readable records found, before the MAX_RUNS cut
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (file name, why)


def runs_folder(root: Path, domain: str, name: str) -> Path:
    """Where the runner keeps a product's records (the folder of lineage.record_paths)."""
    return root / "_meshc" / "runs" / domain / name


def load_runs(root: Path, domain: str, name: str) -> RunHistory:
    """The product's run records, oldest first (by start time, then run id)."""
    history = RunHistory(runs_folder(root, domain, name))
    if not history.folder.is_dir():
        return history
    points = []
    for path in sorted(history.folder.glob("*.json")):
        if path.name == "latest.json" or path.name.endswith(".openlineage.json"):
            continue
        try:
            points.append(_point(_read(path), f"{domain}.{name}"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            history.unreadable.append((path.name, _why(exc)))
    points.sort(key=lambda p: (p.started_at, p.run_id))
    history.total = len(points)
    history.runs = points[-MAX_RUNS:]
    return history


def _read(path: Path) -> Any:
    if path.stat().st_size > 16 * 1024 * 1024:  # a record is a few KB; do not load a stray dump
        raise ValueError("larger than 16 MiB, not a run record")
    return json.loads(path.read_text(encoding="utf-8"))


def _point(record: Any, ref: str) -> RunPoint:
    contract, counts = _object(record, "contract"), _object(record, "counts")
    if contract.get("ref") != ref:
        raise ValueError(f"the record is for {contract.get('ref')!r}, not {ref!r}")
    rows = [_count(counts, k) for k in ("rows_in", "rows_valid", "rows_quarantined")]
    failures = record.get("rule_failures")
    return RunPoint(
        run_id=str(record["run_id"]),
        started_at=str(record["started_at"]),
        engine=str(record.get("engine", "")),
        status=str(record.get("status", "")),
        rows_in=rows[0],
        rows_valid=rows[1],
        rows_quarantined=rows[2],
        contract_version=str(contract.get("version", "")),
        rule_failures=None if failures is None else _failures(failures),
    )


def _object(record: Any, key: str) -> dict[str, Any]:
    """`record[key]`, a JSON object (a record edited or written by something else may not be)."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    value = record[key]
    if not isinstance(value, dict):
        raise ValueError(f"{key} is not a JSON object")
    return value


def _count(counts: dict[str, Any], key: str) -> int:
    value = counts[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"counts.{key} is not a row count: {value!r}")
    return value


def _failures(failures: Any) -> dict[str, int]:
    if not isinstance(failures, dict):
        raise ValueError("rule_failures is not an object")
    return {str(k): _count(failures, k) for k in failures}


def _why(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing key {exc}"
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON ({exc.msg}, line {exc.lineno})"
    return str(exc) or type(exc).__name__
