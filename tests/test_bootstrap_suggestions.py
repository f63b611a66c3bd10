"""meshc bootstrap suggestions that catch real defects without quarantining clean data (issue #17):
a uniform sample over the whole input, ranges (domain-aware), accepted values that keep rare
legitimate values but not typos, NOT NULL only without nulls, suspects commented out, relative
paths. Data is generated here, a few thousand rows each."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from ruamel.yaml import YAML

from meshc.bootstrap import infer_contract
from meshc.loader import load_contract
from tests.conftest import run_meshc


def _rules(inferred: Any) -> dict[str, Any]:
    return {s.rule_id: s for s in inferred.suggestions if s.rule_id}


def _written_rules(inferred: Any) -> dict[str, str]:
    quality = inferred.document.get("quality", {})
    return {r["name"]: r["sql"] for r in quality.get("row_rules", [])}


def test_sample_covers_a_sorted_inputs_tail(tmp_path: Path) -> None:
    """Sorted by time: the first 500 rows hold only January and small readings."""
    rows = 3_000
    landing = tmp_path / "landing"
    landing.mkdir()
    pl.DataFrame(
        {
            "month": [1 + i * 12 // rows for i in range(rows)],
            "reading": [str(i) for i in range(rows)],
        }
    ).write_csv(landing / "sorted.csv")
    inferred = infer_contract(landing / "sorted.csv", sample_rows=500)
    assert inferred.rows_profiled == 500 and inferred.rows_quarantined == 0
    written = _written_rules(inferred)
    assert written["month_range"] == "month BETWEEN 1 AND 12"
    low, high = written["reading_range"].removeprefix("reading BETWEEN ").split(" AND ")
    assert int(low) == 0 and int(high) >= rows - 1  # the tail the first 500 rows never show
    header = inferred.to_yaml().splitlines()[1]
    assert "uniform random sample of 500 of 3,000 rows" in header and "seed 0" in header
    seeded = [
        infer_contract(landing / "sorted.csv", sample_rows=500, seed=1, measure=False).to_yaml()
        for _ in range(2)
    ]
    assert seeded[0] == seeded[1] and "seed 1" in seeded[0]  # deterministic with a seed


def test_month_like_range_suggested_with_evidence() -> None:
    rng = random.Random(5)
    n = 3_000
    frame = pl.DataFrame(
        {
            "month": [rng.randint(1, 12) for _ in range(n - 1)] + [13],  # one defect
            "hour": [rng.randint(0, 23) for _ in range(n)],
            "discount_pct": [rng.randint(0, 40) for _ in range(n)],
        }
    )
    inferred = infer_contract(frame, name="calendar")
    rules = _rules(inferred)
    assert rules["month_range"].rule == "month BETWEEN 1 AND 12"
    assert "reads as a month" in rules["month_range"].evidence
    assert "would quarantine 1 of 3,000 profiled rows" in rules["month_range"].evidence
    assert rules["hour_range"].rule == "hour BETWEEN 0 AND 23"
    assert rules["discount_pct_range"].rule == "discount_pct BETWEEN 0 AND 100"
    assert inferred.quarantined["month_range"] == 1


def test_typos_excluded_with_evidence_rare_legitimate_values_kept() -> None:
    carriers = ["UA"] * 3_000 + ["AA"] * 1_500 + ["OO"] * 6 + ["ua"] * 2  # 4,508 rows
    statuses = ["delivered"] * 4_465 + ["delivred"] * 3 + ["returned"] * 40
    rng = random.Random(2)
    rng.shuffle(carriers)
    rng.shuffle(statuses)
    inferred = infer_contract(pl.DataFrame({"carrier": carriers, "status": statuses}))
    carrier = _rules(inferred)["carrier_accepted_values"]
    assert "'OO'" in carrier.rule and "'ua'" not in carrier.rule  # rare but legitimate: kept
    assert "'ua' (2, a variant of 'UA' seen" in carrier.evidence
    status = _rules(inferred)["status_accepted_values"]
    assert "'returned'" in status.rule and "'delivred'" not in status.rule
    assert "'delivred' (3, a variant of 'delivered' seen" in status.evidence


def test_not_null_only_when_the_sample_has_no_nulls() -> None:
    n = 3_000
    frame = pl.DataFrame(
        {
            "tailnum": [None if i % 100 == 0 else f"N{i % 700:03d}" for i in range(n)],
            "code": [f"C{i % 9}" for i in range(n)],
        }
    )
    inferred = infer_contract(frame, name="planes")
    fields = {f["name"]: f for f in inferred.document["model"]["fields"]}
    assert "required" not in fields["tailnum"] and fields["code"]["required"] is True
    assert not any("IS NOT NULL" in s.rule for s in inferred.suggestions)
    assert inferred.rows_quarantined == 0


def test_suspects_are_reported_and_commented_out_not_written(tmp_path: Path) -> None:
    """A heavy clean tail: a fenced range would quarantine clean rows, so it is a suspect."""
    rng = random.Random(11)
    frame = pl.DataFrame({"amount": [round(rng.lognormvariate(3.5, 0.9), 2) for _ in range(4_000)]})
    inferred = infer_contract(frame, name="payments")
    suspect = _rules(inferred)["amount_range"]
    assert suspect.placement == "suspect" and (suspect.clean_share or 0) > 0.001
    assert "amount_range" not in _written_rules(inferred)
    assert "amount_non_negative" in _written_rules(inferred)
    text = inferred.to_yaml()
    assert "# - name: amount_range" in text and f"#   sql: {suspect.rule}" in text
    assert load_contract(inferred.save(tmp_path / "payments.yaml")).row_rules  # still loads
    row = next(r for r in inferred.summary() if r["rule_id"] == "amount_range")
    assert row["suspect"] and not row["applied"]
    lenient = infer_contract(frame, name="payments", max_clean_share=0.5)
    assert "amount_range" in _written_rules(lenient)  # the threshold is an option


def test_paths_are_relative_as_given(tmp_path: Path) -> None:
    """Landing outside the working directory: source.path is the path as given, not the machine's
    absolute path; the schema reference is relative to the contract and resolves."""
    landing = tmp_path / "data" / "landing"
    landing.mkdir(parents=True)
    rng = random.Random(4)
    pl.DataFrame(
        {"status": [rng.choice(["open", "paid"]) for _ in range(500)], "qty": list(range(500))}
    ).write_csv(landing / "orders.csv")
    work = tmp_path / "work"
    work.mkdir()
    proc = run_meshc(
        "bootstrap",
        "--landing",
        "../data/landing",
        "--output",
        "contracts",
        "--suggest-rules",
        "--json",
        cwd=work,
    )
    assert proc.returncode == 0, proc.stderr
    contract = work / "contracts" / "orders.yaml"
    text = contract.read_text(encoding="utf-8")
    assert YAML(typ="safe").load(text)["source"]["path"] == "../data/landing/orders.csv"
    assert str(tmp_path) not in text
    first = text.splitlines()[0]
    assert first == "# yaml-language-server: $schema=schemas/contract.schema.json"
    assert json.loads((work / "contracts" / "schemas" / "contract.schema.json").read_text())
    run = run_meshc("run", "-c", "contracts/orders.yaml", "--engine", "polars", cwd=work)
    assert run.returncode == 0, run.stderr
    assert json.loads(proc.stdout)["suspects"] == []  # suspects are listed apart in --json


@pytest.mark.parametrize("rows", [10, 2_000])
def test_sample_is_all_rows_when_the_input_is_small(tmp_path: Path, rows: int) -> None:
    frame = pl.DataFrame({"x": list(range(rows))})
    inferred = infer_contract(frame, name="small", sample_rows=5_000, measure=False)
    assert inferred.rows_profiled == rows
    assert f"from all {rows:,} rows" in inferred.to_yaml().splitlines()[1]
