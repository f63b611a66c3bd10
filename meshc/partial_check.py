"""What `meshc check` can still know when the contract as a whole cannot be built.

The model builder needs a schema-valid document and the rule compiler needs a built contract. So
that one run reports every problem (fixing one must never reveal another that could have been
reported already), these functions check the parts that are well-formed on their own:
- `field_problems`: pattern and min/max of each field that is schema-valid by itself;
- `rule_problems`: every row rule and dataset SQL rule against the declared columns.
A column whose type is unusable (missing or unknown) still counts as declared; a rule that reads
one reports only problems that hold whatever its type (syntax, whitelist, unknown columns, depth).
Warnings (e.g. MC310, an undeclared column read as a string) wait for the full compile.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from meshc.diagnostics import Diagnostic
from meshc.located_yaml import JsonPath, Locator
from meshc.types import STRING, LogicalType, UnknownType, parse_type

# Rule problems that do not depend on the types of the columns a rule reads.
TYPE_INDEPENDENT = {
    "MC301",
    "MC302",
    "MC303",
    "MC304",
    "MC305",
    "MC309",
    "MC312",
    "MC313",
    "MC315",
    "MC316",
    "MC317",
}


def field_problems(data: dict[str, Any], loc: Locator) -> list[Diagnostic]:
    from meshc.loader import _field

    out: list[Diagnostic] = []
    for i, raw in enumerate(_fields(data)):
        if _validator("field").is_valid(raw):
            out.extend(_field(raw, ("model", "fields", i), loc)[1])
    return out


def rule_problems(data: dict[str, Any], loc: Locator) -> list[Diagnostic]:
    from meshc.rules.sql import RuleProblem

    columns, untyped = _columns(data)
    out = []
    for jpath, sql, aggregate in _rules(data):
        guessed = set(untyped)
        try:
            _compile(sql, dict(columns), guessed, aggregate)
        except RuleProblem as exc:
            if exc.code in TYPE_INDEPENDENT or not (_reads(sql) & guessed):
                out.append(loc.diagnostic(exc.code, exc.message, jpath, hint=exc.hint))
    return out


def _compile(sql: str, columns: dict[str, LogicalType], guessed: set[str], aggregate: bool) -> None:
    """Compile like the rule compiler: an undeclared column that is no typo is read as a string."""
    from meshc.rules.compiler import _looks_like_typo
    from meshc.rules.sql import RuleProblem, compile_sql

    while True:
        try:
            compile_sql(sql, columns, aggregate=aggregate)
            return
        except RuleProblem as exc:
            if exc.column is None or _looks_like_typo(exc.column, columns):
                raise
            columns[exc.column] = STRING
            guessed.add(exc.column)


def _columns(data: dict[str, Any]) -> tuple[dict[str, LogicalType], set[str]]:
    columns: dict[str, LogicalType] = {}
    untyped: set[str] = set()
    for raw in _fields(data):
        name = raw.get("name")
        if not isinstance(name, str) or name in columns:
            continue
        try:
            columns[name] = parse_type(str(raw.get("type")))
        except UnknownType:
            columns[name] = STRING  # declared, so never "unknown column"; its type is a guess
            untyped.add(name)
    return columns, untyped


def _fields(data: dict[str, Any]) -> list[dict[str, Any]]:
    model = data.get("model")
    fields = model.get("fields") if isinstance(model, dict) else None
    return [f for f in fields if isinstance(f, dict)] if isinstance(fields, list) else []


def _rules(data: dict[str, Any]) -> Iterator[tuple[JsonPath, str, bool]]:
    quality = data.get("quality")
    if not isinstance(quality, dict):
        return
    for key, aggregate in (("row_rules", False), ("dataset_rules", True)):
        rules = quality.get(key)
        for i, rule in enumerate(rules if isinstance(rules, list) else []):
            if not (isinstance(rule, dict) and isinstance(rule.get("sql"), str)):
                continue
            if aggregate and rule.get("type") != "sql":
                continue
            yield ("quality", key, i, "sql"), rule["sql"], aggregate


def _reads(sql: str) -> set[str]:
    """Column names a rule mentions (it parsed, or it would not have reached a type error)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except Exception:  # unparsable: it reads nothing we can name
        return set()
    return {c.name for c in tree.find_all(exp.Column)}


@lru_cache(maxsize=4)
def _validator(name: str) -> Any:
    """A validator for one `$defs` entry of the contract schema (e.g. a single field)."""
    from jsonschema import Draft202012Validator

    from meshc.schema_validation import load_schema

    schema = load_schema("contract")
    return Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": schema["$defs"]})
