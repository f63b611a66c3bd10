"""Fuzzing `meshc check`: whatever the contract file holds, check answers with located diagnostics.

Random contract YAML (plausible contracts with random keys and values, random text and bytes, deep
nesting) and random rule text (SQL-ish token soup, deep parentheses, long chains) must never make
`run_check` raise, never produce a diagnostic without a file and line, and never hit meshc's own
internal-error guard (MC314). The CLI variant runs in a subprocess with a memory limit and must exit
0 or 1 with a JSON document and no traceback. (Issue #12: the fuzz test of "Done when".)
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshc.checking import run_check

COLUMNS = ["id", "x", "amount", "name", "d", "ts"]
TYPES = [
    "string",
    "integer",
    "float",
    "decimal(12,2)",
    "boolean",
    "date",
    "timestamp",
    "flaot",
    "decimal(99,99)",
    "",
]
TOKENS = [
    *COLUMNS,
    "nope",
    "1",
    "0",
    "-1",
    "2.5",
    "1e308",
    "99999999999999999999999",
    "'a'",
    "''",
    "'2024-01-01'",
    "NULL",
    "TRUE",
    "AND",
    "OR",
    "NOT",
    "(",
    ")",
    ",",
    "=",
    "<>",
    "<",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "||",
    "IN",
    "BETWEEN",
    "LIKE",
    "ILIKE",
    "ESCAPE",
    "IS",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "CAST",
    "AS",
    "INTEGER",
    "VARCHAR",
    "DATE",
    "TIMESTAMP",
    "INTERVAL",
    "'3'",
    "DAY",
    "COUNT",
    "SUM",
    "AVG",
    "ABS",
    "LENGTH",
    "UPPER",
    "TRIM",
    "SUBSTRING",
    "CONCAT",
    "COALESCE",
    "REGEXP_LIKE",
    "'^(a|b)+$'",
    "'['",
    "CURRENT_DATE",
    "SELECT",
    "FROM",
    ";",
    "--",
    "/*",
    '"x"',
    "[",
    "]",
    "{",
    "}",
    ":",
    "?",
    "$1",
    "@x",
    "`",
    "'",
    "DISTINCT",
    "OVER",
    "t.x",
]
KEYS = [
    "info",
    "model",
    "fields",
    "quality",
    "row_rules",
    "dataset_rules",
    "sql",
    "name",
    "type",
    "source",
    "path",
    "format",
    "output",
    "target",
    "quarantine",
    "lineage",
    "transform",
    "inputs",
    "ref",
    "references",
    "min",
    "max",
    "version",
    "domain",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(TYPES + COLUMNS + KEYS),
)
anything = st.recursive(
    scalars,
    lambda kids: (
        st.lists(kids, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), kids, max_size=4)
    ),
    max_leaves=16,
)


def _deep(inner: str, n: int, opening: str, closing: str) -> str:
    return opening * n + inner + closing * n


rules = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=24).map(" ".join),
    st.text(max_size=30),
    st.builds(lambda n: _deep("x > 0", n, "(", ")"), st.integers(0, 300)),
    st.builds(lambda n: "NOT " * n + "x > 0", st.integers(0, 300)),
    st.builds(
        lambda n: _deep("TRUE", n, "CASE WHEN x > 0 THEN ", " END"),
        st.integers(0, 120),
    ),
    st.builds(
        lambda n, op: f" {op} ".join(f"x <> {i}" for i in range(n)),
        st.integers(1, 1500),
        st.sampled_from(["AND", "OR"]),
    ),
    st.builds(
        lambda n, op: f" {op} ".join(["x"] * n) + " > 0",
        st.integers(1, 400),
        st.sampled_from(["+", "*", "-", "||"]),
    ),
)


def _or_junk(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, strategy, strategy, anything)


fields = st.fixed_dictionaries(
    {"name": _or_junk(st.sampled_from(COLUMNS)), "type": _or_junk(st.sampled_from(TYPES))},
    optional={
        "required": scalars,
        "unique": scalars,
        "min": scalars,
        "max": scalars,
        "pattern": _or_junk(st.sampled_from(["^a+$", "(", "(?=x)", "[a-z]{2,3}"])),
        "accepted_values": st.lists(scalars, max_size=4),
        "max_length": scalars,
        "references": _or_junk(st.sampled_from(["d.t.id", "crm.orders.order_id", "x"])),
    },
)
row_rules = st.fixed_dictionaries(
    {"sql": _or_junk(rules)},
    optional={"name": _or_junk(st.sampled_from(["r", "r2"])), "severity": scalars},
)
dataset_rules = st.fixed_dictionaries(
    {
        "type": _or_junk(
            st.sampled_from(["unique", "row_count", "null_ratio", "freshness", "sql", "nope"])
        )
    },
    optional={
        "sql": rules,
        "column": _or_junk(st.sampled_from(COLUMNS)),
        "columns": st.lists(st.sampled_from(COLUMNS), max_size=3),
        "min": scalars,
        "max": scalars,
        "max_age": _or_junk(st.sampled_from(["1d", "24 h", "0s", "99999999999999999999d"])),
    },
)
contracts = st.fixed_dictionaries(
    {
        "info": _or_junk(
            st.fixed_dictionaries(
                {"version": scalars, "name": _or_junk(st.just("t")), "domain": st.just("d")}
            )
        ),
        "model": _or_junk(
            st.fixed_dictionaries({"fields": _or_junk(st.lists(fields, max_size=5))})
        ),
    },
    optional={
        "quality": _or_junk(
            st.fixed_dictionaries(
                {},
                optional={
                    "row_rules": _or_junk(st.lists(row_rules, max_size=4)),
                    "dataset_rules": _or_junk(st.lists(dataset_rules, max_size=3)),
                    "max_quarantine_ratio": scalars,
                },
            )
        ),
        "source": anything,
        "output": anything,
        "quarantine": anything,
        "lineage": anything,
        "transform": _or_junk(
            st.fixed_dictionaries(
                {
                    "inputs": st.lists(st.fixed_dictionaries({"ref": scalars}), max_size=2),
                    "sql": rules,
                }
            )
        ),
        "extra": anything,
    },
)


def _yaml_block(data: Any) -> str:
    from ruamel.yaml import YAML

    out = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, out)
    return out.getvalue()


# YAML that JSON cannot express: tags, sets, binary, cycles, merges, complex keys, bad aliases
ODD_VALUES = [
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!foo bar",
    "!!float .nan",
    "-.inf",
    "&a [*a]",
    "*undefined",
    "{<<: {name: x}}",
    "{? [a, b] : 1}",
    "2024-13-45",
    "2024-01-01 10:00:00",
    "0x1F",
    "1_000",
    "99999999999999999999999999",
    "~",
    '"\\x00 \\u2028"',
    "|\n  multi\n  line",
]


def _with_odd_value(text: str, line: int, odd: str) -> str:
    """Replace the value on one `key: value` line of block YAML by an odd YAML value."""
    lines = text.splitlines()
    candidates = [i for i, x in enumerate(lines) if ": " in x]
    if not candidates:
        return text
    i = candidates[line % len(candidates)]
    lines[i] = lines[i].split(": ", 1)[0] + ": " + odd
    return "\n".join(lines) + "\n"


def _deep_brackets(n: int) -> str:
    return "info: " + _deep("1", n, "[", "]")


def _deep_keys(n: int) -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(n))


def _alias_chain(n: int) -> str:
    """n anchors, each a list of four aliases of the previous one: 4**n nodes once expanded."""
    return "a: &a [x, x]\n" + "".join(
        f"b{i}: &b{i} [{', '.join([f'*{_prev(i)}'] * 4)}]\n" for i in range(n)
    )


def _prev(i: int) -> str:
    return "a" if i == 0 else f"b{i - 1}"


# Documents whose shape is drawn at random (structure, keys, values, text, bytes).
shaped_documents = st.one_of(
    contracts.map(json.dumps),  # JSON is YAML, in flow style
    contracts.map(_yaml_block),  # block style, as people write it
    st.builds(
        _with_odd_value,
        contracts.map(_yaml_block),
        st.integers(0, 100),
        st.sampled_from(ODD_VALUES),
    ),
    anything.map(json.dumps),
    st.text(max_size=200),
    st.binary(max_size=200),
)
# Documents drawn from one integer: nesting depth, length of an alias chain. Their behaviour
# changes only at the guard's limits (meshc.yaml_guard: MAX_YAML_DEPTH, MAX_ALIAS_EXPANSION), so
# the slow test sweeps those boundaries (INTEGER_DOCUMENTS) instead of drawing them thousands of
# times.
documents = st.one_of(
    shaped_documents,
    st.builds(_deep_brackets, st.integers(0, 400)),
    st.builds(_deep_keys, st.integers(0, 200)),
    st.builds(_alias_chain, st.integers(0, 12)),
)
# MAX_YAML_DEPTH = 64: refused from 64 brackets under `info:` and from 65 nested keys on
AROUND_DEPTH_LIMIT = [0, 1, 2, 62, 63, 64, 65, 66, 128, 200]
INTEGER_DOCUMENTS = [
    *(pytest.param(_deep_brackets(n), id=f"brackets-{n}") for n in [*AROUND_DEPTH_LIMIT, 400]),
    *(pytest.param(_deep_keys(n), id=f"keys-{n}") for n in AROUND_DEPTH_LIMIT),
    # every length the random draw could give; from 8 on they expand past MAX_ALIAS_EXPANSION
    *(pytest.param(_alias_chain(n), id=f"aliases-{n}") for n in range(13)),
]


def _write(folder: Path, name: str, document: str | bytes) -> Path:
    path = folder / name
    if isinstance(document, bytes):
        path.write_bytes(document)
    else:
        path.write_text(document, encoding="utf-8", errors="surrogatepass")
    return path


def _assert_located(diagnostics: list[Any], paths: set[str]) -> None:
    for d in diagnostics:
        assert d["code"] != "MC314", d  # meshc's own internal-error guard
        assert d["path"] in paths and d["line"] >= 1, d


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _check_document(workdir: Path, document: str | bytes) -> None:
    try:
        path = _write(workdir, "contract.yaml", document)
    except UnicodeEncodeError:  # lone surrogates cannot be written as UTF-8 text
        path = _write(workdir, "contract.yaml", document.encode("utf-8", "replace"))  # type: ignore[union-attr]
    result = run_check([str(path)])
    _assert_located([d.to_dict() for d in result.diagnostics], {str(path)})


FUZZ = settings(
    deadline=10_000,  # ms: far above a normal check; catches hangs and exponential blow-ups
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@settings(FUZZ, max_examples=150)
@given(document=documents)
def test_check_answers_any_contract_with_located_diagnostics(
    workdir: Path, document: str | bytes
) -> None:
    _check_document(workdir, document)


# As many draws of each shaped family as 3,000 draws of `documents` gave (2,000 over 6 families,
# 333 each); the integer families are swept at their limits just below.
@pytest.mark.slow
@settings(FUZZ, max_examples=2000)
@given(document=shaped_documents)
def test_check_answers_any_contract_many_examples(workdir: Path, document: str | bytes) -> None:
    _check_document(workdir, document)


@pytest.mark.slow
@pytest.mark.parametrize("document", INTEGER_DOCUMENTS)
def test_check_answers_nesting_and_alias_chains_at_the_guard_limits(
    workdir: Path, document: str
) -> None:
    _check_document(workdir, document)


@settings(max_examples=100, deadline=10_000, database=None)
@given(rule=rules)
def test_any_rule_text_compiles_or_is_a_located_problem(workdir: Path, rule: str) -> None:
    document = {
        "info": {"version": 1, "name": "t", "domain": "d"},
        "model": {"fields": [{"name": c, "type": "integer"} for c in COLUMNS]},
        "quality": {
            "row_rules": [{"name": "r", "sql": rule}],
            "dataset_rules": [{"type": "sql", "sql": rule}],
        },
    }
    path = _write(workdir, "rule.yaml", _yaml_block(document))
    result = run_check([str(path)])
    _assert_located([d.to_dict() for d in result.diagnostics], {str(path)})


MEMORY_LIMIT = 1024**3  # 1 GiB of address space: a check that needs more is a bomb


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is enforced on Linux")
@settings(max_examples=4, deadline=None, database=None)
@given(batch=st.lists(documents, min_size=1, max_size=6))
def test_cli_exits_0_or_1_with_a_document_under_a_memory_limit(
    tmp_path_factory: pytest.TempPathFactory, batch: list[str | bytes]
) -> None:
    import subprocess

    folder = tmp_path_factory.mktemp("cli")
    paths = set()
    for i, document in enumerate(batch):
        data = document if isinstance(document, bytes) else document.encode("utf-8", "replace")
        paths.add(str(_write(folder, f"c{i}.yaml", data)))
    proc = subprocess.run(
        [sys.executable, "-m", "meshc", "check", "--format", "json", *sorted(paths)],
        capture_output=True,
        text=True,
        preexec_fn=_limit_memory,
        timeout=120,  # a hang guard, not a speed assertion
    )
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    report = json.loads(proc.stdout)
    assert report["files_checked"] == len(paths)
    _assert_located(report["diagnostics"], paths)
