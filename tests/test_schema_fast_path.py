"""The jsonschema-rs fast path of schema validation agrees with the Python jsonschema validator.

meshc.schema_validation skips the Python validator when jsonschema-rs finds a document valid, so
the two must never disagree there: every YAML file in the repository (contracts, examples, test
fixtures), as the contract and as the mesh schema, gets the same verdict from both, and so do
random contracts (tests/test_check_fuzz.py's generator) and mutations of every valid contract.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshc.errors import ContractError
from meshc.located_yaml import load_yaml_file
from meshc.schema_validation import _fast_validator, _plain_json, _validator, is_valid_fast
from tests.conftest import ROOT
from tests.test_check_fuzz import KEYS, anything, contracts, scalars

pytest.importorskip("jsonschema_rs")

SCHEMAS = ("contract", "mesh")


def _yaml_files() -> list[Path]:
    roots = [ROOT / "contracts", ROOT / "examples", ROOT / "tests"]
    found = {p for root in roots for p in root.rglob("*.y*ml") if p.suffix in {".yaml", ".yml"}}
    return sorted(found | {ROOT / "mesh.yaml"} if (ROOT / "mesh.yaml").exists() else found)


@cache
def _documents() -> list[tuple[str, Any]]:
    docs = []
    for path in _yaml_files():
        try:
            data, _ = load_yaml_file(path)
        except ContractError:  # not YAML meshc reads (hostile fixtures): no schema verdict
            continue
        docs.append((str(path.relative_to(ROOT)), data))
    return docs


def _rs_verdict(data: Any, name: str) -> bool | None:
    """jsonschema-rs's own verdict, or None where the fast path leaves it to Python."""
    if not _plain_json(data):
        return None
    try:
        return bool(_fast_validator(name).is_valid(data))
    except ValueError:
        return None


def _assert_same_verdict(data: Any, name: str, what: str) -> None:
    python = _validator(name).is_valid(data)
    rust = _rs_verdict(data, name)
    assert not is_valid_fast(data, name) or python, f"{what}: fast path valid, python invalid"
    if rust is False and python:  # the only known disagreement, and on the safe side
        assert _python_only_values(data), f"{what} ({name} schema): rs=False python=True"
    else:
        assert rust is None or rust == python, f"{what} ({name} schema): rs={rust} python={python}"


def _python_only_values(data: Any) -> bool:
    """Values only Python's jsonschema accepts: a string ending in a newline (a `pattern` of
    `...$`: Python's `$` also matches before a final newline, Rust's regex only at the end) and
    NaN or infinity (no JSON number; jsonschema-rs rejects them). jsonschema-rs then says
    invalid, the Python path runs and reports exactly what it always did."""
    if isinstance(data, dict):
        return any(_python_only_values(v) for v in data.values())
    if isinstance(data, list):
        return any(_python_only_values(v) for v in data)
    if isinstance(data, str):
        return data.endswith("\n")
    return isinstance(data, float) and not math.isfinite(data)


def test_the_corpus_is_large_and_holds_valid_contracts() -> None:
    docs = _documents()
    valid = [p for p, d in docs if _validator("contract").is_valid(d)]
    assert len(docs) >= 50 and len(valid) >= 20, (len(docs), len(valid))
    assert all(is_valid_fast(d) for p, d in docs if p in valid)


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_yaml_file_in_the_repository_gets_the_same_verdict(name: str) -> None:
    for path, data in _documents():
        _assert_same_verdict(data, name, path)


@pytest.mark.slow  # the generator draws long rule texts: ~50 s on a loaded 2-core machine
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(document=contracts)
def test_random_contracts_get_the_same_verdict(document: dict[str, Any]) -> None:
    _assert_same_verdict(document, "contract", repr(document)[:300])


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            out.extend(_paths(child, (*prefix, key)))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            out.extend(_paths(child, (*prefix, i)))
    return out


def _copy(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_copy(v) for v in node]
    return node


def _mutate(data: Any, draw: Any) -> Any:
    """One random edit at a random place: delete, replace, add a key, or nudge a scalar."""
    doc = _copy(data)
    path = draw(st.sampled_from(_paths(doc)[1:]))
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    last, value = path[-1], parent[path[-1]]
    edit = draw(st.sampled_from(["delete", "replace", "add_key", "nudge"]))
    if edit == "delete":
        del parent[last]
    elif edit == "replace":
        parent[last] = draw(anything)
    elif edit == "add_key" and isinstance(value, dict):
        value[draw(st.sampled_from(KEYS) | st.text(max_size=6))] = draw(scalars)
    elif isinstance(value, str):
        parent[last] = draw(
            st.sampled_from([value + "\n", value.upper(), value + " ", "", "1" + value, value[1:]])
        )
    elif isinstance(value, bool) or value is None:
        parent[last] = draw(st.sampled_from([0, 1, "true", None, not value]))
    elif isinstance(value, (int, float)):
        parent[last] = draw(
            st.sampled_from([-value, value + 0.5, str(value), 10**30, -(10**30), float("nan")])
        )
    else:
        parent[last] = draw(scalars)
    return doc


@cache
def _valid_contracts() -> list[tuple[str, Any]]:
    return [(p, d) for p, d in _documents() if _validator("contract").is_valid(d)]


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_mutated_valid_contracts_get_the_same_verdict(data: st.DataObject) -> None:
    path, document = data.draw(st.sampled_from(_valid_contracts()))
    mutated = document
    for _ in range(data.draw(st.integers(1, 3))):
        if not isinstance(mutated, dict) or not mutated:
            break
        mutated = _mutate(mutated, data.draw)
    _assert_same_verdict(mutated, "contract", f"{path} mutated to {mutated!r}"[:600])


@pytest.mark.parametrize(
    "value",
    [("a", 1), {"a", "b"}, b"bytes", {1: "x"}],
    ids=["tuple", "set", "bytes", "int-key"],
)
def test_values_json_has_no_type_for_take_the_python_path(value: Any) -> None:
    """A tuple (YAML !!pairs) is an array to jsonschema-rs but not to jsonschema: never fast."""
    document = {"info": {"version": "1.0.0", "name": "t", "domain": "d", "tags": [value]}}
    assert not _plain_json(document)
    assert not is_valid_fast(document)
