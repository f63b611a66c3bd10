"""ODCS v3 import and export (issue #15, point 1): through the real CLI, exports judged by the
standard's own JSON Schema, round trips lossless for every example contract."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from meshc.checking import run_check
from meshc.cli.app import app
from meshc.contract import Contract
from meshc.loader import load_contract
from meshc.located_yaml import load_yaml_file
from meshc.rules.checks import Origin
from meshc.rules.compiler import compile_contract
from tests.conftest import FIXTURES, run_meshc

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "contracts").rglob("*.yaml") if p.name != "registry.yaml")
EXAMPLES.append(ROOT / "examples" / "seed" / "orders.yaml")
FOREIGN = FIXTURES / "odcs" / "seller_payments.odcs.yaml"


def meshc(*args: str | Path) -> Any:
    """The CLI in-process (typer's runner): exit code, stdout and stderr apart."""
    return CliRunner().invoke(app, [str(a) for a in args])


def official_errors(path: Path) -> list[str]:
    """Violations of the JSON Schema shipped by the open-data-contract-standard package."""
    from jsonschema import validators

    text = resources.files("open_data_contract_standard").joinpath("schema.json").read_text()
    schema = json.loads(text)
    data, _ = load_yaml_file(path)
    validator = validators.validator_for(schema)(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]


def compiled_checks(contract: Contract) -> tuple[list[Any], list[Any]]:
    """The compiled checks without their YAML lines (the imported file is laid out anew)."""
    compiled = compile_contract(contract)
    blank = Origin("", 0, 0)
    return (
        [dataclasses.replace(c, origin=blank) for c in compiled.row_checks],
        [dataclasses.replace(c, origin=blank) for c in compiled.dataset_checks],
    )


@pytest.mark.parametrize("contract", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_round_trip_is_lossless(contract: Path, tmp_path: Path) -> None:
    exported, back, again = tmp_path / "odcs.yaml", tmp_path / "back.yaml", tmp_path / "odcs2.yaml"
    result = meshc("export", "odcs", contract, "-o", exported)
    assert result.exit_code == 0, result.stderr
    assert official_errors(exported) == []
    result = meshc("import", "odcs", exported, "-o", back)
    assert result.exit_code == 0, result.stderr
    assert "warning:" not in result.stderr  # everything meshc wrote comes back
    original, imported = load_contract(contract), load_contract(back)
    assert imported.raw == original.raw
    assert dataclasses.replace(imported, path=original.path) == original
    assert compiled_checks(imported) == compiled_checks(original)
    assert meshc("export", "odcs", back, "-o", again).exit_code == 0
    assert again.read_text() == exported.read_text()


def test_export_maps_to_odcs_places_and_reports_the_rest(tmp_path: Path) -> None:
    out = tmp_path / "employees.odcs.yaml"
    result = meshc("export", "odcs", ROOT / "contracts/hr/employees.yaml", "-o", out)
    assert result.exit_code == 0
    doc, _ = load_yaml_file(out)
    assert (doc["apiVersion"], doc["kind"], doc["domain"], doc["version"]) == (
        "v3.2.0", "DataContract", "hr", "3.0.0"
    )  # fmt: skip
    assert doc["team"]["members"] == [{"username": "people-analytics@company.com", "role": "owner"}]
    props = {p["name"]: p for p in doc["schema"][0]["properties"]}
    assert props["employee_id"]["primaryKey"] is True
    assert props["employee_id"]["logicalTypeOptions"] == {"pattern": "^E[0-9]{6}$"}
    assert props["national_id"]["classification"] == "pii"
    assert props["national_id"]["customProperties"] == [
        {"property": "meshc", "value": {"masking": "hash"}}
    ]
    assert "warning: not mapped: model.fields[8].masking (ODCS has no masking" in result.stderr
    assert "warning: not mapped: source (" in result.stderr
    checks = doc["schema"][0]["quality"]
    sql = [c for c in checks if c["type"] == "sql"]
    assert sql and all(c["query"].startswith("SELECT ") for c in sql)
    assert {"property": "latency", "value": 36500, "unit": "d"}.items() <= doc["slaProperties"][
        0
    ].items()


def test_export_prints_to_stdout_without_output() -> None:
    result = meshc("export", "odcs", ROOT / "examples/seed/orders.yaml")
    assert result.exit_code == 0
    assert result.stdout.startswith("apiVersion: v3.2.0\nkind: DataContract\n")


def test_import_of_a_foreign_odcs_contract_passes_check(tmp_path: Path) -> None:
    out = tmp_path / "contracts" / "seller" / "payments.yaml"
    result = meshc("import", "odcs", FOREIGN, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert run_check([str(out)]).errors == 0
    contract = load_contract(out)
    assert contract.ref == "seller.seller_payments_v1"
    assert contract.info.owner == "ceastwood@example.com"
    assert "line_items" not in contract.field_names  # an array column: reported, left out
    assert contract.field("amount_usd").type_text == "decimal(12,2)"
    assert contract.field("processed_at").type_text == "timestamp with time zone"
    assert contract.field("rcvr_email").pii is True
    assert contract.field("rcvr_cntry_code").accepted_values == ("US", "DE", "FR")
    assert contract.field("rcvr_id").required and not contract.field("rcvr_id").primary_key
    assert [r.sql for r in contract.row_rules] == ["NOT (amount_usd <= 0)"]
    assert contract.row_rules[0].severity == "warn"
    rules = {(r.type, r.name): r for r in contract.dataset_rules}
    assert rules["unique", "primary_key"].columns == ("rcvr_id", "pmt_txn_id")  # composite key
    assert rules["row_count", "row_count_within_expected_volume"].min == 101
    assert rules["sql", "total_volume"].sql == "SUM(amount_usd) > 1000"
    assert rules["null_ratio", None].max == 0.05
    assert rules["freshness", None].max_age == "4d"
    for expected in (
        "not mapped: servers (",
        "not mapped: price (",
        "not mapped: schema[0].properties[7].logicalType (logicalType 'array' has no meshc type",
        "not mapped: schema[0].properties[1].classification (",
        "not mapped: schema[0].quality[3] (the query is no condition meshc can read: uses JOIN",
        "not mapped: schema[0].quality[4] (a text check is prose",
        "not mapped: slaProperties[1] (meshc enforces data, not service levels",
        "not mapped: schema[0].properties[5].relationships[0] (",
    ):
        assert f"warning: {expected}" in result.stderr


def test_import_leaves_out_rules_meshc_refuses(tmp_path: Path) -> None:
    odcs = tmp_path / "odcs.yaml"
    odcs.write_text(ODCS_HEADER + textwrap.dedent("""\
        schema:
          - name: t
            properties:
              - {name: a, logicalType: integer, logicalTypeOptions: {minimum: 5, maximum: 1}}
              - {name: b, logicalType: string, logicalTypeOptions: {pattern: "(?=x)b"}}
              - {name: b, logicalType: integer}
            quality:
              - {type: sql, query: "SELECT COUNT(*) FROM t WHERE nope > 1", mustBe: 0}
              - {type: sql, query: "SELECT COUNT(*) FROM t WHERE a < 0", mustBe: 0}
        """))  # fmt: skip
    out = tmp_path / "t.yaml"
    result = meshc("import", "odcs", odcs, "-o", out)
    assert result.exit_code == 0, result.stderr
    for expected in (
        "schema[0].quality[0] (meshc refuses it: MC305",
        "schema[0].properties[0].logicalTypeOptions.minimum (meshc refuses it: MC204",
        "schema[0].properties[1].logicalTypeOptions.pattern (meshc refuses it: MC203",
        "schema[0].properties[2] (a second property named 'b'",
    ):
        assert f"warning: not mapped: {expected}" in result.stderr
    contract = load_contract(out)
    assert [r.sql for r in contract.row_rules] == ["NOT (a < 0)"]
    assert contract.field("a").max == 1 and contract.field("b").type_text == "string"
    assert run_check([str(out)]).errors == 0


ODCS_HEADER = "apiVersion: v3.1.0\nkind: DataContract\nid: x\nversion: 1.0.0\ndomain: d\n"


def test_import_does_not_replace_an_existing_file_without_force(tmp_path: Path) -> None:
    """`-o contracts/crm/orders.yaml` by mistake, or `-o` the ODCS file itself: no data lost."""
    odcs = tmp_path / "odcs.yaml"
    odcs.write_text(
        ODCS_HEADER + "schema: [{name: t, properties: [{name: a, logicalType: string}]}]\n"
    )
    mine = tmp_path / "mine.yaml"
    mine.write_text("# hand-written\n")
    for target in (mine, odcs):
        before = target.read_text()
        refused = meshc("import", "odcs", odcs, "-o", target)
        assert refused.exit_code == 2
        assert f"{target}: exists; pass --force to replace it" in refused.stderr
        assert target.read_text() == before
    assert meshc("import", "odcs", odcs, "-o", mine, "--force").exit_code == 0
    assert load_contract(mine).info.name == "t"


def test_import_reports_a_domain_it_had_to_rename(tmp_path: Path) -> None:
    """A domain that is no identifier is made one, and said so like the name: never silently."""
    odcs = tmp_path / "odcs.yaml"
    header = ODCS_HEADER.replace("domain: d", 'domain: "Sales Öps"')
    odcs.write_text(header + "schema: [{name: t, properties: [{name: a, logicalType: string}]}]\n")
    result = meshc("import", "odcs", odcs, "-o", tmp_path / "t.yaml")
    assert result.exit_code == 0, result.stderr
    assert load_contract(tmp_path / "t.yaml").info.domain == "sales_ps"
    assert "warning: not mapped: domain ('Sales Öps' is no identifier; the domain is sales_ps)" in (
        result.stderr
    )


@pytest.mark.parametrize(
    "text,where,needle",
    [
        ("a: [1, 2\n", ":2:1: MC002", "invalid YAML"),
        ("apiVersion: v2.2.0\nkind: DataContract\n", ":1:13: MC009", "apiVersion v2.2.0 is not ODCS v3"),
        ("apiVersion: 3.1.0\nkind: DataContract\n", ":1:13: MC009", "with a v: `apiVersion: v3.x.y`"),
        ("apiVersion: v3.1.0\nkind: DataContract\nname: x\n", ":1:1: MC009", "'id' is a required"),
        (ODCS_HEADER, ":1:1: MC009", "no schema objects"),
        (ODCS_HEADER.replace("domain: d\n", "") + "schema: [{name: t}]\n", ":1:1: MC009", "no domain"),
        (ODCS_HEADER + "schema: [{name: t}, {name: u}]\n", ":6:9: MC009", "--object (t, u)"),
        ("info: {name: x}\nmodel: {}\n", ":1:1: MC009", "looks like a meshc contract already"),
        ("", ":1:1: MC009", "not an ODCS data contract"),
    ],
    ids=["not-yaml", "odcs-v2", "no-v", "missing-id", "no-objects", "no-domain", "two-objects", "meshc",
         "empty"],
)  # fmt: skip
def test_bad_input_is_one_located_error_and_exit_2(
    tmp_path: Path, text: str, where: str, needle: str
) -> None:
    path = tmp_path / "in.yaml"
    path.write_text(text)
    result = meshc("import", "odcs", path)
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # no traceback, a clean exit
    assert f"{path}{where}" in result.stderr and needle in result.stderr
    assert result.stdout == ""


def test_bad_input_never_prints_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "in.yaml"
    path.write_text("apiVersion: v3.1.0\nkind: DataContract\nschema: 7\n")
    proc = run_meshc("import", "odcs", str(path))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and f"{path}:3:9: MC009" in proc.stderr


def test_export_of_an_invalid_contract_is_located(tmp_path: Path) -> None:
    result = meshc("export", "odcs", FIXTURES / "five_problems.yaml")
    assert result.exit_code == 2
    assert "five_problems.yaml:5:34: MC201" in result.stderr


def test_object_option_picks_one_of_several(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(ODCS_HEADER + textwrap.dedent("""\
        schema:
          - {name: t, properties: [{name: a, logicalType: string}]}
          - {name: u, properties: [{name: b, logicalType: boolean}]}
        """))  # fmt: skip
    result = meshc("import", "odcs", path, "--object", "u")
    assert result.exit_code == 0, result.stderr
    assert "name: b\n      type: boolean" in result.stdout
    assert "not mapped: schema[0] (a meshc contract is one dataset" in result.stderr


def test_check_on_an_odcs_file_is_one_mc009() -> None:
    proc = run_meshc("check", "--format", "json", str(FOREIGN))
    assert proc.returncode == 1
    [diagnostic] = json.loads(proc.stdout)["diagnostics"]
    assert (diagnostic["code"], diagnostic["line"], diagnostic["col"]) == ("MC009", 3, 1)
    assert "ODCS v3.1.0 data contract" in diagnostic["message"]
    assert diagnostic["hint"] == (
        f"import it: meshc import odcs {FOREIGN} -o contracts/seller/seller_payments_v1.yaml"
    )


def test_check_path_does_not_import_the_odcs_package() -> None:
    code = (
        "import sys; from meshc.checking import run_check; "
        f"r = run_check([{str(FOREIGN)!r}]); assert r.diagnostics[0].code == 'MC009'; "
        "print(sorted(m for m in ('open_data_contract_standard', 'pydantic') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_without_the_odcs_package_the_commands_say_how_to_install_it(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['open_data_contract_standard'] = None; "
        "from meshc.cli.app import main; sys.argv = ['meshc', 'export', 'odcs', "
        f"{str(ROOT / 'examples/seed/orders.yaml')!r}]; main()"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert "pip install 'meshc[odcs]'" in proc.stderr and "Traceback" not in proc.stderr
