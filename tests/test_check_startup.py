"""`meshc check` does each piece of work once (issue #13: one contract toward 0.3 s).

Each rule's SQL is tokenised and parsed once per process (the nesting check, the parser and the
id of an unnamed rule share one parse; a second compile of the same rule, as the governance
policies do in the same check, reuses it), and a valid contract is judged by the jsonschema-rs
fast path without importing the Python jsonschema package. Counting calls on sqlglot's own
classes is the only load-independent way to see "once": the calls still run, unchanged.
"""

from __future__ import annotations

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


def _check_in_subprocess(prelude: str, contract: Path) -> subprocess.CompletedProcess[str]:
    code = (
        f"import sys\n{prelude}\nfrom meshc.cli.app import main\n"
        "sys.argv = ['meshc', 'check', '--format', 'json', sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "print('JSONSCHEMA=' + str('jsonschema' in sys.modules), 'EXIT=' + str(code))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(contract)], capture_output=True, text=True, cwd=ROOT
    )


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
