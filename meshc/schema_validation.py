"""JSON Schema validation with located, human diagnostics (codes MC1xx).

The schema in `schemas/contract.schema.json` is the single source of truth for what a contract may
contain; this module only translates jsonschema's errors into compiler-style messages.

A valid document is the common case (every `meshc check` of a clean contract, every run), and
the Python jsonschema package costs more to import than the rest of such a check: when
jsonschema-rs (Rust, draft 2020-12) is installed and says the document is valid, that verdict
stands and jsonschema is never imported. Anything else (invalid, a value JSON has no type for,
jsonschema-rs missing or failing) takes the Python path, which produces every located
diagnostic exactly as before. tests/test_schema_fast_path.py checks that both validators give
the same verdict on every YAML file in the repository and on many mutated contracts.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

from meshc.diagnostics import Diagnostic, did_you_mean
from meshc.located_yaml import JsonPath, Locator


def schema_text(name: str = "contract") -> str:
    try:
        with open(_schema_file(name), encoding="utf-8") as handle:
            return handle.read()
    except OSError:  # meshc imported from a zip file or the like: its loader knows
        from importlib import resources

        return resources.files("meshc").joinpath(f"schemas/{name}.schema.json").read_text("utf-8")


def has_schema(name: str) -> bool:
    if os.path.isfile(_schema_file(name)):
        return True
    from importlib import resources

    return resources.files("meshc").joinpath(f"schemas/{name}.schema.json").is_file()


def _schema_file(name: str) -> str:
    # a plain file next to this module in every install pip makes; importlib.resources (10 ms
    # to import, a tenth of a pre-commit check of one contract) only for anything else
    return os.path.join(os.path.dirname(__file__), "schemas", f"{name}.schema.json")


@lru_cache(maxsize=4)
def load_schema(name: str = "contract") -> dict[str, Any]:
    return json.loads(schema_text(name))


@lru_cache(maxsize=4)
def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(name))


@lru_cache(maxsize=4)
def _fast_validator(name: str) -> Any:
    """jsonschema-rs's validator of the schema, or None when it is not installed or fails."""
    try:
        import jsonschema_rs

        # no format assertions: the Python validator below has no format checker either
        return jsonschema_rs.Draft202012Validator(load_schema(name), validate_formats=False)
    except Exception:  # missing, or a wheel that does not load here: the Python path decides
        return None


def is_valid_fast(data: Any, name: str = "contract") -> bool:
    """True when jsonschema-rs finds `data` valid; False means "ask the Python validator"."""
    validator = _fast_validator(name)
    if validator is None or not _plain_json(data):
        return False
    try:
        return bool(validator.is_valid(data))
    except Exception:  # e.g. a string with a lone surrogate, which it cannot convert
        return False


_SCALARS = (str, int, float, bool, type(None))


def _plain_json(data: Any) -> bool:
    """Only JSON's own types, exactly: jsonschema-rs reads a tuple (YAML `!!pairs`) as an array
    where jsonschema sees no array, so anything unusual goes to the Python path."""
    stack = [data]
    while stack:
        value = stack.pop()
        if type(value) is dict:
            if not all(type(key) is str for key in value):
                return False
            stack.extend(value.values())
        elif type(value) is list:
            stack.extend(value)
        elif type(value) not in _SCALARS:
            return False
    return True


def validate(data: Any, locator: Locator, name: str = "contract") -> list[Diagnostic]:
    """Every schema violation in `data`, located; empty when the document is valid."""
    if is_valid_fast(data, name):
        return []
    out: list[Diagnostic] = []
    validator = _validator(name)
    for error in validator.iter_errors(data):
        out.extend(_translate(error, locator, validator))
    return _dedupe(out)


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[int, int, str]] = set()
    unique = []
    for d in diags:
        key = (d.line, d.col, d.message)
        if key not in seen:
            seen.add(key)
            unique.append(d)
    return unique


def _translate(error: Any, loc: Locator, root: Any) -> list[Diagnostic]:
    """`root`: the validator of the whole schema, which a branch's `$ref`s resolve against."""
    jpath: JsonPath = tuple(error.absolute_path)
    where = _describe(jpath)
    validator = error.validator
    schema = error.schema
    if validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = [k for k in error.instance if k not in schema.get("properties", {})]
        return [
            loc.diagnostic(
                "MC101",
                f"unknown key '{key}' in {where}",
                (*jpath, key),
                at_key=True,
                hint=did_you_mean(key, allowed) or f"allowed keys: {', '.join(allowed)}",
            )
            for key in extra
        ]
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return [
            loc.diagnostic(
                "MC102",
                f"missing required key '{missing}' in {where}",
                jpath,
                at_key=True,
                hint=f"add '{missing}:' to {where}",
            )
        ]
    if validator in ("enum", "const"):
        allowed = schema.get("enum") or [schema.get("const")]
        value = error.instance
        hint = (
            did_you_mean(str(value), [str(a) for a in allowed]) if isinstance(value, str) else None
        )
        return [
            loc.diagnostic(
                "MC103",
                f"invalid value {json.dumps(value, default=str)} for {where}",
                jpath,
                hint=hint or f"expected one of: {', '.join(map(str, allowed))}",
            )
        ]
    if validator == "anyOf" and jpath and jpath[-1] == "type":
        return [_unknown_type(error.instance, jpath, loc)]
    if validator == "oneOf" and isinstance(error.instance, dict):
        return _one_of(error, jpath, loc, root)
    if validator == "type":
        expected = schema.get("type")
        expected_text = " or ".join(expected) if isinstance(expected, list) else expected
        return [
            loc.diagnostic(
                "MC104",
                f"{where} must be {_article(expected_text)}, got {_json_type(error.instance)}",
                jpath,
            )
        ]
    return [loc.diagnostic("MC105", f"invalid {where}: {error.message}", jpath)]


def _unknown_type(value: Any, jpath: JsonPath, loc: Locator) -> Diagnostic:
    from meshc.types import ALIASES

    hint = did_you_mean(str(value), [*ALIASES, "decimal(p,s)"]) if isinstance(value, str) else None
    return loc.diagnostic(
        "MC201",
        f"unknown type {json.dumps(value, default=str)}",
        jpath,
        hint=hint or "see docs/contract-reference.md#types",
    )


def _one_of(error: Any, jpath: JsonPath, loc: Locator, root: Any) -> list[Diagnostic]:
    """Pick the branch whose discriminator const (`type`, `kind`) matches; report its errors."""
    branches = error.schema["oneOf"]
    key = next((k for k, v in branches[0].get("properties", {}).items() if "const" in v), "type")
    kinds: dict[str, Any] = {}
    for branch in branches:
        const = branch.get("properties", {}).get(key, {}).get("const")
        if const:
            kinds[const] = branch
    kind = error.instance.get(key)
    if not isinstance(kind, str) or kind not in kinds:  # a list or mapping is never a kind
        hint = did_you_mean(kind, kinds) if isinstance(kind, str) else None
        return [
            loc.diagnostic(
                "MC103",
                f"unknown {key} {json.dumps(kind, default=str)}",
                (*jpath, key) if kind is not None else jpath,
                at_key=kind is None,
                hint=hint or f"expected one of: {', '.join(kinds)}",
            )
        ]
    # evolved from the whole schema's validator: a branch alone cannot resolve `#/$defs/...`
    sub = root.evolve(schema=kinds[kind])
    out: list[Diagnostic] = []
    for sub_error in sub.iter_errors(error.instance):
        sub_error.path.extendleft(reversed(jpath))  # make absolute_path correct
        out.extend(_translate(sub_error, loc, root))
    return out


def _describe(jpath: JsonPath) -> str:
    if not jpath:
        return "the contract"
    parts: list[str] = []
    for p in jpath:
        parts.append(f"[{p}]" if isinstance(p, int) else (f".{p}" if parts else p))
    return "'" + "".join(parts) + "'"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


def _article(text: str) -> str:
    return f"an {text}" if text[:1] in "aeiou" else f"a {text}"
