"""The libyaml path of the located load (meshc.yaml_fast) gives exactly what ruamel.yaml gives.

Each document is loaded both ways: when the fast path takes it, the data, the key positions and
the value positions must equal the ruamel.yaml path's; when it must not take it (see the module
docstring), it returns None and the ruamel.yaml path reports what it always reported.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from meshc import located_yaml
from meshc.errors import ContractError
from meshc.yaml_fast import load_plain
from tests.conftest import ROOT


def _ruamel(text: str) -> tuple[Any, ...]:
    try:
        data, loc = located_yaml._load_with_ruamel(text, "c.yaml")
    except ContractError as exc:
        return ("refused", [d.render() for d in exc.diagnostics])
    return ("loaded", data, loc.keys, loc.values)


def _same_or_declined(text: str) -> bool:
    """True when the fast path took the text (and agreed); False when it declined."""
    fast = load_plain(text)
    if fast is None:
        return False
    assert _ruamel(text) == ("loaded", *fast), text
    return True


def _repository_yaml() -> list[Path]:
    folders = ("contracts", "examples", "tests/fixtures", "tests/conformance", "docs")
    found = [p for folder in folders for p in (ROOT / folder).rglob("*.y*ml")]
    return sorted([ROOT / "mesh.yaml", *found])


def test_every_yaml_file_of_the_repository_loads_the_same() -> None:
    taken = [p for p in _repository_yaml() if _same_or_declined(p.read_text("utf-8"))]
    contracts = sorted((ROOT / "contracts").rglob("*.yaml"))
    assert contracts and set(contracts) <= set(taken)  # the example mesh takes the fast path


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: -0\nc: +5\nd: 1.5\ne: -1.50\n",
        "a: true\nb: False\nc: TRUE\nd: yes\ne: on\nf: tRue\n",  # YAML 1.2: yes/on are strings
        "a: ~\nb: null\nc: Null\nd: NULL\ne: nul\n",
        "a: 2024-01-01\nb: '2024-01-01'\nc: 1.0.0\nd: 20240101\n",
        "a: 'x'\nb: \"y\\n\"\nc: |\n  l1\n  l2\nd: >-\n  f1\n  f2\n\n  f3\n",
        "\ufeffa: 1\n",
        "a: 1\r\nb:\r\n  - x\r\n  - {y: [1, 2]}\r\n",
        "k:\n- a\n-   b\n- - c\n  - d\n",
        "{a: 1, b: [x, y]}",
        "[1, 2]",
        "just text",
        "",
        "# only a comment\n",
        "---\na: 1\n...\n",
        "a: é\nbé: ü x\n😀: 😀 # c\n",
        "a: b # c\nc: d#e\n'q': 'it''s'\n",
        '"a\\nb": 1\n',
    ],
)
def test_documents_the_fast_path_takes(text: str) -> None:
    assert _same_or_declined(text)


@pytest.mark.parametrize(
    "text",
    [
        "a:\n",  # an empty value: ruamel places it at the next token or comment
        "a: {b: }\n",
        "a: 0o17\nb: 0x1F\nc: 1_000\nd: 1e3\ne: .inf\n",  # numbers ruamel constructs itself
        "a: 2024-01-01 10:00:00\n",
        "a: 2024-13-01\n",  # no such date: ruamel's error
        "a: 1\na: 2\n",  # ruamel refuses duplicate keys
        "1: x\n",
        "true: x\n",
        "? [a]\n: b\n",
        "a: &x 1\nb: *x\n",  # aliases: the alias-bomb guard runs on the ruamel path
        "<<: {a: 1}\n",
        "a: !!str 1\n",
        "%YAML 1.1\n---\na: yes\n",
        "a: b\n---\nc: d\n",
        "a:\tb\n",  # ruamel refuses the tab, libyaml does not
        "a: >#c\n",  # libyaml reads the comment, ruamel refuses it
        "a: |#c\n  x\n",
        "a: |\n \n   x\n",  # ruamel: more indented follow up line than first in a block scalar
        "a: >\n\n  x\n",
        "a: x\u2028y\n",
        "[" * 65 + "]" * 65,  # deeper than MAX_YAML_DEPTH: MC008 on the ruamel path
        "a: [unclosed\n",
        "a: b\n c: d\n",
    ],
)
def test_documents_left_to_ruamel(text: str) -> None:
    assert load_plain(text) is None


def test_refusals_are_ruamels_own() -> None:
    with pytest.raises(ContractError) as caught:
        located_yaml.load_yaml_text("a: >#c\n", "c.yaml")
    assert caught.value.diagnostics[0].code == "MC002"
    assert "chomping or indentation indicators" in caught.value.diagnostics[0].message


_MUTATIONS = list(" :-#'\"|>[]{},\n!&*?%@`\\~0123456789.eTtfn_\r\t")


@pytest.mark.slow
def test_mutated_contracts_load_the_same() -> None:
    """Small random edits of real contracts (a fixed seed): never a different result."""
    rng = random.Random(13)
    texts = [p.read_text("utf-8") for p in sorted((ROOT / "contracts").rglob("*.yaml"))]
    for _ in range(200):
        text = rng.choice(texts)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text) + 1)
            if rng.random() < 0.6:
                text = text[:at] + rng.choice(_MUTATIONS) + text[at:]
            else:
                text = text[:at] + text[at + 1 :]
        _same_or_declined(text)
