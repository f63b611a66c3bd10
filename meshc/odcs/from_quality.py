"""ODCS quality checks and SLA properties -> meshc row and dataset rules.

Each check either becomes one meshc rule or one `not mapped` note saying why: prose (`text`),
vendor checks (`custom`), metrics meshc has no rule for, and queries that are no one-table
condition meshc can read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from meshc.odcs import queries
from meshc.odcs.mapping import (
    FRESHNESS_SLA,
    FROM_ODCS_SEVERITY,
    FROM_ODCS_UNIT,
    VENDOR_KEY,
    NotMapped,
    jpath_text,
)

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CHECK_KEYS = {"type", "name", "description", "severity", "query", "metric", "rule", "arguments",
               "unit", "customProperties", *queries.OPERATORS}  # fmt: skip
_WEEK = ("w", "week", "weeks")


@dataclass
class Imported:
    """One meshc rule and the ODCS path it came from."""

    kind: str  # "row" or "dataset"
    rule: dict[str, Any]
    origin: str


@dataclass
class Scope:
    """Where checks are read: the object's table names and, for a property's checks, its column."""

    tables: set[str]
    column: str | None = None


_RULE_ORDER = ("type", "name", "sql", "columns", "column", "min", "max", "max_age", "description",
               "severity")  # fmt: skip


def ordered(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule's keys in the order people write them (`name` and `sql` first)."""
    rank = {key: i for i, key in enumerate(_RULE_ORDER)}
    return dict(sorted(rule.items(), key=lambda item: rank.get(item[0], len(rank))))


def vendor_value(node: dict[str, Any]) -> dict[str, Any]:
    """What a meshc export kept aside at this level (`customProperties` entry `meshc`)."""
    for item in node.get("customProperties") or ():
        if isinstance(item, dict) and item.get("property") == VENDOR_KEY:
            value = item.get("value")
            return dict(value) if isinstance(value, dict) else {}
    return {}


def other_custom(node: dict[str, Any], jpath: tuple[Any, ...], notes: list[NotMapped]) -> None:
    for i, item in enumerate(node.get("customProperties") or ()):
        if isinstance(item, dict) and item.get("property") != VENDOR_KEY:
            why = "custom property of another tool; meshc contracts have no custom properties"
            notes.append(NotMapped(jpath_text((*jpath, "customProperties", i)), why))


def import_checks(
    checks: list[dict[str, Any]], jpath: tuple[Any, ...], scope: Scope, notes: list[NotMapped]
) -> list[Imported]:
    out = []
    for i, check in enumerate(checks):
        here = (*jpath, i)
        found = _check(check, scope)
        if isinstance(found, str):
            notes.append(NotMapped(jpath_text(here), found))
            continue
        kind, body = found
        body = _common(check, here, notes) | body | vendor_value(check)
        out.append(Imported(kind, ordered(body), jpath_text(here)))
        other_custom(check, here, notes)
        for key in sorted(set(check) - _CHECK_KEYS):
            notes.append(NotMapped(jpath_text((*here, key)), f"meshc rules have no {key}"))
    return out


def _check(check: dict[str, Any], scope: Scope) -> tuple[str, dict[str, Any]] | str:
    """(rule kind, rule) or why the check does not map."""
    kind = check.get("type", "library")
    if kind == "text":
        return "a text check is prose for people; meshc rules are executable"
    if kind == "custom":
        return f"a vendor-specific check ({check.get('engine', 'custom')}); not meshc SQL"
    operator = queries.operator_of(check)
    if operator is None:
        return "the check has no mustBe... operator"
    if kind == "sql":
        try:
            found = queries.rule_from_query(
                str(check.get("query")), scope.tables, operator, scope.column
            )
        except queries.UnreadableQuery as exc:
            return f"the query is no condition meshc can read: {exc}"
        if found.kind == "dataset":
            return "dataset", {"type": "sql", "sql": found.sql}
        return "row", {"sql": found.sql}
    metric = check.get("metric") or check.get("rule")
    reader = _LIBRARY.get(str(metric))
    if reader is None:
        return f"meshc has no rule for the ODCS metric '{metric}'"
    rule, why = reader(check, operator, scope)
    return ("dataset", rule) if rule is not None else why


def _duplicates(
    check: dict[str, Any], operator: tuple[str, Any], scope: Scope
) -> tuple[dict[str, Any] | None, str]:
    if operator not in (("mustBe", 0), ("mustBeLessOrEqualTo", 0)):
        return None, "meshc's unique rule allows no duplicates; this check allows some"
    columns = [scope.column] if scope.column else (check.get("arguments") or {}).get("properties")
    if not columns or not all(isinstance(c, str) for c in columns):
        return None, "an object-level duplicateValues check needs arguments.properties"
    return {"type": "unique", "columns": list(columns)}, ""


def _row_count(
    check: dict[str, Any], operator: tuple[str, Any], scope: Scope
) -> tuple[dict[str, Any] | None, str]:
    key, value = operator
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return None, "a row count is compared with numbers"
    low_high = {
        "mustBe": (value, value),
        "mustBeGreaterOrEqualTo": (value, None),
        "mustBeGreaterThan": (int(value) + 1, None),
        "mustBeLessOrEqualTo": (None, value),
        "mustBeLessThan": (None, int(value) - (1 if value == int(value) else 0)),
        "mustBeBetween": tuple(values),
    }.get(key)
    if low_high is None:
        return None, f"meshc row_count has no {key}"
    rule: dict[str, Any] = {"type": "row_count"}
    for name, bound in zip(("min", "max"), low_high, strict=True):
        if bound is not None:
            rule[name] = int(bound)
    return rule, ""


def _null_values(
    check: dict[str, Any], operator: tuple[str, Any], scope: Scope
) -> tuple[dict[str, Any] | None, str]:
    if scope.column is None:
        return None, "a nullValues check belongs to a property"
    key, value = operator
    if key == "mustBe" and value == 0:
        share = 0.0
    elif key == "mustBeLessOrEqualTo" and check.get("unit") == "percent":
        share = float(Decimal(str(value)) / 100)
    else:
        return None, "meshc null_ratio is 'at most this share of rows' (unit: percent, <=)"
    return {"type": "null_ratio", "column": scope.column, "max": share}, ""


_LIBRARY = {"duplicateValues": _duplicates, "rowCount": _row_count, "nullValues": _null_values}


def _common(
    check: dict[str, Any], jpath: tuple[Any, ...], notes: list[NotMapped]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    name = check.get("name")
    if isinstance(name, str):
        out["name"] = name if _IDENTIFIER.match(name) else _identifier(name)
    if isinstance(check.get("description"), str):
        out["description"] = check["description"]
    severity = check.get("severity")
    if severity is not None:
        mapped = FROM_ODCS_SEVERITY.get(str(severity).lower())
        if mapped is None:
            why = f"meshc severities are error and warn; '{severity}' read as warn"
            notes.append(NotMapped(jpath_text((*jpath, "severity")), why))
            mapped = "warn"
        out["severity"] = mapped
    return out


def _identifier(text: str) -> str:
    """A rule id from free text: `Row count check` -> `row_count_check`."""
    slug = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_").lower() or "rule"
    return slug if _IDENTIFIER.match(slug) else f"rule_{slug}"


def import_sla(
    sla: list[dict[str, Any]], tables: set[str], fields: dict[str, str], notes: list[NotMapped]
) -> list[Imported]:
    """Freshness SLAs (`latency` on an element) -> freshness rules; other SLAs are reported."""
    out = []
    for i, item in enumerate(sla):
        jpath = ("slaProperties", i)
        rule, why = _freshness(item, tables, fields)
        if rule is None:
            notes.append(NotMapped(jpath_text(jpath), why))
            continue
        if isinstance(item.get("description"), str):
            rule["description"] = item["description"]
        out.append(Imported("dataset", ordered(rule | vendor_value(item)), jpath_text(jpath)))
    return out


def _freshness(
    item: dict[str, Any], tables: set[str], fields: dict[str, str]
) -> tuple[dict[str, Any] | None, str]:
    prop = str(item.get("property"))
    if prop not in FRESHNESS_SLA:
        return None, f"meshc enforces data, not service levels: no rule for the SLA '{prop}'"
    element = str(item.get("element") or "")
    table, _, column = element.rpartition(".")
    if not column or (table and table.lower() not in {t.lower() for t in tables}):
        return None, f"the SLA element '{element}' is no column of this object"
    if fields.get(column) not in ("date", "timestamp"):
        return None, f"freshness needs a date or timestamp column; '{column}' is not one"
    value, unit = item.get("value"), str(item.get("unit", "d")).lower()
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return None, "a freshness SLA needs a whole number value"
    if unit in _WEEK:
        value, unit = value * 7, "d"
    if unit not in FROM_ODCS_UNIT:
        return None, f"the unit '{unit}' is no fixed duration meshc knows (s, min, h, d, w)"
    return {"type": "freshness", "column": column, "max_age": f"{value}{FROM_ODCS_UNIT[unit]}"}, ""
