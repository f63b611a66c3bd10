"""The quick-start mesh end to end: quarantines hold exactly the generated defects."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "examples"))

from generate_landing import generate  # noqa: E402

ENGINES = [
    "polars",
    "duckdb",
    "pandas",
    pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow]),
]


@pytest.fixture
def mesh_dir(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "mesh.yaml", tmp_path / "mesh.yaml")
    shutil.copytree(ROOT / "contracts", tmp_path / "contracts")
    generate(tmp_path, rows=120)
    return tmp_path


def _run(mesh_dir: Path, engine: str):  # type: ignore[no-untyped-def]
    from meshc.cli.mesh_cmd import run_project

    cwd = os.getcwd()
    os.chdir(mesh_dir)
    try:
        return run_project(mesh_dir / "mesh.yaml", engine, mesh_dir / "lakehouse")
    finally:
        os.chdir(cwd)


def _text(key: object) -> str | None:
    return None if key is None else str(key)  # parquet keys are typed, the manifest's are text


@pytest.mark.parametrize("engine", ENGINES)
def test_quarantines_hold_exactly_the_generated_defects(engine: str, mesh_dir: Path) -> None:
    statuses = {s.ref: s for s in _run(mesh_dir, engine)}
    assert len(statuses) == 15
    assert all(s.error is None for s in statuses.values()), {
        r: s.error for r, s in statuses.items()
    }
    expected = json.loads((mesh_dir / "landing" / "_expected_defects.json").read_text())["datasets"]
    for ref, entry in expected.items():
        result = statuses[ref].result
        assert result is not None
        key = entry["primary_key"]
        got = Counter(
            (_text(row[key]), tuple(r["rule_id"] for r in row["_meshc_reasons"]))
            for row in result.quarantine_arrow().to_pylist()
        )
        want = Counter((_text(d["key"]), tuple(d["rule_ids"])) for d in entry["defects"])
        assert got == want, ref
        assert result.rows_in == entry["rows"] == result.rows_valid + result.rows_quarantined
    for ref in ("gold.revenue_analytics", "gold.workforce_costs", "gold.sales_forecast"):
        gold = statuses[ref].result
        assert gold is not None and gold.rows_in > 0 and gold.rows_quarantined == 0, ref


def test_gold_lineage_names_its_inputs(mesh_dir: Path) -> None:
    _run(mesh_dir, "polars")
    from meshc.mesh.trace import trace

    tree = trace("gold.revenue_analytics", mesh_dir / "lakehouse")
    upstream = {u["ref"]: u for u in tree["upstream"]}
    assert set(upstream) == {"crm.orders", "finance.invoices"}
    assert (
        upstream["crm.orders"]["system"] == "shopify" and upstream["crm.orders"]["domain"] == "crm"
    )
    assert upstream["finance.invoices"]["domain"] == "finance"
    latest = json.loads((mesh_dir / "lakehouse/_meshc/runs/crm/orders/latest.json").read_text())
    assert upstream["crm.orders"]["run_id"] == latest["run_id"]
    event = json.loads(
        Path(
            str(
                next(
                    (mesh_dir / "lakehouse/_meshc/runs/gold/revenue_analytics").glob(
                        "*.openlineage.json"
                    )
                )
            )
        ).read_text()
    )
    # the inputs are named as the producers named their outputs (OpenLineage file naming)
    produced = {
        str((mesh_dir / "lakehouse" / f"silver/{ref}/data.parquet").resolve())
        for ref in ("crm/orders", "finance/invoices")
    }
    assert produced <= {i["name"] for i in event["inputs"]}
    assert {i["namespace"] for i in event["inputs"]} == {"file"}


@pytest.mark.spark
@pytest.mark.slow
def test_domain_pipelines_script_runs_each_domain_on_its_engine(
    tmp_path: Path,
    spark_session: object,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The script runs as `__main__` in this process, on the shared Spark session (it takes the
    active one, as in a notebook): a second JVM start-up would prove nothing about the script."""
    import runpy

    shutil.copy(ROOT / "mesh.yaml", tmp_path / "mesh.yaml")
    shutil.copytree(ROOT / "contracts", tmp_path / "contracts")
    script = ROOT / "examples" / "domain_pipelines.py"
    monkeypatch.chdir(ROOT)  # the script changes directory; restored after the test
    monkeypatch.setattr(sys, "argv", [str(script), "--rows", "60", "--root", str(tmp_path)])
    with pytest.raises(SystemExit) as exited:
        runpy.run_path(str(script), run_name="__main__")
    out, err = capfd.readouterr()
    assert exited.value.code == 0, out[-3000:] + err[-3000:]
    for line in (
        # captured, not a terminal: the product table is plain ASCII (docs/ci.md)
        "| crm     | orders",
        "| spark  |",
        "| duckdb |",
        "CRM (spark): orders by status",
        "Finance (duckdb)",
        "HR (polars)",
        "seed orders on duckdb: 12 rows, 7 valid, 5 quarantined",
    ):
        assert line in out, line
