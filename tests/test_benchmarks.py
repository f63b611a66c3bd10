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
        *("--contenders", "handwritten", "handwritten-tuned", "polars", "duckdb"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert report["mismatches"] == []
    assert report["verified"] == [
        f"wide/{f}/{c}"
        for f in ("csv", "parquet")
        for c in ("duckdb", "handwritten", "handwritten-tuned", "polars")
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
    # meshc is also compared with the tuned hand-written script (the honest lower bound)
    assert {"polars", "duckdb"} <= {
        row["contender"] for row in report["results"] if "tuned_cpu_x" in row
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


def test_the_tuned_reasons_equal_the_plain_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """handwritten-tuned is a fair baseline only if it writes what the plain script writes,
    NULL values and rows failing several rules included."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import polars as pl
    from handwritten_common import reasons

    frame = pl.DataFrame(
        {
            "a": ["x", None, "z", "w"],
            "b": ["1", "2", None, "4"],
            "fa": [True, True, False, False],
            "fb": [True, False, True, False],
        }
    )
    entries = [
        ("fa", "a_rule", "a IS x", "a", "violates a IS x", pl.col("a")),
        ("fb", "b.type", "type integer", "b", "value of 'b' cannot be read", pl.col("b")),
    ]
    plain = frame.select(reasons(entries, tuned=False).alias("r"))
    tuned = frame.select(reasons(entries, tuned=True).alias("r"))
    assert tuned.schema == plain.schema
    assert tuned.equals(plain)
    assert plain["r"].list.len().to_list() == [2, 1, 1, 0]
    assert plain["r"][1][0]["value"] is None


def test_the_tuned_hash_equals_python_hmac(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    monkeypatch.setenv("MESHC_MASKING_KEY", "a key")
    import polars as pl
    from handwritten_common import masked

    frame = pl.DataFrame({"email": ["a@x.org", None, "a@x.org", "b@y.com"]})
    plain = frame.select(masked(pl.col("email"), "hash"))
    tuned = frame.select(masked(pl.col("email"), "hash", tuned=True))
    assert tuned.equals(plain)
    assert plain["email"].null_count() == 1


def _memory_cgroups_or_skip() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from memcap import MemoryCap, MemoryCapError

    try:
        MemoryCap(2**30, "meshc-bench-probe").remove()
    except MemoryCapError as exc:  # not root, or no memory controller: the cap cannot be set
        pytest.skip(str(exc))


def test_a_memory_limit_is_enforced_and_a_run_over_it_fails(tmp_path: Path) -> None:
    """--memory-limit is how "bounded memory" is proven: a run inside the cap is measured (the
    group's peak reported), a run that needs more is killed by the kernel and the benchmark
    fails naming the limit."""
    _memory_cgroups_or_skip()
    orders = ("--workloads", "orders", "--formats", "csv", "--contenders", "polars")
    proc, report = _bench(tmp_path, *orders, "--memory-limit", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    (row,) = report["results"]
    assert 0 < row["group_peak_mb"] <= 1024
    assert row["summary"]["valid"] + row["summary"]["quarantined"] == ROWS

    killed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_engines.py"), "--rows", str(ROWS)]
        + ["--repeat", "1", "--workdir", str(tmp_path), *orders, "--memory-limit", "0.06"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert killed.returncode != 0
    assert "over the memory limit of 0.06 GiB" in killed.stderr
