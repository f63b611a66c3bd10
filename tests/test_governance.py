"""Federated governance: mesh.yaml policies checked statically and injected at run time."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from meshc.governance import injected_checks
from meshc.mesh.project import load_project
from tests.conftest import ROOT, run_meshc


@pytest.fixture
def mesh_copy(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "mesh.yaml", tmp_path / "mesh.yaml")
    shutil.copytree(ROOT / "contracts", tmp_path / "contracts")
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture drifted: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _diagnostics(mesh_dir: Path) -> list[dict[str, object]]:
    proc = run_meshc("check", "--format", "json", cwd=mesh_dir)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["diagnostics"]  # type: ignore[no-any-return]


def test_example_mesh_satisfies_every_policy() -> None:
    proc = run_meshc("check", "--format", "json")
    assert proc.returncode == 0, proc.stdout
    assert json.loads(proc.stdout)["files_checked"] == 15


def test_pii_leak_into_silver_fails_naming_the_policy(mesh_copy: Path) -> None:
    _edit(mesh_copy / "contracts/crm/customers.yaml", "pii: true, masking: hash", "pii: true")
    (d,) = [d for d in _diagnostics(mesh_copy) if d["code"] == "MC404"]
    assert "pii_is_masked" in str(d["message"]) and "tax_id" in str(d["message"])
    assert str(d["path"]).endswith("customers.yaml") and d["line"] == 23


def test_dropped_money_rule_fails(mesh_copy: Path) -> None:
    _edit(
        mesh_copy / "contracts/crm/orders.yaml",
        '    - {name: order_amount_non_negative, sql: "order_amount >= 0"}\n',
        "",
    )
    (d,) = [d for d in _diagnostics(mesh_copy) if d["code"] == "MC405"]
    assert "money_is_non_negative" in str(d["message"]) and "order_amount" in str(d["message"])


def test_undeclared_domain_fails_with_a_suggestion(mesh_copy: Path) -> None:
    _edit(mesh_copy / "contracts/sales/leads.yaml", "domain: sales", "domain: salez")
    (d,) = [d for d in _diagnostics(mesh_copy) if d["code"] == "MC403"]
    assert "known_domain" in str(d["message"]) and "sales" in str(d["hint"])


def test_naive_event_timestamp_and_naming(mesh_copy: Path) -> None:
    _edit(
        mesh_copy / "contracts/crm/orders.yaml",
        "name: placed_at, type: timestamp with time zone",
        "name: placedAt, type: timestamp",
    )
    codes = {(d["code"], str(d["message"]).split("'")[1]) for d in _diagnostics(mesh_copy)}
    assert ("MC406", "timestamps_in_utc") in codes and ("MC401", "snake_case_names") in codes


def test_money_policy_injects_missing_rules_at_run_time(mesh_copy: Path) -> None:
    from meshc import DataProcessor, load_contract

    mesh = load_project(mesh_copy / "mesh.yaml")
    orders = mesh_copy / "contracts/crm/orders.yaml"
    assert injected_checks(load_contract(orders), mesh) == ()  # it carries its own >= 0 rules
    _edit(orders, '    - {name: order_amount_non_negative, sql: "order_amount >= 0"}\n', "")
    contract = load_contract(orders)
    (check,) = injected_checks(contract, mesh)
    assert check.id == "money_is_non_negative:order_amount" and check.rule == "order_amount >= 0"
    data = mesh_copy / "orders.csv"
    header = ",".join(contract.field_names)
    row = (
        "ORD-0000001,C1,P1,pending,2024-01-02,{amount},,1,USD,"
        "2024-01-02T10:00:00Z,2024-01-02 11:00:00"
    )
    second = row.replace("0000001", "0000002").replace("T10:", "T12:")
    data.write_text("\n".join([header, row.format(amount="-5"), second.format(amount="5")]))
    result = DataProcessor(contract, extra_checks=(check,)).run_source(data, write=False)
    quarantined = result.quarantine_arrow().to_pylist()
    assert [r["order_id"] for r in quarantined] == ["ORD-0000001"], quarantined
    reasons = [x["rule_id"] for x in quarantined[0]["_meshc_reasons"]]
    assert reasons == ["money_is_non_negative:order_amount"]
    assert {r["id"] for r in result.report["rules"]} >= {"money_is_non_negative:order_amount"}


def _policy_kinds() -> list[str]:
    schema = json.loads((ROOT / "schemas" / "mesh.schema.json").read_text())
    return [b["properties"]["kind"]["const"] for b in schema["$defs"]["policy"]["oneOf"]]


@pytest.mark.parametrize("kind", _policy_kinds())
@pytest.mark.parametrize("extra", ["", ", severity: sometimes"])
def test_a_malformed_policy_of_every_kind_is_a_located_finding(
    tmp_path: Path, kind: str, extra: str
) -> None:
    """A policy's keys are checked against its kind's branch of the schema, whose references
    (`#/$defs/...`) point into the whole schema: they must resolve there, not crash."""
    mesh = tmp_path / "mesh.yaml"
    mesh.write_text(
        'mesh: {name: m, version: "1.0.0"}\ndomains:\n  d: {owner: d@example.com, contracts: c}\n'
        f"governance:\n  policies:\n    - {{id: p, kind: {kind}{extra}}}\n"
    )
    from meshc.governance import load_mesh

    project, problems = load_mesh(mesh)
    assert project is None
    assert problems and {d.code for d in problems} <= {"MC102", "MC103", "MC105"}
    assert all(d.path == str(mesh) and d.line == 6 for d in problems), problems
