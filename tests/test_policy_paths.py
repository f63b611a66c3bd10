"""Mesh policies that imply row rules reach a contract on every path: `meshc run -c`, `meshc run
--all`, `meshc mesh` and the library go through the runner, which injects them (issue #16)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

MESH = """\
mesh: {name: tiny_mesh, version: "1.0.0"}
lakehouse: {root: lakehouse}
domains:
  sales: {owner: sales@x.dev, default_engine: polars, contracts: contracts/sales}
governance:
  policies:
    - {id: money_is_non_negative, kind: money_non_negative, severity: warn, field_pattern: amount}
"""
CONTRACT = """\
info: {version: "1.0.0", name: orders, domain: sales, owner: sales@x.dev}
source: {path: landing/orders.csv, format: csv}
output: {target: silver/sales/orders}
quarantine: {enabled: true, target: quarantine/sales/orders}
model:
  fields:
    - {name: id, type: string, required: true}
    - {name: amount, type: float}
"""
POLICY_RULE = "money_is_non_negative:amount"


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "mesh.yaml").write_text(MESH)
    (tmp_path / "contracts" / "sales").mkdir(parents=True)
    (tmp_path / "contracts" / "sales" / "orders.yaml").write_text(CONTRACT)
    (tmp_path / "landing").mkdir()
    (tmp_path / "landing" / "orders.csv").write_text("id,amount\na,1.5\nb,-2\nc,\n")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(cwd)


def _policy_rules(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {k: r[k] for k in ("id", "severity", "failures")}
        for r in report["rules"]
        if r["id"] == POLICY_RULE
    ]


def test_run_c_and_mesh_apply_the_same_policy_rule(project: Path) -> None:
    from meshc.cli.app import app
    from meshc.cli.mesh_cmd import run_project

    run = CliRunner().invoke(
        app, ["run", "-c", "contracts/sales/orders.yaml", "--format", "json", "--no-write"]
    )
    assert run.exit_code == 0, run.output
    by_run = _policy_rules(json.loads(run.stdout))

    [status] = run_project(project / "mesh.yaml", None, project / "lakehouse")
    assert status.result is not None, status
    by_mesh = _policy_rules(status.result.report)

    assert by_mesh and by_mesh[0]["failures"] == 1
    assert by_run == by_mesh


def test_the_library_applies_the_policy_rule_given_the_mesh(project: Path) -> None:
    from meshc.mesh.project import load_project
    from meshc.runner.processor import DataProcessor

    processor = DataProcessor(
        "contracts/sales/orders.yaml", "polars", mesh=load_project("mesh.yaml")
    )
    result = processor.run_source(write=False)
    assert [r["failures"] for r in _policy_rules(result.report)] == [1]


def test_a_warn_policy_rule_is_reported_as_warn_with_its_rule_text(project: Path) -> None:
    """Run-time injected checks keep their declared severity and rule text in the report (they
    were all reported as `error` with the id as the rule)."""
    from meshc.mesh.project import load_project
    from meshc.runner.processor import DataProcessor

    mesh = load_project(project / "mesh.yaml")
    result = DataProcessor(
        "contracts/sales/orders.yaml", root=project / "lakehouse", mesh=mesh
    ).run_source(write=False)
    [entry] = [r for r in result.report["rules"] if r["id"] == POLICY_RULE]
    assert entry["severity"] == "warn"
    assert entry["rule"] != POLICY_RULE and "amount" in entry["rule"]
    assert entry["failures"] == 1
