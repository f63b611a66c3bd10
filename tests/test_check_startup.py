"""`meshc check` does each piece of work once (issue #13: one contract toward 0.3 s).

Each rule's SQL is tokenised and parsed once per process (the nesting check, the parser and the
id of an unnamed rule share one parse; a second compile of the same rule, as the governance
policies do in the same check, reuses it), and a valid contract is judged by the jsonschema-rs
fast path without importing the Python jsonschema package. Counting calls on sqlglot's own
classes is the only load-independent way to see "once": the calls still run, unchanged.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from meshc.checking import run_check
from meshc.loader import load_contract
from meshc.rules.compiler import compile_contract
from tests.conftest import ROOT

# Literals no other test uses, so that the per-process memo starts cold for these rules.
NAMED, UNNAMED, DATASET = "amount >= 7130.25", "amount < 9713025", "SUM(amount) > 71302.5"

CONTRACT = f"""\
info: {{version: "1.0.0", name: t, domain: d}}
model:
  fields:
    - {{name: id, type: integer, required: true}}
    - {{name: amount, type: float}}
quality:
  row_rules:
    - {{name: amount_floor, sql: "{NAMED}"}}
    - {{sql: "{UNNAMED}"}}
  dataset_rules:
    - {{type: sql, sql: "{DATASET}"}}
"""


@pytest.fixture
def sqlglot_calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, Counter[str]]:
    """How often sqlglot tokenised and parsed each text in this test (spies, not mocks)."""
    from sqlglot.parser import Parser
    from sqlglot.tokens import Tokenizer

    calls: dict[str, Counter[str]] = {"tokenize": Counter(), "parse": Counter()}
    tokenize, parse = Tokenizer.tokenize, Parser.parse

    def counting_tokenize(self: Any, sql: str) -> Any:
        calls["tokenize"][sql] += 1
        return tokenize(self, sql)

    def counting_parse(self: Any, raw_tokens: Any, sql: str | None = None) -> Any:
        calls["parse"][sql or ""] += 1
        return parse(self, raw_tokens, sql)

    monkeypatch.setattr(Tokenizer, "tokenize", counting_tokenize)
    monkeypatch.setattr(Parser, "parse", counting_parse)
    return calls


def test_check_tokenises_and_parses_each_rule_once(
    tmp_path: Path, sqlglot_calls: dict[str, Counter[str]]
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(CONTRACT)
    result = run_check([str(path)])
    assert result.errors == 0, result.diagnostics
    for sql in (NAMED, UNNAMED, DATASET):
        assert sqlglot_calls["tokenize"][sql] == 1, (sql, sqlglot_calls)
        assert sqlglot_calls["parse"][sql] == 1, (sql, sqlglot_calls)


def test_a_second_compile_in_the_same_process_parses_nothing(
    tmp_path: Path, sqlglot_calls: dict[str, Counter[str]]
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(CONTRACT.replace("7130.25", "7130.5").replace("9713025", "9713026"))
    first = compile_contract(load_contract(path))
    sqlglot_calls["tokenize"].clear()
    sqlglot_calls["parse"].clear()
    second = compile_contract(load_contract(path))
    assert not sqlglot_calls["tokenize"] and not sqlglot_calls["parse"], sqlglot_calls
    assert [(c.id, c.rule) for c in second.row_checks] == [(c.id, c.rule) for c in first.row_checks]
    assert second.row_checks == first.row_checks


def test_a_memoised_rule_problem_is_reported_again(tmp_path: Path) -> None:
    """A rule that does not compile fails the same way every time it is compiled."""
    text = textwrap.dedent("""\
        info: {version: "1.0.0", name: t, domain: d}
        model:
          fields:
            - {name: amount, type: float}
        quality:
          row_rules:
            - {name: bad, sql: "amount > 'x' + 713025"}
        """)
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    first = [(d.code, d.line, d.col, d.message) for d in run_check([str(path)]).diagnostics]
    again = [(d.code, d.line, d.col, d.message) for d in run_check([str(path)]).diagnostics]
    assert first and first == again


# What a check whose rules are cached needs none of: the rule compiler and sqlglot, and what only
# a document that cannot be built needs (meshc.partial_check).
NOT_WARM = ("sqlglot", "meshc.rules.compiler", "meshc.partial_check")


def _check_in_subprocess(
    prelude: str, contract: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    code = (
        f"import sys\n{prelude}\nfrom meshc.cli.app import main\n"
        "sys.argv = ['meshc', 'check', '--format', 'json', sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "print('JSONSCHEMA=' + str('jsonschema' in sys.modules), 'EXIT=' + str(code))\n"
        f"print('LOADED=' + ','.join(m for m in {NOT_WARM!r} if m in sys.modules))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(contract)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def test_a_warm_check_imports_only_what_it_needs(tmp_path: Path) -> None:
    """The rules' findings come from the cache: no compiler, no sqlglot, no partial checks."""
    contract = ROOT / "contracts" / "crm" / "orders.yaml"
    cache = {"MESHC_CACHE_DIR": str(tmp_path / "cache")}
    first = _check_in_subprocess("", contract, cache)  # fills the cache
    warm = _check_in_subprocess("", contract, cache)
    assert "EXIT=0" in first.stdout and "LOADED=sqlglot" in first.stdout, first.stdout
    assert "EXIT=0\nLOADED=\n" in warm.stdout, warm.stdout + warm.stderr
    assert warm.stdout.split("JSONSCHEMA=")[0] == first.stdout.split("JSONSCHEMA=")[0]


def _two_domains(root: Path, reference: str) -> Path:
    """A mesh of domains a and b; a/one.yaml's field `ref` references `reference`."""
    (root / "mesh.yaml").write_text(
        "mesh: {name: m, version: '1.0.0'}\n"
        "domains:\n  a: {owner: a@example.com, contracts: a}\n"
        "  b: {owner: b@example.com, contracts: b}\n"
    )
    for domain, name in (("a", "one"), ("a", "two"), ("b", "three")):
        (root / domain).mkdir(exist_ok=True)
        extra = f", references: {reference}" if name == "one" else ""
        (root / domain / f"{name}.yaml").write_text(
            f"info: {{version: '1.0.0', name: {name}, domain: {domain}}}\n"
            f"model:\n  fields:\n    - {{name: id, type: integer}}\n"
            f"    - {{name: ref, type: integer{extra}}}\n"
        )
    return root / "a" / "one.yaml"


@pytest.mark.parametrize(
    ("reference", "folders", "codes"),
    [
        ("a.two.id", ["a"], []),  # found in the first folder: b is never listed
        ("b.three.id", ["a", "b"], []),
        ("b.four.id", ["a", "b"], ["MC211"]),  # unknown: every folder was looked in
        ("a.two", [], ["MC213"]),  # malformed, and nothing else wanted: no folder listed
    ],
)
def test_references_list_the_mesh_folders_only_as_far_as_needed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reference: str,
    folders: list[str],
    codes: list[str],
) -> None:
    import meshc.discovery

    contract = _two_domains(tmp_path, reference)
    listed: list[list[str]] = []
    find_contracts = meshc.discovery.find_contracts

    def spy(args: list[str]) -> Any:  # a spy: the real function runs
        listed.append(list(args))
        return find_contracts(args)

    monkeypatch.setattr(meshc.discovery, "find_contracts", spy)
    result = run_check([str(contract)], mesh_path=tmp_path / "mesh.yaml")
    assert [d.code for d in result.diagnostics] == codes, result.diagnostics
    walked = [Path(arg).name for args in listed for arg in args if Path(arg).is_dir()]
    assert walked == folders


def test_a_valid_contract_is_checked_without_the_python_jsonschema_package() -> None:
    pytest.importorskip("jsonschema_rs")
    contract = ROOT / "contracts" / "crm" / "orders.yaml"
    proc = _check_in_subprocess("", contract)
    assert "JSONSCHEMA=False EXIT=0" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", ["orders.yaml", "bad.yaml"])
def test_without_jsonschema_rs_the_findings_are_the_same(tmp_path: Path, name: str) -> None:
    """jsonschema-rs is only a shortcut: blocked, the Python path gives the same output."""
    contract = ROOT / "contracts" / "crm" / "orders.yaml"
    if name == "bad.yaml":
        contract = tmp_path / name
        contract.write_text("info: {version: 1, name: t}\nmodel: {fields: [{name: x}]}\n")
    fast = _check_in_subprocess("", contract)
    slow = _check_in_subprocess("sys.modules['jsonschema_rs'] = None", contract)
    assert fast.stdout.split("JSONSCHEMA=")[0] == slow.stdout.split("JSONSCHEMA=")[0]
    assert "JSONSCHEMA=True" in slow.stdout, slow.stdout + slow.stderr
    assert fast.stderr == slow.stderr == ""
