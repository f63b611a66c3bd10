"""`meshc check`: located diagnostics, formats, exit codes, and no heavy imports."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from meshc import load_contract
from meshc.checking import run_check
from tests.conftest import FIXTURES, run_meshc


def test_seed_contract_passes_check_and_loads(seed_contract: Path) -> None:
    proc = run_meshc("check", str(seed_contract))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    contract = load_contract(seed_contract)
    assert contract.info.name == "orders_silver"
    assert contract.field_names == ("order_id", "order_amount", "order_date")
    assert contract.quarantine.target == "quarantine/crm/orders"
    assert contract.lineage.enabled is True
    # order_status is used by a rule but not declared: a located warning, not an error
    assert "MC310" in proc.stdout and "seed_orders.yaml:10:13" in proc.stdout


def test_five_problems_in_one_run() -> None:
    proc = run_meshc("check", "--format", "json", str(FIXTURES / "five_problems.yaml"))
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    found = {(d["code"], d["line"]) for d in report["diagnostics"]}
    assert found == {("MC101", 4), ("MC201", 5), ("MC202", 6), ("MC101", 8), ("MC305", 13)}
    hints = {d["code"] + str(d["line"]): d["hint"] for d in report["diagnostics"]}
    assert "required" in hints["MC1014"] and "quality" in hints["MC1018"]
    assert "float" in hints["MC2015"] and "order_amount" in hints["MC30513"]
    assert all(d["col"] > 0 for d in report["diagnostics"])


def test_text_output_shows_line_and_caret() -> None:
    proc = run_meshc("check", str(FIXTURES / "five_problems.yaml"))
    assert 'five_problems.yaml:5:34: MC201 unknown type "flaot"' in proc.stdout
    assert "type: flaot}" in proc.stdout and "^" in proc.stdout
    assert "hint: did you mean 'float'?" in proc.stdout


@pytest.mark.parametrize(
    "fmt,needle",
    [
        ("github", "::error file="),
        ("junit", '<testsuite name="meshc check"'),
    ],
)
def test_machine_formats(fmt: str, needle: str) -> None:
    proc = run_meshc("check", "--format", fmt, str(FIXTURES / "five_problems.yaml"))
    assert proc.returncode == 1
    assert needle in proc.stdout
    assert proc.stdout.count("MC") >= 5


def test_strict_turns_warnings_into_failures(seed_contract: Path) -> None:
    assert run_meshc("check", "--strict", str(seed_contract)).returncode == 1


@pytest.mark.parametrize(
    "text,code",
    [
        ("info: [unclosed\n", "MC002"),
        ("- just\n- a list\n", "MC003"),
    ],
)
def test_broken_files_get_their_own_message(tmp_path: Path, text: str, code: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    proc = run_meshc("check", str(path))
    assert proc.returncode == 1
    assert code in proc.stdout and "Traceback" not in proc.stdout + proc.stderr


def test_missing_file_and_empty_directory(tmp_path: Path) -> None:
    proc = run_meshc("check", str(tmp_path / "nope.yaml"), str(tmp_path))
    assert proc.returncode == 1
    assert "MC001 file not found" in proc.stdout
    assert "MC004" in proc.stdout


def test_usage_error_exits_2() -> None:
    assert run_meshc("check", "--format", "xml").returncode == 2


def test_dataset_rule_errors_are_located(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        textwrap.dedent("""\
        info: {version: 1, name: t, domain: d}
        model:
          fields:
            - {name: a, type: integer}
        quality:
          dataset_rules:
            - {type: uniq, columns: [a]}
            - {type: null_ratio, column: a}
        """)
    )
    result = run_check([str(path)])
    messages = {(d.code, d.line): d for d in result.diagnostics}
    assert ("MC103", 7) in messages and "unique" in (messages[("MC103", 7)].hint or "")
    assert ("MC102", 8) in messages


def test_check_imports_no_dataframe_engine(seed_contract: Path) -> None:
    # The console entry, as the pre-commit hook runs it: no engine, and neither the CLI
    # framework (typer, and pydantic under it: meshc.cli.check_fast) nor ruamel.yaml (the
    # libyaml path, meshc.yaml_fast) nor the XML writer (junit only) for this contract.
    code = (
        "import sys\nfrom meshc.cli.app import main\n"
        "sys.argv = ['meshc', 'check', '--format', 'json', sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('polars', 'pandas', 'duckdb', 'pyspark', 'great_expectations', 'pandera', 'pyarrow', 'typer', 'pydantic', 'ruamel.yaml', 'xml.sax') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(seed_contract)], capture_output=True, text=True
    )
    assert "HEAVY=\n" in proc.stdout, proc.stdout + proc.stderr


def test_schema_command_prints_the_shipped_schema() -> None:
    proc = run_meshc("schema")
    assert proc.returncode == 0
    schema = json.loads(proc.stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["additionalProperties"] is False
