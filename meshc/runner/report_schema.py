"""The run report's JSON Schema, generated from the typed model (meshc/runner/report.py).

    python -m meshc.runner.report_schema > meshc/schemas/run-report.schema.json

A test asserts the committed schema equals this output, so the model and its published schema
cannot drift. Only the few type shapes the model uses are supported; anything else is an error
here rather than a silently loose schema.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any, Literal, Union

from meshc.runner.report import RunReport, Serialisable

SCHEMA_ID = "https://meshc.dev/schemas/run-report.schema.json"
_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}


def run_report_schema() -> dict[str, Any]:
    body = _object(RunReport)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "meshc run report",
        **body,
    }


def run_report_schema_text() -> str:
    return json.dumps(run_report_schema(), indent=2) + "\n"


def _object(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for f in dataclasses.fields(cls):
        if not f.metadata.get("exported", True):
            continue
        name = f.metadata.get("json") or f.name
        hint = hints[f.name]
        if f.metadata.get("omit_none"):  # never null in the JSON: absent instead
            [hint] = [a for a in typing.get_args(hint) if a is not type(None)]
        else:
            required.append(name)
        properties[name] = {**_type(hint), **f.metadata.get("schema", {})}
    extra = getattr(cls, "SCHEMA_EXTRA", {})
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": properties,
        **extra,
    }


def _type(hint: Any) -> dict[str, Any]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return {}
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if isinstance(hint, type) and issubclass(hint, Serialisable):
        return _object(hint)
    if origin is Literal:
        return {"const": args[0]} if len(args) == 1 else {"enum": list(args)}
    if origin in (Union, types.UnionType):
        return _optional(args)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return {"type": "array", "items": _type(args[0])}
    if origin is dict and args[0] is str:
        value = _type(args[1])
        return {"type": "object", **({"additionalProperties": value} if value else {})}
    raise TypeError(f"the report schema generator does not know {hint!r}")


def _optional(args: tuple[Any, ...]) -> dict[str, Any]:
    """`X | None`: the field is omitted (omit_none) or null; null joins the type list."""
    [inner] = [a for a in args if a is not type(None)]
    schema = _type(inner)
    if "type" in schema and isinstance(schema["type"], str) and set(schema) <= {"type"}:
        return {"type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


if __name__ == "__main__":
    print(run_report_schema_text(), end="")
