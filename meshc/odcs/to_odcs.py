"""meshc contract -> ODCS v3 document.

Works on the contract's validated data (`Contract.raw`). Everything that maps goes to its ODCS
place; what ODCS has no place for is kept, in meshc's own shape, under
`customProperties: [{property: meshc, value: {...}}]` at the level it came from (document,
property, quality check) and reported, so `from_odcs` gives the same contract back.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from meshc.odcs import queries
from meshc.odcs.mapping import (
    API_VERSION,
    FIELD_FLAGS,
    STATUS,
    TO_ODCS_SEVERITY,
    TO_ODCS_UNIT,
    VENDOR_KEY,
    NotMapped,
    jpath_text,
    odcs_logical_type,
)
from meshc.types import Kind, parse_type

_KEPT = "kept in customProperties.meshc"
_SHORTHAND = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z_][A-Za-z0-9_\-]*)+$")
_AGE = re.compile(r"^([0-9]+)\s*(s|m|h|d)$")
_INFO_KEPT = {
    "system": "ODCS has no source-system field",
    "layer": "ODCS has no medallion layer",
}
_SECTIONS_KEPT = {
    "source": "meshc's landing files; ODCS servers say where the dataset is served",
    "output": "a meshc run setting: where valid rows are written",
    "quarantine": "a meshc run setting: where failing rows go",
    "lineage": "a meshc run setting: lineage columns and events",
    "transform": "a meshc gold transform over other contracts",
}


def to_odcs(raw: dict[str, Any]) -> tuple[dict[str, Any], list[NotMapped]]:
    """The ODCS document for a schema-valid meshc contract, and what it could only keep aside."""
    notes: list[NotMapped] = []
    kept: dict[str, Any] = {}
    info = raw["info"]
    name, domain = info["name"], info["domain"]
    doc: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "DataContract",
        "id": f"{domain}.{name}",
        "name": name,
        "version": str(info["version"]),
        "status": STATUS,
        "domain": domain,
    }
    if not isinstance(info["version"], str):  # `version: 1`: ODCS versions are strings
        kept.setdefault("info", {})["version"] = info["version"]
    if "description" in info:
        doc["description"] = {"purpose": info["description"]}
    if "tags" in info:
        doc["tags"] = list(info["tags"])
    for key, why in _INFO_KEPT.items():
        if key in info:
            _keep(kept, notes, ("info", key), info[key], why)
    sla: list[dict[str, Any]] = []
    doc["schema"] = [_schema_object(raw, kept, sla, notes)]
    if sla:
        doc["slaProperties"] = sla
    if "owner" in info:
        doc["team"] = {"members": [{"username": info["owner"], "role": "owner"}]}
    _keep_runtime(raw, kept, notes)
    if kept:
        doc["customProperties"] = [{"property": VENDOR_KEY, "value": kept}]
    return doc, notes


def _keep(
    kept: dict[str, Any], notes: list[NotMapped], jpath: tuple[Any, ...], value: Any, why: str
) -> None:
    """Put `value` at `jpath` inside `kept` (meshc's own shape) and report it."""
    target = kept
    for key in jpath[:-1]:
        target = target.setdefault(key, {})
    target[jpath[-1]] = value
    notes.append(NotMapped(jpath_text(jpath), f"{why}; {_KEPT}"))


def _keep_runtime(raw: dict[str, Any], kept: dict[str, Any], notes: list[NotMapped]) -> None:
    for key, why in _SECTIONS_KEPT.items():
        if key in raw:
            _keep(kept, notes, (key,), raw[key], why)
    if "extra_columns" in raw["model"]:
        why = "how a meshc run treats undeclared columns; ODCS has no such setting"
        _keep(kept, notes, ("model", "extra_columns"), raw["model"]["extra_columns"], why)
    quality = raw.get("quality", {})
    if "max_quarantine_ratio" in quality:
        why = "a meshc run threshold on quarantined rows; ODCS has no such check"
        _keep(
            kept, notes, ("quality", "max_quarantine_ratio"), quality["max_quarantine_ratio"], why
        )


def _schema_object(
    raw: dict[str, Any], kept: dict[str, Any], sla: list[dict[str, Any]], notes: list[NotMapped]
) -> dict[str, Any]:
    name = raw["info"]["name"]
    quality = raw.get("quality", {})
    checks = [_row_rule(name, rule) for rule in quality.get("row_rules", [])]
    order: list[int] = []  # dataset rules in the order an import reads them back
    by_column: dict[str, list[dict[str, Any]]] = {}
    freshness: list[int] = []
    for i, rule in enumerate(quality.get("dataset_rules", [])):
        if rule["type"] == "null_ratio":
            by_column.setdefault(rule["column"], []).append({"index": i, "rule": rule})
        elif rule["type"] == "freshness":
            freshness.append(i)
        else:
            checks.append(_dataset_rule(name, rule))
            order.append(i)
    fields = raw["model"]["fields"]
    keys = sum(1 for f in fields if f.get("primary_key"))
    properties = []
    for i, f in enumerate(fields):
        column_checks = by_column.get(f["name"], [])
        order.extend(c["index"] for c in column_checks)
        properties.append(
            _property(f, i, keys, [_null_ratio(c["rule"]) for c in column_checks], notes)
        )
    for i in freshness:
        sla.append(_freshness(name, quality["dataset_rules"][i], i, notes))
        order.append(i)
    if order != sorted(order):  # ODCS groups checks by place; keep meshc's order of rules
        kept["datasetRuleOrder"] = order
    obj: dict[str, Any] = {"name": name, "physicalType": "table", "properties": properties}
    if checks:
        obj["quality"] = checks
    return obj


def _property(
    f: dict[str, Any], i: int, keys: int, checks: list[dict[str, Any]], notes: list[NotMapped]
) -> dict[str, Any]:
    jpath = ("model", "fields", i)
    logical = parse_type(f["type"])
    prop: dict[str, Any] = {
        "name": f["name"],
        "logicalType": odcs_logical_type(logical),
        "physicalType": f["type"],
    }
    options: dict[str, Any] = {}
    if logical.kind in (Kind.TIMESTAMP, Kind.TIMESTAMP_TZ):
        options["timezone"] = logical.kind is Kind.TIMESTAMP_TZ
    kept: dict[str, Any] = {}

    def keep(key: str, why: str) -> None:
        kept[key] = f[key]
        notes.append(NotMapped(jpath_text((*jpath, key)), f"{why}; {_KEPT}"))

    for key, odcs_key in FIELD_FLAGS.items():
        if key in f:
            prop[odcs_key] = f[key]
    if "primary_key" in f:
        if keys <= 1:
            prop["primaryKey"] = f["primary_key"]
        else:
            keep("primary_key", "several meshc primary keys are each unique; ODCS reads them "
                 "as one composite key")  # fmt: skip
    if "pii" in f:
        if f["pii"] is True:
            prop["classification"] = "pii"
        else:
            keep("pii", "ODCS classification has no 'not personal data' value")
    if "masking" in f:
        keep("masking", "ODCS has no masking")
    values = f.get("accepted_values")
    if values is not None:
        if len({repr(v) for v in values}) == len(values):
            prop["enum"] = [{"value": v} for v in values]
        else:
            keep("accepted_values", "ODCS enum values must be unique")
    for key, why in _options(f, logical.kind, options).items():
        keep(key, why)
    if options:
        prop["logicalTypeOptions"] = options
    if "references" in f:
        if _SHORTHAND.match(f["references"]):
            prop["relationships"] = [{"type": "foreignKey", "to": f["references"]}]
        else:
            keep("references", "not an ODCS property reference")
    if checks:
        prop["quality"] = checks
    if kept:
        prop["customProperties"] = [{"property": VENDOR_KEY, "value": kept}]
    return prop


def _options(f: dict[str, Any], kind: Kind, options: dict[str, Any]) -> dict[str, str]:
    """Fill logicalTypeOptions with the bounds ODCS can hold for this type; return the others
    with why they stay meshc's."""
    numeric = kind in (Kind.INTEGER, Kind.FLOAT, Kind.DECIMAL)
    temporal = kind in (Kind.DATE, Kind.TIMESTAMP, Kind.TIMESTAMP_TZ)
    left: dict[str, str] = {}
    for key, odcs_key in (("min", "minimum"), ("max", "maximum")):
        if key not in f:
            continue
        value = f[key]
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if (numeric and is_number) or (temporal and isinstance(value, str)):
            options[odcs_key] = value
        else:
            left[key] = f"ODCS has no {odcs_key} for a {kind.value} given as {type(value).__name__}"
    for key, odcs_key in (("pattern", "pattern"), ("max_length", "maxLength")):
        if key in f:
            if kind is Kind.STRING:
                options[odcs_key] = f[key]
            else:
                left[key] = f"ODCS has {odcs_key} only for strings"
    return left


def _common(rule: dict[str, Any]) -> dict[str, Any]:
    """The keys every meshc rule and ODCS check share."""
    return {k: rule[k] for k in ("name", "description") if k in rule}


def _finish(check: dict[str, Any], rule: dict[str, Any], kept: dict[str, Any]) -> dict[str, Any]:
    if "severity" in rule:
        check["severity"] = TO_ODCS_SEVERITY[rule["severity"]]
    if kept:
        check["customProperties"] = [{"property": VENDOR_KEY, "value": kept}]
    return check


def _sql_kept(sql: str) -> dict[str, Any]:
    """The rule's own text when sqlglot writes it differently (spacing, case), so an import gives
    back the very same rule."""
    return {} if queries.rendered(sql) == sql else {"sql": sql}


def _row_rule(table: str, rule: dict[str, Any]) -> dict[str, Any]:
    check = {"type": "sql", **_common(rule), "query": queries.row_rule_query(table, rule["sql"])}
    check["mustBe"] = 0
    return _finish(check, rule, _sql_kept(rule["sql"]))


def _dataset_rule(table: str, rule: dict[str, Any]) -> dict[str, Any]:
    kind = rule["type"]
    if kind == "sql":
        check = {
            "type": "sql",
            **_common(rule),
            "query": queries.dataset_rule_query(table, rule["sql"]),
        }
        check["mustBe"] = True
        return _finish(check, rule, _sql_kept(rule["sql"]))
    check = {"type": "library", **_common(rule)}
    if kind == "unique":
        check["metric"] = "duplicateValues"
        check["arguments"] = {"properties": list(rule["columns"])}
        check["mustBe"] = 0
    else:  # row_count
        check["metric"] = "rowCount"
        low, high = rule.get("min"), rule.get("max")
        if low is not None and high is not None:
            check.update({"mustBe": low} if low == high else {"mustBeBetween": [low, high]})
        elif high is not None:
            check["mustBeLessOrEqualTo"] = high
        else:
            check["mustBeGreaterOrEqualTo"] = low or 0
    return _finish(check, rule, {})


def _null_ratio(rule: dict[str, Any]) -> dict[str, Any]:
    percent = Decimal(str(rule["max"])) * 100
    value = int(percent) if percent == percent.to_integral_value() else float(percent)
    check = {"type": "library", **_common(rule), "metric": "nullValues", "unit": "percent"}
    check["mustBeLessOrEqualTo"] = value
    return _finish(check, rule, {})


def _freshness(table: str, rule: dict[str, Any], i: int, notes: list[NotMapped]) -> dict[str, Any]:
    match = _AGE.match(rule["max_age"])
    assert match is not None  # the contract schema's pattern
    amount, unit = int(match.group(1)), match.group(2)
    sla: dict[str, Any] = {
        "property": "latency",
        "value": amount,
        "unit": TO_ODCS_UNIT[unit],
        "element": f"{table}.{rule['column']}",
    }
    if "description" in rule:
        sla["description"] = rule["description"]
    kept: dict[str, Any] = {k: rule[k] for k in ("name", "severity") if k in rule}
    for key in kept:
        why = f"an ODCS SLA has no {key}; {_KEPT}"
        notes.append(NotMapped(jpath_text(("quality", "dataset_rules", i, key)), why))
    if f"{amount}{unit}" != rule["max_age"]:
        kept["max_age"] = rule["max_age"]
    if kept:
        sla["customProperties"] = [{"property": VENDOR_KEY, "value": kept}]
    return sla
