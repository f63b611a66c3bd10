"""Contract evolution: diff classification, renderers, `meshc check --base` in a real git repo."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from meshc.evolution import CLASSIFICATION, Change, diff, diff_contracts
from meshc.evolution.render import render, to_markdown
from meshc.evolution.widening import relation
from meshc.loader import loads_contract
from meshc.types import parse_type

BASE = """\
info:
  version: "1.0.0"
  name: orders
  domain: sales
  owner: sales@example.com
model:
  fields:
    - name: order_id
      type: integer
      required: true
    - name: customer_name
      type: string
    - name: amount
      type: float
      min: 0
      max: 100
    - name: status
      type: string
      accepted_values: [new, paid, shipped]
quality:
  row_rules:
    - name: positive
      sql: "amount >= 0"
"""


def contract(text: str = BASE):  # type: ignore[no-untyped-def]
    return loads_contract(text, path="orders.yaml")


def changes_between(new_text: str, old_text: str = BASE) -> list[Change]:
    return [c for c in diff(contract(old_text), contract(new_text)) if c.kind != "version_changed"]


def only(changes: list[Change]) -> Change:
    assert len(changes) == 1, [c.describe() for c in changes]
    return changes[0]


# -- the done-when cases --------------------------------------------------------------------------


def test_removing_a_field_breaks_consumers() -> None:
    new = BASE.replace("    - name: customer_name\n      type: string\n", "")
    change = only(changes_between(new))
    assert (change.kind, change.field) == ("field_removed", "customer_name")
    assert change.broken_sides == ("consumer",)
    assert change.in_old and change.anchor() == ("model", "fields")


def test_narrowing_a_type_breaks_producers() -> None:
    change = only(changes_between(BASE.replace("type: float", "type: integer")))
    assert (change.kind, change.direction.value, change.broken_sides) == (
        "type_narrowed",
        "tightening",
        ("producer",),
    )


def test_making_a_field_required_breaks_producers() -> None:
    new = BASE.replace(
        "name: customer_name\n      type: string\n",
        "name: customer_name\n      type: string\n      required: true\n",
    )
    change = only(changes_between(new))
    assert (change.kind, change.broken_sides) == ("made_required", ("producer",))


def test_narrowing_accepted_values_breaks_producers_and_widening_breaks_consumers() -> None:
    narrowed = only(changes_between(BASE.replace("[new, paid, shipped]", "[new, paid]")))
    assert (narrowed.kind, narrowed.broken_sides) == ("accepted_values_narrowed", ("producer",))
    widened = only(changes_between(BASE.replace("shipped]", "shipped, lost]")))
    assert (widened.kind, widened.broken_sides) == ("accepted_values_widened", ("consumer",))
    assert changes_between(BASE.replace("[new, paid, shipped]", "[shipped, new, paid]")) == []


def test_adding_an_optional_field_and_widening_a_range_are_not_breaking() -> None:
    added = BASE.replace("quality:", "    - name: coupon\n      type: string\nquality:", 1)
    change = only(changes_between(added))
    assert change.kind == "field_added" and not change.breaking
    widened = changes_between(BASE.replace("min: 0", "min: -10").replace("max: 100", "max: 1000"))
    assert [c.kind for c in widened] == ["range_loosened", "range_loosened"]
    assert not any(c.breaking for c in widened)


def test_adding_a_required_field_and_tightening_a_range_break_producers() -> None:
    coupon = "    - name: coupon\n      type: string\n      required: true\n"
    added = BASE.replace("quality:", coupon + "quality:", 1)
    assert only(changes_between(added)).broken_sides == ("producer",)
    tightened = only(changes_between(BASE.replace("max: 100", "max: 50")))
    assert (tightened.kind, tightened.broken_sides) == ("range_tightened", ("producer",))


# -- renames, rules, settings ----------------------------------------------------------------------


def test_rename_is_detected_for_same_type_and_similar_name() -> None:
    change = only(changes_between(BASE.replace("customer_name", "customer_full_name")))
    assert (change.kind, change.old, change.new) == (
        "field_renamed",
        "customer_name",
        "customer_full_name",
    )
    assert change.broken_sides == ("consumer", "producer")


def test_no_rename_for_a_different_type_or_an_unrelated_name() -> None:
    retyped = BASE.replace(
        "name: customer_name\n      type: string", "name: customer_nam\n      type: integer"
    )
    assert sorted(c.kind for c in changes_between(retyped)) == ["field_added", "field_removed"]
    unrelated = BASE.replace("customer_name", "zip")
    assert sorted(c.kind for c in changes_between(unrelated)) == ["field_added", "field_removed"]


def test_rules_added_changed_and_removed() -> None:
    added = BASE + '    - sql: "order_id > 0"\n'
    assert only(changes_between(added)).kind == "rule_added"
    assert (
        only(changes_between(BASE + '    - {sql: "order_id > 0", severity: warn}\n')).kind
        == "warn_rule_added"
    )
    changed = only(changes_between(BASE.replace("amount >= 0", "amount > 0")))
    assert (changed.kind, changed.broken_sides) == ("rule_changed", ("producer",))
    removed = only(changes_between(BASE, old_text=added))
    assert removed.kind == "rule_removed" and not removed.breaking
    reformatted = BASE.replace("amount >= 0", "amount>=0")
    assert changes_between(reformatted) == []


def test_settings_and_ownership_are_reported_as_neutral() -> None:
    new = (
        BASE.replace("sales@example.com", "finance@example.com") + "quarantine:\n  enabled: false\n"
    )
    kinds = {c.kind: c for c in changes_between(new)}
    assert set(kinds) == {"owner_changed", "quarantine_changed"}
    assert not any(c.breaking for c in kinds.values())


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("integer", "float", "wider"),
        ("integer", "decimal(20,0)", "wider"),
        ("integer", "decimal(12,2)", "changed"),
        ("decimal(10,2)", "decimal(12,2)", "wider"),
        ("decimal(12,2)", "decimal(10,2)", "narrower"),
        ("decimal(10,2)", "decimal(12,4)", "wider"),
        ("decimal(10,2)", "decimal(10,4)", "changed"),
        ("float", "integer", "narrower"),
        ("date", "string", "wider"),
        ("string", "boolean", "narrower"),
        ("date", "timestamp", "wider"),
        ("timestamp", "timestamptz", "changed"),
        ("bigint", "int", "same"),
        ("boolean", "integer", "changed"),
    ],
)
def test_type_widening_table(old: str, new: str, expected: str) -> None:
    assert relation(parse_type(old), parse_type(new)) == expected


def test_classification_table_in_docs_matches_the_code() -> None:
    docs = (Path(__file__).parents[1] / "docs" / "evolution.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\w+)` \| (.+?) \|$", docs, flags=re.MULTILINE))
    assert set(rows) == set(CLASSIFICATION)
    for kind, (direction, consumer, producer, _) in CLASSIFICATION.items():
        cells = [cell.strip() for cell in rows[kind].split("|")]
        assert cells[:3] == [direction.value, consumer.value, producer.value], kind


# -- rendering and the diff command ----------------------------------------------------------------


def test_markdown_output_is_a_pull_request_comment() -> None:
    new = contract(
        BASE.replace("customer_name", "customer_full_name").replace('"1.0.0"', '"2.0.0"')
    )
    md = to_markdown([diff_contracts(contract(), new)])
    assert md.startswith("## meshc contract changes")
    assert ":x: **1 breaking change(s)**" in md
    assert "### `sales.orders` 1.0.0 → 2.0.0: changed (major version bumped)" in md
    assert (
        "| :x: | field 'customer_full_name': field_renamed (customer_name -> customer_full_name) "
        "| both | breaking | breaking | `orders.yaml:11` |" in md
    )


def test_every_format_renders() -> None:
    diffs = [diff_contracts(contract(), contract(BASE.replace("type: float", "type: integer")))]
    assert json.loads(render(diffs, "json"))["breaking"] == 1
    assert "::error file=orders.yaml,line=14" in render(diffs, "github")
    assert 'failures="1"' in render(diffs, "junit")
    assert "type_narrowed" in render(diffs, "text")


def test_diff_command_exit_codes(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from meshc.cli.app import app

    (tmp_path / "old.yaml").write_text(BASE)
    (tmp_path / "wide.yaml").write_text(BASE.replace("min: 0", "min: -1"))
    (tmp_path / "narrow.yaml").write_text(BASE.replace("[new, paid, shipped]", "[new]"))
    run = CliRunner().invoke
    assert (
        run(app, ["diff", str(tmp_path / "old.yaml"), str(tmp_path / "wide.yaml")]).exit_code == 0
    )
    result = run(
        app, ["diff", str(tmp_path / "old.yaml"), str(tmp_path / "narrow.yaml"), "-f", "markdown"]
    )
    assert result.exit_code == 1 and "accepted_values_narrowed" in result.output
    assert (
        run(app, ["diff", str(tmp_path / "old.yaml"), str(tmp_path / "missing.yaml")]).exit_code
        == 2
    )


# -- meshc check --base in a temporary git repository ----------------------------------------------

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return proc.stdout


def meshc(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meshc", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "ci@example.com")
    git(tmp_path, "config", "user.name", "CI")
    git(tmp_path, "config", "commit.gpgsign", "false")
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "orders.yaml").write_text(BASE)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    return tmp_path


def commit(repo: Path, text: str) -> None:
    (repo / "contracts" / "orders.yaml").write_text(text)
    git(repo, "commit", "-q", "-am", "change")


@needs_git
def test_breaking_change_without_a_major_bump_fails_and_with_a_bump_passes(repo: Path) -> None:
    commit(repo, BASE.replace("[new, paid, shipped]", "[new, paid]"))
    failed = meshc(repo, "check", "--base", "HEAD~1", "contracts/orders.yaml")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "contracts/orders.yaml:19:" in failed.stdout  # the accepted_values line of the new file
    assert "MC502" in failed.stdout and "sales.orders" in failed.stdout
    assert "accepted_values_narrowed" in failed.stdout and "producer" in failed.stdout

    commit(repo, BASE.replace("[new, paid, shipped]", "[new, paid]").replace('"1.0.0"', '"2.0.0"'))
    git(repo, "reset", "-q", "--soft", "HEAD~1")  # the same change as one commit, with the bump
    git(repo, "commit", "-q", "-m", "change with a bump")
    passed = meshc(repo, "check", "--base", "HEAD~1", "contracts/orders.yaml")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "warning" not in passed.stdout


@needs_git
def test_removed_field_is_reported_at_the_new_file_with_the_old_line(repo: Path) -> None:
    commit(repo, BASE.replace("    - name: customer_name\n      type: string\n", ""))
    result = meshc(repo, "check", "--base", "HEAD~1", "--format", "json", "contracts")
    assert result.returncode == 1
    [diagnostic] = json.loads(result.stdout)["diagnostics"]
    assert diagnostic["code"] == "MC502" and diagnostic["line"] == 7  # `fields:` in the new file
    assert (
        "field_removed" in diagnostic["message"]
        and "(was line 11 at HEAD~1)" in diagnostic["message"]
    )


@needs_git
def test_deleted_moved_and_new_contracts(repo: Path) -> None:
    from meshc.evolution.gitbase import check_against_base, compare_with_base

    (repo / "contracts" / "extra.yaml").write_text(BASE.replace("name: orders", "name: refunds"))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "extra")
    git(repo, "mv", "contracts/orders.yaml", "contracts/orders_v1.yaml")
    git(repo, "rm", "-q", "contracts/extra.yaml")
    (repo / "contracts" / "customers.yaml").write_text(
        BASE.replace("name: orders", "name: customers")
    )
    files = sorted((repo / "contracts").glob("*.yaml"))
    comparison = compare_with_base(files, "HEAD")
    status = {d.ref: d.status for d in comparison.diffs}
    assert status == {
        "sales.orders": "unchanged",
        "sales.refunds": "deleted",
        "sales.customers": "added",
    }
    [deleted] = check_against_base(files, "HEAD")
    assert (deleted.code, deleted.severity.value) == ("MC505", "warning")
    assert deleted.path == "HEAD:contracts/extra.yaml"


@needs_git
def test_missing_base_ref_gives_one_clear_diagnostic(repo: Path) -> None:
    result = meshc(repo, "check", "--base", "HEAD~5", "contracts")
    assert result.returncode == 1
    assert result.stdout.count("MC501") == 1
    assert "fetch-depth: 0" in result.stdout and "git fetch --deepen=1" in result.stdout
