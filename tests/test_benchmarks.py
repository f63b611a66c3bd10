"""benchmarks/bench_engines.py at a tiny size: its verification compares real outputs, and a
contender whose outputs differ from the hand-written script's makes it exit 1. Speed is not
asserted here (the benchmark reports it; docs/benchmarks.md holds the measured table)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
ROWS = 20_000


def _bench(workdir: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = workdir / "result.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_engines.py"), "--rows", str(ROWS)]
        + ["--repeat", "1", "--workdir", str(workdir), "--json", str(result), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return proc, json.loads(result.read_text())


def test_every_contender_agrees_with_the_handwritten_script(tmp_path: Path) -> None:
    proc, report = _bench(
        tmp_path,
        # the wide workload has every feature (casts, 30 rules, masking); orders runs below
        *("--workloads", "wide", "--formats", "csv", "parquet"),
        *("--contenders", "handwritten", "polars", "duckdb"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert report["mismatches"] == []
    assert report["verified"] == [
        f"wide/{f}/{c}" for f in ("csv", "parquet") for c in ("duckdb", "handwritten", "polars")
    ]
    for row in report["results"]:
        summary = row["summary"]
        # real outputs were read back: every row is somewhere, some rows failed, and every
        # quarantined row carries at least one reason
        assert summary["valid"] + summary["quarantined"] == ROWS
        assert 0 < summary["quarantined"] <= sum(summary["reasons"].values())
    rules = {r for row in report["results"] for r in row["summary"]["reasons"]}
    assert len(rules) == 30 + 21  # every rule and every typed column's cast failed somewhere
    assert {row["contender"] for row in report["results"] if "time_met" in row} == {
        "polars",
        "duckdb",
    }


def test_a_contender_that_differs_makes_it_exit_1(tmp_path: Path) -> None:
    proc, report = _bench(
        tmp_path,
        *("--workloads", "orders", "--formats", "csv"),
        *("--contenders", "handwritten", "polars", "--sabotage-handwritten"),
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert report["verified"] == []
    assert len(report["mismatches"]) == 1
    assert report["mismatches"][0].startswith("MISMATCH orders/csv: polars")
    assert "MISMATCH" in proc.stderr
