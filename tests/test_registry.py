"""The mesh registry is generated deterministically, validates against its schema, and --check
catches a stale file."""

from __future__ import annotations

import shutil
from pathlib import Path

import jsonschema
from ruamel.yaml import YAML

from meshc.schema_validation import load_schema
from tests.conftest import ROOT, run_meshc


def test_checked_in_registry_is_current() -> None:
    proc = run_meshc("registry", "--check")
    assert proc.returncode == 0, proc.stderr
    data = YAML(typ="safe").load((ROOT / "contracts" / "registry.yaml").read_text())
    jsonschema.validate(data, load_schema("registry"))
    refs = [c["ref"] for c in data["contracts"]]
    assert refs == sorted(refs) and len(refs) == 15
    gold = next(c for c in data["contracts"] if c["ref"] == "gold.revenue_analytics")
    assert {"crm.orders", "finance.invoices"} <= set(gold["depends_on"])


def test_check_fails_when_a_contract_changes(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "contracts", tmp_path / "contracts")
    assert run_meshc("registry", "--check", cwd=tmp_path).returncode == 0
    orders = tmp_path / "contracts" / "crm" / "orders.yaml"
    orders.write_text(orders.read_text().replace('version: "2.0.0"', 'version: "2.1.0"'))
    stale = run_meshc("registry", "--check", cwd=tmp_path)
    assert stale.returncode == 1 and "stale" in stale.stderr
    assert run_meshc("registry", cwd=tmp_path).returncode == 0
    assert run_meshc("registry", "--check", cwd=tmp_path).returncode == 0
