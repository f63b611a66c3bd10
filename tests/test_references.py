"""Foreign keys (`references`): resolved at check time (MC211-MC213) and never reported as passing
unless they were evaluated (issue #12, items 6 and 7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, run_meshc

ENGINES = ["polars", "duckdb", "pandas"]

CUSTOMERS = """\
info: {version: "1.0.0", name: customers, domain: crm, owner: crm@company.com}
source: {path: customers.csv, format: csv}
output: {target: silver/crm/customers}
model:
  fields:
    - {name: customer_id, type: string, primary_key: true}
    - {name: customer_name, type: string}
quarantine: {enabled: true, target: quarantine/crm/customers}
lineage: {enabled: true}
"""

ORDERS = """\
info: {version: "1.0.0", name: orders, domain: crm, owner: crm@company.com}
source: {path: orders.csv, format: csv}
output: {target: silver/crm/orders}
model:
  fields:
    - {name: order_id, type: string, primary_key: true}
    - {name: customer_id, type: string, references: REFERENCE}
quarantine: {enabled: true, target: quarantine/crm/orders}
lineage: {enabled: true}
"""

MESH = """\
mesh: {name: fk_mesh}
lakehouse: {root: lake}
domains:
  crm: {owner: crm@company.com, default_engine: polars, contracts: contracts/crm}
"""


def _project(tmp_path: Path, reference: str = "crm.customers.customer_id") -> Path:
    """A one-domain mesh: customers C1, C2; orders O1 -> C1, O2 -> C9 (an orphan), O3 -> NULL."""
    folder = tmp_path / "contracts" / "crm"
    folder.mkdir(parents=True)
    (folder / "customers.yaml").write_text(CUSTOMERS)
    (folder / "orders.yaml").write_text(ORDERS.replace("REFERENCE", reference))
    (tmp_path / "customers.csv").write_text("customer_id,customer_name\nC1,Ada\nC2,Bob\n")
    (tmp_path / "orders.csv").write_text("order_id,customer_id\nO1,C1\nO2,C9\nO3,\n")
    (tmp_path / "mesh.yaml").write_text(MESH)
    return tmp_path


def _processor(project: Path, name: str, engine: str):  # type: ignore[no-untyped-def]
    from meshc.loader import load_contract
    from meshc.runner.processor import DataProcessor

    contract = load_contract(project / "contracts" / "crm" / f"{name}.yaml")
    return DataProcessor(contract, engine, root=project / "lake")


def _rule(report: dict, rule_id: str) -> dict:  # type: ignore[type-arg]
    return next(r for r in report["rules"] if r["id"] == rule_id)


# -- item 6: a standalone run evaluates references, or says it did not --------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_standalone_run_checks_references_against_the_parents_recorded_run(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    _processor(project, "customers", engine).run_source()
    result = _processor(project, "orders", engine).run_source()
    assert (result.rows_valid, result.rows_quarantined) == (2, 1)
    assert result.failures["customer_id.references"] == 1
    assert result.not_evaluated == {}
    orphan = result.quarantine_arrow().to_pylist()
    assert [r["order_id"] for r in orphan] == ["O2"]
    assert [x["rule_id"] for x in orphan[0]["_meshc_reasons"]] == ["customer_id.references"]
    rule = _rule(result.report, "customer_id.references")
    assert rule["failures"] == 1
    assert rule["checked_against"].startswith("crm.customers run ")
    assert result.report["warnings"] == []


def test_the_recorded_parent_is_read_only_for_its_key_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent's output is read through its committed path; other columns may be anything."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    project = _project(tmp_path)
    monkeypatch.chdir(project)
    parent = _processor(project, "customers", "polars").run_source()
    path = Path(parent.outputs["valid"] or "")
    pq.write_table(pa.table({"customer_id": ["C9"], "other": [[1, 2]]}), path)
    result = _processor(project, "orders", "polars").run_source()
    assert result.quarantine_arrow().column("order_id").to_pylist() == ["O1"]


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_reference_without_a_recorded_parent_is_not_evaluated_in_every_format(
    engine: str, tmp_path: Path
) -> None:
    import jsonschema

    project = _project(tmp_path)
    contract = str(project / "contracts" / "crm" / "orders.yaml")
    args = ("run", "-c", contract, "-e", engine, "--root", str(project / "lake"), "--no-write")
    as_json = run_meshc(*args, "--format", "json", cwd=project)
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    schema = json.loads((ROOT / "schemas" / "run-report.schema.json").read_text())
    jsonschema.validate(report, schema)
    rule = _rule(report, "customer_id.references")
    assert rule["failures"] is None and rule["status"] == "not_evaluated"
    assert "no run of crm.customers is recorded" in rule["reason"]
    assert [w["id"] for w in report["warnings"]] == ["customer_id.references"]
    assert report["rows"] == {"in": 3, "valid": 3, "quarantined": 0}

    junit = run_meshc(*args, "--format", "junit", cwd=project).stdout
    case = next(line for line in junit.splitlines() if 'name="customer_id.references"' in line)
    assert "<skipped message=" in case and "<failure" not in case
    assert 'skipped="1"' in junit

    text = run_meshc(*args, cwd=project).stdout
    assert "not evaluated" in text and "warning:" in text


def test_the_run_result_api_names_checks_not_evaluated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    result = _processor(project, "orders", "pandas").run_source(write=False)
    assert list(result.not_evaluated) == ["customer_id.references"]
    assert result.not_evaluated["customer_id.references"].startswith("not evaluated: ")
    assert result.ok  # a warning: the run itself is not failed


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda record, output: output.unlink(), "is not found"),
        (lambda record, output: record.write_text("{not json"), "cannot be read"),
        (lambda record, output: output.write_text("not parquet"), "cannot be read"),
    ],
)
def test_unusable_parent_data_is_not_evaluated_with_the_reason(
    damage: Any, reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    parent = _processor(project, "customers", "polars").run_source()
    record = project / "lake" / "_meshc" / "runs" / "crm" / "customers" / "latest.json"
    damage(record, Path(parent.outputs["valid"] or ""))
    result = _processor(project, "orders", "polars").run_source()
    assert reason in result.not_evaluated["customer_id.references"]
    assert result.rows_quarantined == 0


def test_a_reference_to_the_contract_itself_is_not_evaluated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path, "crm.orders.order_id")
    monkeypatch.chdir(project)
    _processor(project, "orders", "polars").run_source()  # a recorded run of itself exists now
    result = _processor(project, "orders", "polars").run_source()
    assert "contract itself" in result.not_evaluated["customer_id.references"]
    assert result.rows_quarantined == 0


def test_mesh_evaluates_references_against_the_parent_run_it_just_made(tmp_path: Path) -> None:
    result = run_meshc("mesh", cwd=_project(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    quarantine = tmp_path / "lake" / "quarantine" / "crm" / "orders" / "data.parquet"
    import pyarrow.parquet as pq

    assert pq.read_table(quarantine).column("order_id").to_pylist() == ["O2"]


# -- item 7: every reference resolves at check time -------------------------------------------


@pytest.mark.parametrize(
    ("reference", "code", "hint"),
    [
        ("crm.customer.customer_id", "MC211", "did you mean 'crm.customers'?"),
        ("crm.customers.customer_ide", "MC212", "did you mean 'customer_id'?"),
        ("customers.customer_id", "MC213", "did you mean 'crm.customers.customer_id'?"),
    ],
)
def test_check_refuses_a_reference_that_does_not_resolve(
    reference: str, code: str, hint: str, tmp_path: Path
) -> None:
    project = _project(tmp_path, reference)
    result = run_meshc("check", "contracts", "--format", "json", cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    found = [d for d in json.loads(result.stdout)["diagnostics"] if d["code"] == code]
    assert len(found) == 1, result.stdout
    line = (project / "contracts" / "crm" / "orders.yaml").read_text().splitlines()[6]
    assert (found[0]["line"], found[0]["col"]) == (7, line.index(reference) + 1)
    assert found[0]["hint"] == hint


def test_check_of_one_file_finds_the_referenced_contract_in_the_mesh(tmp_path: Path) -> None:
    project = _project(tmp_path)
    result = run_meshc("check", "contracts/crm/orders.yaml", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_without_the_referenced_contract_anywhere_is_an_error(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "mesh.yaml").unlink()
    result = run_meshc("check", "contracts/crm/orders.yaml", cwd=project)
    assert result.returncode == 1
    assert "MC211" in result.stdout


@pytest.mark.parametrize("reference", ["crm.customers.nope", "crm.nobody.customer_id", "a.b"])
def test_mesh_reports_a_bad_reference_instead_of_crashing(reference: str, tmp_path: Path) -> None:
    result = run_meshc("mesh", cwd=_project(tmp_path, reference))
    assert result.returncode == 2
    assert "internal error" not in result.stderr
    assert any(code in result.stderr for code in ("MC211", "MC212", "MC213")), result.stderr


def test_run_mesh_refuses_unresolved_references_before_running_anything(tmp_path: Path) -> None:
    from meshc.errors import ContractError
    from meshc.loader import load_contract
    from meshc.mesh.run import run_mesh

    project = _project(tmp_path, "crm.customers.nope")
    orders = load_contract(project / "contracts" / "crm" / "orders.yaml")
    customers = load_contract(project / "contracts" / "crm" / "customers.yaml")
    with pytest.raises(ContractError, match="MC212"):
        run_mesh([customers, orders], root=project / "lake")
    assert not (project / "lake").exists()
