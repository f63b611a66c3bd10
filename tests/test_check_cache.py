"""`meshc check` keeps its compiles' findings in .meshc_cache/ (issue #13: a check whose rules did
not change imports neither the compiler nor sqlglot). A cache is only ever a shortcut: every
test here compares against a check that compiles everything (`--no-cache`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from meshc.check_cache import DEFAULT_DIR, FORMAT, RuleCache
from meshc.checking import run_check
from meshc.loader import collect_contract
from tests.conftest import ROOT

BAD_RULE = textwrap.dedent("""\
    info: {version: "1.0.0", name: t, domain: d, description: first}
    model:
      fields:
        - {name: id, type: integer, required: true}
        - {name: amount, type: float}
    quality:
      row_rules:
        - {name: good, sql: "amount >= 0"}
        - {name: typo, sql: "amout > 1"}
        - {name: mixed, sql: "amount > 'x'"}
    """)

MONEY_MESH = textwrap.dedent("""\
    mesh: {name: m, version: "1.0.0"}
    domains:
      d: {owner: d@example.com, contracts: "."}
    governance:
      policies:
        - {id: money, kind: money_non_negative, severity: error, field_pattern: "amount$"}
    """)

MONEY_CONTRACT = textwrap.dedent("""\
    info: {version: "1.0.0", name: t, domain: d, owner: d@example.com}
    model:
      fields:
        - {name: id, type: integer}
        - {name: amount, type: float}
        - {name: fee_amount, type: float}
    quality:
      row_rules:
        - {name: paid, sql: "amount >= 0 AND id > 0"}
    """)

# Runs the CLI in a child (the cache's purpose is a fresh process), then reports whether the
# compiler or sqlglot were imported.
_CHILD = (
    "import sys\nfrom meshc.cli.app import main\nsys.argv = ['meshc', *sys.argv[1:]]\n"
    "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
    "heavy = sorted(m for m in ('sqlglot', 'meshc.rules.compiler') if m in sys.modules)\n"
    "print('IMPORTED=' + ','.join(heavy), 'EXIT=' + str(code))\n"
)


def _check(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[str, str]:
    """(what `meshc check` printed, the imports line) of one child process."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, "check", "--format", "json", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
    assert proc.stderr == "", proc.stderr
    out, _, tail = proc.stdout.rpartition("IMPORTED=")
    return out, "IMPORTED=" + tail.rstrip()


def _findings(out: str) -> list[tuple[str, int, int, str]]:
    report = json.loads(out)
    return [(d["code"], d["line"], d["col"], d["message"]) for d in report["diagnostics"]]


def test_an_unchanged_contract_is_checked_again_without_the_compiler(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(BAD_RULE)
    first, first_imports = _check(tmp_path, "c.yaml")
    again, again_imports = _check(tmp_path, "c.yaml")
    uncached, _ = _check(tmp_path, "c.yaml", "--no-cache")
    assert first_imports == "IMPORTED=meshc.rules.compiler,sqlglot EXIT=1"
    assert again_imports == "IMPORTED= EXIT=1"
    assert first == again == uncached
    assert {code for code, *_ in _findings(again)} == {"MC305", "MC306"}


def test_cached_problems_are_placed_in_the_file_as_it_is_now(tmp_path: Path) -> None:
    """An edit that does not touch fields or rules still hits; the problems move with the lines."""
    path = tmp_path / "c.yaml"
    path.write_text(BAD_RULE)
    _check(tmp_path, "c.yaml")
    shifted = "# a comment\n# another\n" + BAD_RULE.replace("description: first", "owner: x")
    path.write_text(shifted)  # the fields and rules are what they were: the same key
    hit, imports = _check(tmp_path, "c.yaml")
    uncached, _ = _check(tmp_path, "c.yaml", "--no-cache")
    assert imports == "IMPORTED= EXIT=1"
    assert hit == uncached
    before = {code: (line, col) for code, line, col, _ in _findings(_check(tmp_path, "c.yaml")[0])}
    path.write_text(BAD_RULE)
    after = {code: (line, col) for code, line, col, _ in _findings(_check(tmp_path, "c.yaml")[0])}
    assert all(before[code] == (line + 2, col) for code, (line, col) in after.items())


def test_a_changed_rule_is_compiled_again(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(BAD_RULE)
    _check(tmp_path, "c.yaml")
    path.write_text(BAD_RULE.replace("amout > 1", "amount > 1"))
    out, imports = _check(tmp_path, "c.yaml")
    assert imports == "IMPORTED=meshc.rules.compiler,sqlglot EXIT=1"
    assert "MC302" not in {code for code, *_ in _findings(out)}
    assert out == _check(tmp_path, "c.yaml", "--no-cache")[0]


def test_the_money_policy_is_answered_from_the_cache(tmp_path: Path) -> None:
    """money_non_negative asks which fields a rule bounds at >= 0: kept with the compile."""
    (tmp_path / "mesh.yaml").write_text(MONEY_MESH)
    (tmp_path / "c.yaml").write_text(MONEY_CONTRACT)
    first, _ = _check(tmp_path, "c.yaml")
    again, imports = _check(tmp_path, "c.yaml")
    assert imports == "IMPORTED= EXIT=1"
    assert first == again == _check(tmp_path, "c.yaml", "--no-cache")[0]
    flagged = [message for code, _, _, message in _findings(again) if code == "MC405"]
    assert flagged == ["policy 'money': money field 'fee_amount' has no non-negative rule"]


@pytest.mark.parametrize("switch", ["--no-cache", "MESHC_NO_CACHE"])
def test_no_cache_writes_nothing(tmp_path: Path, switch: str) -> None:
    (tmp_path / "c.yaml").write_text(BAD_RULE)
    args, env = (["--no-cache"], {}) if switch == "--no-cache" else ([], {switch: "1"})
    for _ in range(2):
        _, imports = _check(tmp_path, *args, "c.yaml", env=env)
        assert imports == "IMPORTED=meshc.rules.compiler,sqlglot EXIT=1"
    assert not (tmp_path / DEFAULT_DIR).exists()


def test_the_cache_folder_is_marked_and_moved_by_the_environment(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(BAD_RULE)
    _check(tmp_path, "c.yaml", env={"MESHC_CACHE_DIR": "elsewhere"})
    folder = tmp_path / "elsewhere"
    assert not (tmp_path / DEFAULT_DIR).exists()
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (folder / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172")
    assert len(list((folder / FORMAT).glob("*.json"))) == 1


def test_a_damaged_entry_is_a_miss_and_is_rewritten(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(BAD_RULE)
    good, _ = _check(tmp_path, "c.yaml")
    (entry,) = (tmp_path / DEFAULT_DIR / FORMAT).glob("*.json")
    for damage in ("", "{", '{"problems": 3}', '{"problems": [["MC1"]], "non_negative": []}'):
        entry.write_text(damage)
        out, imports = _check(tmp_path, "c.yaml")
        assert (out, imports) == (good, "IMPORTED=meshc.rules.compiler,sqlglot EXIT=1")
        assert _check(tmp_path, "c.yaml") == (good, "IMPORTED= EXIT=1")


def test_a_folder_that_cannot_be_written_only_costs_time(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(BAD_RULE)
    (tmp_path / "a-file").write_text("")
    env = {"MESHC_CACHE_DIR": str(tmp_path / "a-file" / "cache")}  # below a file: never a folder
    out, imports = _check(tmp_path, "c.yaml", env=env)
    assert imports == "IMPORTED=meshc.rules.compiler,sqlglot EXIT=1"
    assert out == _check(tmp_path, "c.yaml", "--no-cache")[0]


def test_the_key_is_what_the_compile_reads(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    cache = RuleCache(tmp_path / "cache")

    def key(text: str) -> str:
        path.write_text(text)
        contract, _ = collect_contract(path, compile_rules=False)
        assert contract is not None
        return cache.key(contract)

    base = key(BAD_RULE)
    assert key(BAD_RULE.replace("description: first", "description: second")) == base
    assert key("# moved down\n" + BAD_RULE) == base
    assert key(BAD_RULE.replace("amount >= 0", "amount >= 1")) != base
    assert key(BAD_RULE.replace("type: float", 'type: "decimal(10,2)"')) != base
    assert key(BAD_RULE.replace("name: typo", "name: typo2")) != base


def test_a_different_sqlglot_or_meshc_is_a_different_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import meshc.check_cache as cc

    path = tmp_path / "c.yaml"
    path.write_text(BAD_RULE)
    contract, _ = collect_contract(path, compile_rules=False)
    assert contract is not None
    base = RuleCache().key(contract)
    monkeypatch.setattr(cc, "_sqlglot_version", lambda: "__version__ = '99.0.0'")
    assert RuleCache().key(contract) != base
    monkeypatch.undo()
    monkeypatch.setattr(cc, "__file__", str(tmp_path / "meshc" / "check_cache.py"))
    (tmp_path / "meshc").mkdir()
    (tmp_path / "meshc" / "rules.py").write_text("# another meshc\n")
    assert RuleCache().key(contract) != base


def _corpus() -> list[Path]:
    folders = ("contracts", "examples", "tests/fixtures", "tests/conformance")
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.yaml") if "golden" not in p.parts)


def test_cached_and_compiled_checks_agree_on_every_contract_in_the_repository(
    tmp_path: Path,
) -> None:
    """Each YAML file checked three ways: compiling, filling a cache, and from that cache in a
    fresh process's place (a new RuleCache reads the folder); then moved down by two lines."""
    files = _corpus()
    assert len(files) > 100
    folder = tmp_path / "cache"

    def findings(path: Path, rules: RuleCache | None) -> list[tuple[object, ...]]:
        result = run_check([str(path)], rules=rules)
        return [(d.code, d.line, d.col, d.message, d.hint, d.severity) for d in result.diagnostics]

    for path in files:
        compiled = findings(path, None)
        assert findings(path, RuleCache(folder)) == compiled, path
        assert findings(path, RuleCache(folder)) == compiled, path
        moved = tmp_path / "moved" / path.relative_to(ROOT)
        moved.parent.mkdir(parents=True, exist_ok=True)
        moved.write_text("# one\n# two\n" + path.read_text())
        assert findings(moved, RuleCache(folder)) == findings(moved, None), moved
    assert len(list((folder / FORMAT).glob("*.json"))) > 50
