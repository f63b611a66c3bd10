"""Hostile sizes never crash, hang or exhaust `meshc check`: deep rules, long chains, YAML bombs,
huge and non-regular files all end in located diagnostics (issue #12, items 12 and 13)."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from meshc.checking import run_check
from meshc.rules.depth import (
    MAX_BRACKET_NESTING,
    MAX_CHAIN_TERMS,
    MAX_IN_LIST_ITEMS,
    MAX_RULE_CHARS,
    MAX_RULE_NODES,
    MAX_RULE_TOKENS,
    MAX_TREE_DEPTH,
)
from tests.conftest import run_meshc

ENGINES = ["polars", "pandas", "duckdb", pytest.param("spark", marks=pytest.mark.spark)]


def _contract(tmp_path: Path, rule: str, name: str = "c.yaml", dataset_name: str = "t") -> Path:
    path = tmp_path / name
    path.write_text(
        textwrap.dedent(f"""\
        info: {{version: 1, name: {dataset_name}, domain: d}}
        model:
          fields:
            - {{name: id, type: string}}
            - {{name: x, type: integer}}
        quality:
          row_rules:
            - name: r
              sql: {json.dumps(rule)}
        """)
    )
    return path


DEEP_RULES = {
    "parentheses": "(" * 45 + "x > 0" + ")" * 45,
    "not": "NOT " * 200 + "x > 0",
    "case": "CASE WHEN x > 0 THEN " * 60 + "TRUE" + " END" * 60,
    "function calls": "ABS(" * 60 + "x" + ")" * 60 + " > 0",
    "arithmetic chain": " + ".join(["x"] * 500) + " > 0",
    "parentheses x1000": "(" * 1000 + "x > 0" + ")" * 1000,
}


@pytest.mark.parametrize("shape", sorted(DEEP_RULES))
def test_deeply_nested_rule_is_a_located_diagnostic_not_a_crash(tmp_path: Path, shape: str) -> None:
    deep = _contract(tmp_path, DEEP_RULES[shape])
    other = _contract(tmp_path, "unknown_col > 0", name="other.yaml", dataset_name="u")
    result = run_check([str(deep), str(other)])
    mc312 = [d for d in result.diagnostics if d.code == "MC312"]
    assert len(mc312) == 1 and mc312[0].path == str(deep) and mc312[0].line == 9
    assert str(MAX_BRACKET_NESTING) in mc312[0].message or str(MAX_TREE_DEPTH) in mc312[0].message
    assert mc312[0].hint
    # one bad contract does not hide another's findings
    assert any(d.code in ("MC305", "MC310") and d.path == str(other) for d in result.diagnostics)


def test_nesting_at_the_limit_compiles(tmp_path: Path) -> None:
    depth = MAX_BRACKET_NESTING - 1
    rule = "(" * depth + "x > 0" + ")" * depth
    assert not run_check([str(_contract(tmp_path, rule))]).errors


def test_deep_rule_json_output_is_a_document(tmp_path: Path) -> None:
    proc = run_meshc("check", "--format", "json", str(_contract(tmp_path, DEEP_RULES["not"])))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    codes = [d["code"] for d in json.loads(proc.stdout)["diagnostics"]]
    assert codes == ["MC312"]


OVERSIZED_RULES = {
    "AND chain": " AND ".join(f"x <> {i}" for i in range(MAX_CHAIN_TERMS + 1)),
    "OR chain": " OR ".join(f"x = {i}" for i in range(MAX_CHAIN_TERMS + 1)),
    "parenthesised chain": " AND ".join(f"(x <> {i} AND x <> -{i})" for i in range(501)),
    "many nodes": "CASE " + " ".join(f"WHEN x = {i} THEN 'a'" for i in range(1000)) + " END = 'a'",
    "IN list": "x IN (" + ", ".join(str(i) for i in range(MAX_IN_LIST_ITEMS + 1)) + ")",
    "long text": "x > 0" + " " * MAX_RULE_CHARS,
    "many tokens": "x IN (" + ", ".join(["1"] * (MAX_RULE_TOKENS // 2)) + ")",
}


@pytest.mark.parametrize("shape", sorted(OVERSIZED_RULES))
def test_oversized_rule_is_a_located_diagnostic(tmp_path: Path, shape: str) -> None:
    big = _contract(tmp_path, OVERSIZED_RULES[shape])
    other = _contract(tmp_path, "unknown_col > 0", name="other.yaml", dataset_name="u")
    result = run_check([str(big), str(other)])
    mc313 = [d for d in result.diagnostics if d.code == "MC313"]
    assert len(mc313) == 1 and mc313[0].path == str(big) and mc313[0].line == 9
    limits = (MAX_CHAIN_TERMS, MAX_RULE_NODES, MAX_IN_LIST_ITEMS, MAX_RULE_CHARS, MAX_RULE_TOKENS)
    assert any(f"{limit:,}" in mc313[0].message for limit in limits)
    assert mc313[0].hint and "IN (" in mc313[0].hint
    assert [d.code for d in result.diagnostics if d.path == str(big)] == ["MC313"]
    assert any(d.code == "MC305" and d.path == str(other) for d in result.diagnostics)


@pytest.mark.parametrize("connective", ["AND", "OR"])
def test_long_flat_chain_compiles(tmp_path: Path, connective: str) -> None:
    rule = f" {connective} ".join(f"x <> {i}" for i in range(1, MAX_CHAIN_TERMS + 1))
    result = run_check([str(_contract(tmp_path, rule))])
    assert not result.diagnostics and len(result.contracts) == 1


def _depth(expr: object) -> int:
    from meshc.rules import expr as ir

    assert isinstance(expr, ir.Expr)
    stack, deepest = [(expr, 1)], 0
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((c, depth + 1) for c in node.children())
    return deepest


def test_chains_lower_to_a_balanced_tree() -> None:
    from meshc.rules.sql import compile_sql
    from meshc.types import INTEGER

    expr = compile_sql(" AND ".join(f"x <> {i}" for i in range(512)), {"x": INTEGER})
    assert _depth(expr) == 9 + 2  # log2(512) connectives, then Compare and its leaves
    mixed = compile_sql("(x = 1 OR x = 2) AND x <> 3 AND (x > 0 AND x < 9)", {"x": INTEGER})
    assert _depth(mixed) <= 5


@pytest.mark.parametrize("engine", ENGINES)
def test_rules_at_the_size_limits_run_on_every_engine(tmp_path: Path, engine: str) -> None:
    from meshc import DataProcessor

    (tmp_path / "in.csv").write_text("id,x\na,1\nb,5\nc,6000\n")
    # x is none of 1..1000 (fails a, b); one of 1..1000 (fails c); one of 1..5000 (fails c)
    rules = [
        " AND ".join(f"x <> {i}" for i in range(1, MAX_CHAIN_TERMS + 1)),
        " OR ".join(f"x = {i}" for i in range(1, MAX_CHAIN_TERMS + 1)),
        "x IN (" + ", ".join(str(i) for i in range(1, MAX_IN_LIST_ITEMS + 1)) + ")",
    ]
    path = tmp_path / "c.yaml"
    path.write_text(
        textwrap.dedent("""\
        info: {version: 1, name: t, domain: d}
        model:
          fields:
            - {name: id, type: string}
            - {name: x, type: integer}
        quality:
          row_rules:
        """)
        + "".join(f"    - {{name: r{i}, sql: {json.dumps(r)}}}\n" for i, r in enumerate(rules))
    )
    result = DataProcessor(path, engine=engine, root=tmp_path).run_source(tmp_path / "in.csv")
    assert result.failures == {"r0": 2, "r1": 1, "r2": 1}
    assert result.rows_valid == 0 and result.rows_quarantined == 3


# -- hostile YAML files (item 13) ----------------------------------------------------------------


def _billion_laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        name, prev = chr(ord("a") + i), chr(ord("a") + i - 1)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


HOSTILE_YAML = {
    "billion laughs": (_billion_laughs(), "MC007", 6),
    "recursive alias": ("info: &a [*a]\n", "MC007", 1),
    "deep flow nesting": ("info: " + "[" * 5000 + "]" * 5000 + "\n", "MC008", 1),
    "deep block nesting": ("".join("  " * i + f"k{i}:\n" for i in range(100)), "MC008", 65),
    "control character": ("info: {a: \x01}\n", "MC002", 1),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_YAML))
def test_hostile_yaml_is_refused_with_a_located_diagnostic(tmp_path: Path, kind: str) -> None:
    text, code, line = HOSTILE_YAML[kind]
    path = tmp_path / "c.yaml"
    path.write_text(text)
    other = _contract(tmp_path, "unknown_col > 0", name="other.yaml", dataset_name="u")
    result = run_check([str(path), str(other)])
    mine = [d for d in result.diagnostics if d.path == str(path)]
    assert [(d.code, d.line) for d in mine] == [(code, line)] and mine[0].hint
    assert any(d.code in ("MC305", "MC310") and d.path == str(other) for d in result.diagnostics)


def test_file_not_utf8_is_located(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"info:\n  name: caf\xe9\n")
    [d] = run_check([str(path)]).diagnostics
    assert (d.code, d.line, d.col) == ("MC002", 2, 12) and "UTF-8" in d.message


def test_file_too_large_is_refused(tmp_path: Path) -> None:
    from meshc.yaml_guard import MAX_YAML_BYTES

    path = tmp_path / "c.yaml"
    path.write_text("# " + "x" * MAX_YAML_BYTES + "\n")
    [d] = run_check([str(path)]).diagnostics
    assert d.code == "MC005" and "1024 KiB" in d.message and d.hint


def _run_with_hang_guard(*args: str) -> json.JSONDecodeError | dict[str, object]:
    proc = run_meshc("check", "--format", "json", *args)  # run_meshc has a timeout: a hang fails
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    return dict(json.loads(proc.stdout))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_non_regular_files_are_refused_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    (tmp_path / "dir.yaml").mkdir()
    report = _run_with_hang_guard(str(fifo), "/dev/zero")
    found = {(d["path"], d["code"]) for d in report["diagnostics"]}  # type: ignore[attr-defined]
    assert found == {(str(fifo), "MC006"), ("/dev/zero", "MC006")}
    # a FIFO found by directory or glob expansion is reported too, never opened
    for arg in (str(tmp_path), str(tmp_path / "*.yaml")):
        report = _run_with_hang_guard(arg)
        found = {(d["path"], d["code"]) for d in report["diagnostics"]}  # type: ignore[attr-defined]
        assert found == {(str(fifo), "MC006")}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_hostile_mesh_file_is_refused(tmp_path: Path) -> None:
    contract = _contract(tmp_path, "x > 0")
    fifo = tmp_path / "mesh.yaml"
    os.mkfifo(fifo)
    report = _run_with_hang_guard("--mesh", str(fifo), str(contract))
    assert [(d["path"], d["code"]) for d in report["diagnostics"]] == [(str(fifo), "MC006")]  # type: ignore[attr-defined]
    laughs = tmp_path / "laughs.yaml"
    laughs.write_text(_billion_laughs())
    report = _run_with_hang_guard("--mesh", str(laughs), str(contract))
    assert [d["code"] for d in report["diagnostics"]] == ["MC007"]  # type: ignore[attr-defined]


# -- values the schema translator choked on (found by tests/test_check_fuzz.py) -------------------

ODD_SCHEMA_VALUES = {
    "list as a discriminator": "quality: {dataset_rules: [{type: []}]}",
    "mapping as a discriminator": "quality: {dataset_rules: [{type: {a: 1}}]}",
    "binary as an enum value": "quality: {row_rules: [{sql: x > 0, severity: !!binary aGk=}]}",
    "binary as a discriminator": "quality: {dataset_rules: [{type: !!binary aGk=}]}",
    "binary as a type": "model: {fields: [{name: x, type: !!binary aGk=}]}",
}


@pytest.mark.parametrize("kind", sorted(ODD_SCHEMA_VALUES))
def test_non_json_values_get_schema_diagnostics(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "c.yaml"
    body = ODD_SCHEMA_VALUES[kind]
    model = "" if body.startswith("model") else "model: {fields: [{name: x, type: integer}]}\n"
    path.write_text("info: {version: 1, name: t, domain: d}\n" + model + body + "\n")
    diagnostics = run_check([str(path)]).diagnostics
    assert diagnostics and all(d.code.startswith(("MC1", "MC2")) for d in diagnostics)
    assert all(d.line >= 1 for d in diagnostics)
