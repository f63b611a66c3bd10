"""Run reports: the typed model and its generated schema, and what CI sees through the real CLI
(`meshc run` and `meshc mesh`): why a run failed, GitHub annotations, a Markdown summary, JUnit
consistent with the exit code, unwrapped plain output, progress lines and --show-quarantine --limit.
"""

from __future__ import annotations

import dataclasses
import json
import re
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner, Result

from meshc import DataProcessor
from meshc.cli.app import app
from meshc.runner.report_schema import run_report_schema, run_report_schema_text
from meshc.schema_validation import load_schema
from tests.conftest import ROOT, run_meshc

SEED = ROOT / "examples" / "seed"
# longer than any terminal: a plain (non-TTY) report must print it whole, on one line
LONG_RULE = (
    "amount_is_strictly_positive_on_every_order_line_of_every_shop_in_every_region_worldwide"
)

CONTRACT = f"""\
info: {{version: 1, name: orders, domain: shop}}
model:
  fields:
    - {{name: id, type: string, required: true}}
    - {{name: amount, type: float}}
quality:
  max_quarantine_ratio: 0.05
  row_rules:
    - {{name: {LONG_RULE}, sql: "amount > 0"}}
    - {{name: small_amount, sql: "amount < 1000", severity: warn}}
  dataset_rules:
    - {{type: row_count, min: 100, name: enough_rows}}
    - {{type: row_count, max: 2, name: few_rows, severity: warn}}
quarantine: {{enabled: true, target: quarantine/shop/orders}}
"""
# 10 rows, 2 quarantined (ratio 0.2 > 0.05), one warn-level failure (5000)
DATA = "id,amount\n1,10\n2,-1\n3,5000\n4,3\n5,-2\n6,1\n7,1\n8,1\n9,1\n10,1\n"


@pytest.fixture
def failing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`meshc run` arguments for a run that fails twice: its quarantine ratio and a dataset rule."""
    monkeypatch.chdir(tmp_path)  # no mesh.yaml here
    (tmp_path / "c.yaml").write_text(CONTRACT)
    (tmp_path / "d.csv").write_text(DATA)
    return ["run", "-c", "c.yaml", "-s", "d.csv", "--root", str(tmp_path / "lake")]


@pytest.fixture
def passing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The seed orders: 5 of 12 rows quarantined, no threshold, so the run exits 0."""
    monkeypatch.chdir(tmp_path)
    source = SEED / "orders.csv"
    return ["run", "-c", str(SEED / "orders.yaml"), "-s", str(source), "--root", str(tmp_path)]


def _invoke(args: list[str], **env: str) -> Result:
    return CliRunner().invoke(app, args, env={"COLUMNS": "40", **env})


# -- the typed model ------------------------------------------------------------------------------
def test_the_committed_schema_is_the_one_generated_from_the_model() -> None:
    for copy in ("meshc/schemas", "schemas"):  # the package's and the repository's copy
        committed = (ROOT / copy / "run-report.schema.json").read_text()
        assert committed == run_report_schema_text(), (
            f"regenerate: python -m meshc.runner.report_schema > {copy}/run-report.schema.json"
        )
    jsonschema.Draft202012Validator.check_schema(run_report_schema())


def test_real_reports_validate_and_the_model_is_frozen(failing: list[str], tmp_path: Path) -> None:
    schema = load_schema("run-report")
    ok = DataProcessor(SEED / "orders.yaml", root=tmp_path).run_source(SEED / "orders.csv")
    judged = DataProcessor(SEED / "orders.yaml", engine="pandas", validator="pandera").run_source(
        SEED / "orders.csv", write=False
    )
    bad = DataProcessor(tmp_path / "c.yaml", root=tmp_path).run_source(tmp_path / "d.csv")
    for result in (ok, judged, bad):
        assert result.run_report is not None
        jsonschema.validate(json.loads(result.to_json()), schema)
        assert result.report == result.run_report.to_dict()  # one report, two forms
    with pytest.raises(dataclasses.FrozenInstanceError):
        ok.run_report.status = "failed"  # type: ignore[misc,union-attr]
    assert judged.report["validator"] == "pandera" and "validator_native_checks" in judged.report
    assert ok.report["validator"] == "native" and "validator_native_checks" not in ok.report
    assert ok.report["status"] == "ok" and ok.report["failed_because"] == []
    assert bad.report["failed_because"] == [
        {
            "kind": "threshold",
            "id": "max_quarantine_ratio",
            "message": "max_quarantine_ratio 0.05 exceeded: 0.2",
        },
        {
            "kind": "dataset_rule",
            "id": "enough_rows",
            "message": "enough_rows failed: 8 rows (row count >= 100)",
        },
    ]


# -- every FAILED says why ------------------------------------------------------------------------
def test_failed_says_why_in_text_json_and_junit(failing: list[str]) -> None:
    text = _invoke(failing)
    assert text.exit_code == 1
    assert "FAILED" in text.stdout
    assert "failed: max_quarantine_ratio 0.05 exceeded: 0.2" in text.stdout
    assert "failed: enough_rows failed: 8 rows (row count >= 100)" in text.stdout

    report = json.loads(_invoke([*failing, "-f", "json"]).stdout)
    assert report["status"] == "failed"
    assert [f["id"] for f in report["failed_because"]] == ["max_quarantine_ratio", "enough_rows"]

    junit = _invoke([*failing, "-f", "junit"])
    assert junit.exit_code == 1
    failures = {
        case.get("name"): case.find("failure").get("message")  # type: ignore[union-attr]
        for case in ET.fromstring(junit.stdout).iter("testcase")
        if case.find("failure") is not None
    }
    assert failures == {
        "max_quarantine_ratio": "max_quarantine_ratio 0.05 exceeded: 0.2",
        "enough_rows": "enough_rows failed: 8 rows (row count >= 100)",
    }


def test_fail_on_is_a_reason_like_any_other(passing: list[str]) -> None:
    result = _invoke([*passing, "--fail-on", "10%", "-f", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["status"] == "failed"
    assert report["failed_because"] == [
        {"kind": "threshold", "id": "--fail-on", "message": "--fail-on 0.1 exceeded: 0.4167"}
    ]
    text = _invoke([*passing, "--fail-on", "10%"])
    assert "FAILED" in text.stdout and "--fail-on 0.1 exceeded: 0.4167" in text.stdout


# -- JUnit follows the exit code -----------------------------------------------------------------
def test_junit_of_a_passing_run_has_no_failures(passing: list[str]) -> None:
    result = _invoke([*passing, "-f", "junit"])
    assert result.exit_code == 0
    tree = ET.fromstring(result.stdout)
    assert tree.get("failures") == "0" and not list(tree.iter("failure"))
    out = {c.get("name"): c.findtext("system-out") for c in tree.iter("testcase")}
    assert out["order_amount.type"] == "1 row(s) quarantined by order_amount.type: type"


def test_junit_warn_failures_are_output_not_failures(failing: list[str]) -> None:
    tree = ET.fromstring(_invoke([*failing, "-f", "junit"]).stdout)
    cases = {c.get("name"): c for c in tree.iter("testcase")}
    assert cases["few_rows"].find("failure") is None
    assert cases["few_rows"].findtext("system-out") == "warn: few_rows failed: 8 rows"
    assert cases["small_amount"].find("failure") is None
    assert "failed (warn)" in (cases["small_amount"].findtext("system-out") or "")


# -- GitHub annotations and the Markdown summary -------------------------------------------------
def test_github_annotations_point_at_the_contract_lines(failing: list[str]) -> None:
    result = _invoke([*failing, "-f", "github"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    # line 7: max_quarantine_ratio, 12: enough_rows, 9: the long rule, 10 and 13: warn rules
    assert (
        "::error file=c.yaml,line=7,title=meshc shop.orders%3A max_quarantine_ratio::"
        "shop.orders: max_quarantine_ratio 0.05 exceeded: 0.2"
    ) in lines
    assert any(
        line.startswith("::error file=c.yaml,line=12,") and "enough_rows failed" in line
        for line in lines
    )
    assert any(
        line.startswith("::error file=c.yaml,line=9,") and LONG_RULE in line for line in lines
    )
    warnings = [line for line in lines if line.startswith("::warning")]
    assert [re.search(r"line=(\d+)", w).group(1) for w in warnings] == ["10", "13"]  # type: ignore[union-attr]
    assert lines[-1].startswith("meshc run shop.orders: FAILED (max_quarantine_ratio")


def test_github_annotations_of_a_passing_run_hold_no_error(
    passing: list[str], tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    result = _invoke([*passing, "-f", "github"], GITHUB_STEP_SUMMARY=str(summary))
    assert result.exit_code == 0
    assert summary.read_text().startswith("## meshc run: ✅ all passed")  # one run, both views
    assert not [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert "::notice file=" in result.stdout  # quarantined rows, located, not errors


def test_markdown_summary_and_the_github_step_summary(failing: list[str], tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    result = _invoke([*failing, "-f", "markdown"], GITHUB_STEP_SUMMARY=str(summary))
    assert result.exit_code == 1
    md = result.stdout
    assert md.startswith("## meshc run: ❌ 1 of 1 failed")
    assert "| `shop.orders` | polars | 10 | 8 | 2 | 80.00% | ❌ failed |" in md
    assert "- `shop.orders`: max_quarantine_ratio 0.05 exceeded: 0.2" in md
    assert f"| `shop.orders` | `{LONG_RULE}` | error | 2 | amount > 0 |" in md
    assert "| `shop.orders` | `few_rows` | warn | dataset rule | 8 rows |" in md
    assert summary.read_text() == "# earlier step\n" + md + "\n"  # appended, not replaced


# -- plain output, progress, --show-quarantine ---------------------------------------------------
def test_plain_output_never_wraps_or_cuts_rule_ids(failing: list[str]) -> None:
    result = _invoke(failing)  # not a TTY, COLUMNS=40
    rule_line = next(line for line in result.stdout.splitlines() if LONG_RULE in line)
    assert "amount > 0" in rule_line and "SqlRule" in rule_line  # the whole row on one line
    assert "\x1b[" not in result.stdout  # no colour codes in a log
    assert "…" not in result.stdout


def test_progress_lines_on_stderr_when_not_a_tty_and_quiet(failing: list[str]) -> None:
    proc = run_meshc(*failing, "-f", "json", cwd=Path.cwd())
    assert proc.returncode == 1
    json.loads(proc.stdout)  # stdout holds the report alone
    stages = re.findall(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ meshc run: (\w+): ", proc.stderr, flags=re.M
    )
    assert stages == ["read", "validate", "validate", "write", "commit"]
    assert "10 rows read, 8 valid, 2 quarantined" in proc.stderr
    quiet = run_meshc(*failing, "-f", "json", "--quiet", cwd=Path.cwd())
    assert quiet.returncode == 1 and quiet.stderr == ""


def test_show_quarantine_limit(passing: list[str]) -> None:
    two = _invoke([*passing, "--show-quarantine", "--limit", "2"]).stdout
    assert "ORD-1003" in two and "ORD-1004" in two and "ORD-1006" not in two
    assert "... and 3 more quarantined row(s)" in two
    everything = _invoke([*passing, "--show-quarantine", "--limit", "0"]).stdout
    assert "ORD-1008" in everything and "more quarantined" not in everything
    default = _invoke([*passing, "--show-quarantine"]).stdout  # 20 by default: all 5 here
    assert "ORD-1008" in default and "more quarantined" not in default


# -- meshc mesh -----------------------------------------------------------------------------------
MESH = """\
mesh: {name: tiny, version: "1.0.0"}
lakehouse: {root: lake}
domains:
  shop: {owner: shop@company.com, default_engine: polars, contracts: contracts/shop}
"""


@pytest.fixture
def tiny_mesh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One passing product and one failing one."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mesh.yaml").write_text(MESH)
    shop = tmp_path / "contracts" / "shop"
    shop.mkdir(parents=True)
    (tmp_path / "d.csv").write_text(DATA)
    (shop / "orders.yaml").write_text(CONTRACT + "source: {path: d.csv}\n")
    ok = CONTRACT.replace("name: orders", "name: lines").replace("max_quarantine_ratio: 0.05", "")
    ok = textwrap.dedent(ok).replace("    - {type: row_count, min: 100, name: enough_rows}\n", "")
    (shop / "lines.yaml").write_text(
        ok.replace("quarantine/shop/orders", "quarantine/shop/lines") + "source: {path: d.csv}\n"
    )
    return tmp_path


def test_mesh_github_markdown_and_junit(tiny_mesh: Path) -> None:
    github = _invoke(["mesh", "-f", "github"])
    assert github.exit_code == 1, github.stdout + github.stderr
    assert "::error file=contracts/shop/orders.yaml,line=7," in github.stdout
    assert "meshc mesh shop.lines: DEGRADED: 10 rows" in github.stdout  # > 5% quarantined
    assert (
        "meshc mesh shop.orders: FAILED (max_quarantine_ratio 0.05 exceeded: 0.2" in github.stdout
    )

    md = _invoke(["mesh", "-f", "markdown"]).stdout
    assert md.startswith("## meshc mesh · tiny: data products: ❌ 1 of 2 failed")
    assert "2 dataset(s) · 20 rows · pass rate 80.00%" in md
    assert "| `shop.lines` | polars | 10 | 8 | 2 | 80.00% | ⚠️ degraded |" in md

    products = json.loads(_invoke(["mesh", "-f", "json"]).stdout)["products"]
    assert [(p["ref"], p["trust"]) for p in products] == [
        ("shop.lines", "degraded"),
        ("shop.orders", "failed"),
    ]
    for product in products:
        jsonschema.validate(product["report"], load_schema("run-report"))
    assert "- `shop.orders`: max_quarantine_ratio 0.05 exceeded: 0.2" in md

    same = _invoke(["run", "--all", "-f", "github"])  # `meshc run --all` is `meshc mesh`
    assert same.exit_code == 1 and same.stdout == github.stdout

    tree = ET.fromstring(_invoke(["mesh", "-f", "junit"]).stdout)
    assert tree.get("failures") == "2"  # the failing product's two reasons, nothing else
    suites = {s.get("name"): s.get("failures") for s in tree.iter("testsuite")}
    assert suites == {"meshc run shop.lines": "0", "meshc run shop.orders": "2"}


def test_mesh_text_says_why_and_progress_names_the_product(tiny_mesh: Path) -> None:
    result = _invoke(["mesh"])
    assert result.exit_code == 1
    assert "shop.orders: max_quarantine_ratio 0.05 exceeded: 0.2" in result.stdout
    assert "shop.orders: enough_rows failed: 8 rows (row count >= 100)" in result.stdout
    assert "meshc mesh: shop.orders: validate: 10 rows read, 8 valid, 2 quarantined" in (
        result.stderr
    )
    assert _invoke(["mesh", "--quiet"]).stderr == ""


# -- hostile input: contract text that looks like a workflow command, unwritable summaries -------
INJECTING = """\
info: {version: 1, name: orders, domain: shop}
model:
  fields:
    - {name: id, type: string}
quality:
  dataset_rules:
    - type: sql
      name: enough
      sql: |
        COUNT(*) > 100 /* 100% sure,
        ::warning::injected */
"""


def test_contract_text_never_starts_a_workflow_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Contract SQL is untrusted: a newline in a rule must not put `::command::` at the start of a
    line GitHub reads from the log (text) or from `--format github` (the summary line)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(INJECTING)
    (tmp_path / "d.csv").write_text("id\n1\n")
    args = ["run", "-c", "c.yaml", "-s", "d.csv", "--root", str(tmp_path / "lake"), "--quiet"]
    for fmt in ("github", "text"):
        result = _invoke([*args, "-f", fmt])
        assert result.exit_code == 1, result.output
        assert "injected" in result.stdout
        lines = result.stdout.splitlines()
        assert not [line for line in lines if line.startswith("::warning::")], result.stdout


def test_unwritable_step_summary_is_a_warning_not_an_internal_error(
    failing: list[str], tmp_path: Path
) -> None:
    for fmt in ("github", "markdown"):
        result = _invoke([*failing, "-f", fmt], GITHUB_STEP_SUMMARY=str(tmp_path))  # a directory
        assert result.exit_code == 1, result.output  # the run's own verdict, not exit 2
        assert "internal error" not in result.output
        assert f"warning: cannot append the job summary to {tmp_path}" in result.stderr


def test_junit_stays_well_formed_xml_with_control_characters_in_the_contract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """YAML escapes let a contract hold characters XML 1.0 forbids (here \\x01 and ESC)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(
        CONTRACT.replace('sql: "amount > 0"', 'sql: "amount > 0 /* \\x01\\x1b[31m */"')
    )
    (tmp_path / "d.csv").write_text(DATA)
    args = ["run", "-c", "c.yaml", "-s", "d.csv", "--root", str(tmp_path / "lake"), "--quiet"]
    result = _invoke([*args, "-f", "junit"])
    assert result.exit_code == 1, result.output
    root = ET.fromstring(result.stdout)  # well-formed
    texts = [e.text or "" for e in root.iter()] + [e.get("message", "") for e in root.iter()]
    assert any("amount > 0 /* \\x01\\x1b[31m */" in t for t in texts), result.stdout
