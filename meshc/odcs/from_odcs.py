"""ODCS v3 document -> meshc contract data (validated afterwards by `settle`).

One ODCS schema object becomes one meshc contract. What a meshc export kept in
`customProperties.meshc` is put back as it was; everything else that has no meshc place is
reported as `not mapped`. Problems that leave no contract (no object, no domain) are located
MC009 errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from meshc.errors import ContractError
from meshc.located_yaml import Locator
from meshc.odcs.from_quality import (
    Imported,
    Scope,
    import_checks,
    import_sla,
    other_custom,
    vendor_value,
)
from meshc.odcs.mapping import LOGICAL_TYPE, MESHC_TYPE, STATUS, NotMapped, jpath_text
from meshc.types import Kind, UnknownType, parse_type

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_VERSION = re.compile(r"^v?([0-9]+(\.[0-9]+){0,2})$")
_REFERENCE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")
_TOP_KEYS = {"apiVersion", "kind", "id", "name", "version", "status", "domain", "description",
             "tags", "schema", "slaProperties", "team", "customProperties"}  # fmt: skip
_OBJECT_KEYS = {"name", "physicalType", "logicalType", "description", "properties", "quality",
                "customProperties"}  # fmt: skip
_PROPERTY_KEYS = {"name", "logicalType", "physicalType", "logicalTypeOptions", "required",
                  "unique", "primaryKey", "primaryKeyPosition", "description", "classification",
                  "enum", "relationships", "quality", "customProperties"}  # fmt: skip
_OPTION_KEYS = {"minimum": "min", "maximum": "max", "pattern": "pattern", "maxLength": "max_length"}


@dataclass
class ImportedContract:
    """The meshc contract data, the ODCS path each rule and field came from, and the notes."""

    data: dict[str, Any]
    notes: list[NotMapped] = field(default_factory=list)
    origins: dict[int, str] = field(default_factory=dict)  # id(rule or field dict) -> ODCS path


def from_odcs(
    doc: dict[str, Any],
    locator: Locator,
    *,
    object_name: str | None = None,
    domain: str | None = None,
) -> ImportedContract:
    """The meshc contract for one schema object of an ODCS v3 document (schema-valid)."""
    result = ImportedContract(data={})
    notes = result.notes
    index, obj = _pick_object(doc, locator, object_name, notes)
    kept = vendor_value(doc)
    info = _info(doc, obj, locator, domain, notes)
    jpath = ("schema", index)
    fields, pk_rule = _fields(obj, jpath, result)
    if not fields:
        raise ContractError(
            [locator.diagnostic("MC009", "no property of this object maps to a meshc field",
                                (*jpath, "properties"), hint="meshc types string, integer, "
                                "number, boolean, date and timestamp properties")]
        )  # fmt: skip
    tables = {obj["name"], info["name"]}
    scope = Scope(tables)
    rules = import_checks(obj.get("quality") or [], (*jpath, "quality"), scope, notes)
    unread = {f["name"] for f in fields}  # a property's checks, once per imported column
    for i, prop in enumerate(obj.get("properties") or []):
        if prop.get("name") in unread:
            unread.discard(prop["name"])
            where = (*jpath, "properties", i, "quality")
            rules += import_checks(
                prop.get("quality") or [], where, Scope(tables, prop["name"]), notes
            )
    kinds = {f["name"]: _temporal(f["type"]) for f in fields}
    rules += import_sla(doc.get("slaProperties") or [], tables, kinds, notes)
    data: dict[str, Any] = {"info": info, "model": {"fields": fields}}
    quality = _quality(rules, pk_rule, kept.pop("datasetRuleOrder", None), result)
    if quality:
        data["quality"] = quality
    _merge(data, kept)
    _report_rest(doc, obj, jpath, f"{info['domain']}.{info['name']}", notes)
    result.data = data
    return result


def _pick_object(
    doc: dict[str, Any], locator: Locator, wanted: str | None, notes: list[NotMapped]
) -> tuple[int, dict[str, Any]]:
    objects = doc.get("schema") or []
    names = [str(o.get("name")) for o in objects]
    if not objects:
        raise ContractError(
            [locator.diagnostic("MC009", "the ODCS contract has no schema objects to import",
                                ("schema",), hint="add a `schema:` list with one object")]
        )  # fmt: skip
    if wanted is None and len(objects) > 1:
        raise ContractError(
            [locator.diagnostic("MC009", f"the ODCS contract has {len(objects)} schema objects; "
                                "a meshc contract is one dataset", ("schema",),
                                hint=f"pick one with --object ({', '.join(names)})")]
        )  # fmt: skip
    index = 0 if wanted is None else (names.index(wanted) if wanted in names else -1)
    if index < 0:
        raise ContractError(
            [locator.diagnostic("MC009", f"no schema object named '{wanted}'", ("schema",),
                                hint=f"objects: {', '.join(names)}")]
        )  # fmt: skip
    for i, name in enumerate(names):
        if i != index:
            why = "a meshc contract is one dataset; import it with --object " + name
            notes.append(NotMapped(jpath_text(("schema", i)), why))
    return index, objects[index]


def _info(
    doc: dict[str, Any],
    obj: dict[str, Any],
    locator: Locator,
    domain: str | None,
    notes: list[NotMapped],
) -> dict[str, Any]:
    name = next((n for n in (doc.get("name"), obj.get("name")) if _is_identifier(n)), None)
    if name is None:
        name = _identifier(str(doc.get("name") or obj.get("name")))
        notes.append(NotMapped("name", f"no identifier; the meshc contract is named {name}"))
    if not domain and doc.get("domain"):
        domain = _identifier(str(doc["domain"]))
        if domain != doc["domain"]:
            why = f"'{doc['domain']}' is no identifier; the domain is {domain}"
            notes.append(NotMapped("domain", why))
    if not domain:
        raise ContractError(
            [locator.diagnostic("MC009", "the ODCS contract has no domain; meshc needs one",
                                (), hint="pass --domain NAME")]
        )  # fmt: skip
    version = str(doc.get("version", ""))
    match = _VERSION.match(version)
    if match is None:
        notes.append(
            NotMapped("version", f"'{version}' is no MAJOR.MINOR.PATCH; imported as 0.1.0")
        )
    info: dict[str, Any] = {"version": match.group(1) if match else "0.1.0", "name": name}
    info["domain"] = domain
    owner = _owner(doc.get("team"), notes)
    if owner:
        info["owner"] = owner
    description = (doc.get("description") or {}).get("purpose") or obj.get("description")
    if isinstance(description, str):
        info["description"] = description
    if doc.get("tags"):
        info["tags"] = list(dict.fromkeys(str(t) for t in doc["tags"]))
    return info


def _owner(team: Any, notes: list[NotMapped]) -> str | None:
    members = team.get("members") if isinstance(team, dict) else team
    members = [m for m in members or [] if isinstance(m, dict)]
    owners = [m for m in members if str(m.get("role", "")).lower() == "owner"] or members[:1]
    for i, member in enumerate(members):
        if member not in owners[:1]:
            why = "a meshc contract names one owner"
            notes.append(NotMapped(jpath_text(("team", "members", i)), why))
    if isinstance(team, dict):
        for key in sorted(set(team) - {"members"}):
            notes.append(NotMapped(f"team.{key}", "a meshc owner is one contact address"))
    return str(owners[0]["username"]) if owners and owners[0].get("username") else None


def _fields(
    obj: dict[str, Any], jpath: tuple[Any, ...], result: ImportedContract
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    props = obj.get("properties") or []
    keys = [p for p in props if p.get("primaryKey") is True]
    composite = len(keys) > 1
    fields: list[dict[str, Any]] = []
    for i, prop in enumerate(props):
        here = (*jpath, "properties", i)
        if any(f["name"] == prop.get("name") for f in fields):
            why = f"a second property named '{prop.get('name')}'; the first one is imported"
            result.notes.append(NotMapped(jpath_text(here), why))
            continue
        f = _field(prop, here, result.notes, composite)
        if f is not None:
            result.origins[id(f)] = jpath_text(here)
            fields.append(f)
    if not composite:
        return fields, None
    ordered = sorted(keys, key=lambda p: p.get("primaryKeyPosition", -1))
    columns = [str(p["name"]) for p in ordered if any(f["name"] == p["name"] for f in fields)]
    return fields, {"type": "unique", "name": "primary_key", "columns": columns}


def _field(
    prop: dict[str, Any], jpath: tuple[Any, ...], notes: list[NotMapped], composite: bool
) -> dict[str, Any] | None:
    name = prop.get("name")
    if not _is_identifier(name):
        notes.append(NotMapped(jpath_text(jpath), f"'{name}' is no column name meshc accepts"))
        return None
    meshc_type = _type(prop, jpath, notes)
    if meshc_type is None:
        return None
    f: dict[str, Any] = {"name": name, "type": meshc_type}
    for key in ("required", "unique", "description"):
        if key in prop:
            f[key] = prop[key]
    if prop.get("primaryKey") is True:
        f.update({"required": True} if composite else {"primary_key": True})
    classification = prop.get("classification")
    if isinstance(classification, str) and classification.lower() == "pii":
        f["pii"] = True
    elif classification is not None:
        why = f"meshc marks personal data with pii only; '{classification}' is no PII class"
        notes.append(NotMapped(jpath_text((*jpath, "classification")), why))
    _enum(prop, f, jpath, notes)
    _options(prop, f, jpath, notes)
    _relationships(prop, f, jpath, notes)
    f.update(vendor_value(prop))
    other_custom(prop, jpath, notes)
    for key in sorted(set(prop) - _PROPERTY_KEYS):
        notes.append(NotMapped(jpath_text((*jpath, key)), f"meshc fields have no {key}"))
    return f


def _type(prop: dict[str, Any], jpath: tuple[Any, ...], notes: list[NotMapped]) -> str | None:
    """The meshc type: physicalType when it is one and agrees with logicalType (and its
    timezone option), else the type logicalType means."""
    logical = prop.get("logicalType")
    options = prop.get("logicalTypeOptions") or {}
    zone = options.get("timezone") if isinstance(options, dict) else None
    physical = prop.get("physicalType")
    why = f"'{physical}' is no meshc type"
    if isinstance(physical, str):
        text = " ".join(physical.strip().lower().split())
        try:
            parsed = parse_type(text)
        except UnknownType:
            parsed = None
        if parsed is not None:
            agrees = logical is None or LOGICAL_TYPE[parsed.kind] == logical
            if agrees and (zone is None or zone == (parsed.kind is Kind.TIMESTAMP_TZ)):
                return text
            why = f"'{physical}' disagrees with logicalType {logical} (timezone: {zone})"
    if logical not in MESHC_TYPE:
        why = f"logicalType '{logical}' has no meshc type; the column is left out"
        notes.append(NotMapped(jpath_text((*jpath, "logicalType")), why))
        return None
    meshc_type = MESHC_TYPE[logical]
    if logical == "timestamp" and zone:
        meshc_type = "timestamp with time zone"
    if physical is not None:
        why += f"; typed {meshc_type} from logicalType {logical}"
        notes.append(NotMapped(jpath_text((*jpath, "physicalType")), why))
    return meshc_type


def _enum(
    prop: dict[str, Any], f: dict[str, Any], jpath: tuple[Any, ...], notes: list[NotMapped]
) -> None:
    values = prop.get("enum")
    if not values:
        return
    f["accepted_values"] = [v["value"] for v in values if v.get("value") is not None]
    for i, value in enumerate(values):
        for key in sorted(set(value) - {"value"}):
            why = "meshc accepted_values are plain values"
            notes.append(NotMapped(jpath_text((*jpath, "enum", i, key)), why))
    if not f["accepted_values"]:
        del f["accepted_values"]


def _options(
    prop: dict[str, Any], f: dict[str, Any], jpath: tuple[Any, ...], notes: list[NotMapped]
) -> None:
    options = prop.get("logicalTypeOptions") or {}
    for key, value in options.items():
        if key in _OPTION_KEYS:
            f[_OPTION_KEYS[key]] = value
        elif key != "timezone":
            why = f"meshc fields have no {key}"
            notes.append(NotMapped(jpath_text((*jpath, "logicalTypeOptions", key)), why))


def _relationships(
    prop: dict[str, Any], f: dict[str, Any], jpath: tuple[Any, ...], notes: list[NotMapped]
) -> None:
    for i, rel in enumerate(prop.get("relationships") or []):
        target = rel.get("to")
        where = jpath_text((*jpath, "relationships", i))
        if "references" in f:
            notes.append(NotMapped(where, "a meshc field references one field"))
        elif isinstance(target, str) and _REFERENCE.match(target):
            f["references"] = target
        else:
            why = f"'{target}' is no domain.contract.field; add `references:` by hand"
            notes.append(NotMapped(where, why))


def _quality(
    rules: list[Imported], pk_rule: dict[str, Any] | None, order: Any, result: ImportedContract
) -> dict[str, Any]:
    rows = [r for r in rules if r.kind == "row"]
    datasets = [r for r in rules if r.kind == "dataset"]
    if isinstance(order, list) and sorted(order) == list(range(len(datasets))):
        placed: list[Any] = [None] * len(datasets)
        for position, rule in zip(order, datasets, strict=True):
            placed[position] = rule
        datasets = placed
    quality: dict[str, Any] = {}
    if rows:
        quality["row_rules"] = [r.rule for r in rows]
    dataset_rules = ([pk_rule] if pk_rule else []) + [r.rule for r in datasets]
    if dataset_rules:
        quality["dataset_rules"] = dataset_rules
    for r in rules:
        result.origins[id(r.rule)] = r.origin
    return quality


def _merge(data: dict[str, Any], kept: dict[str, Any]) -> None:
    """Put back what a meshc export kept aside, in meshc's own shape."""
    for key, value in kept.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            _merge(data[key], value)
        else:
            data[key] = value


def _report_rest(
    doc: dict[str, Any],
    obj: dict[str, Any],
    jpath: tuple[Any, ...],
    ref: str,
    notes: list[NotMapped],
) -> None:
    if doc.get("id") not in (None, ref):
        notes.append(NotMapped("id", "a meshc contract is identified by domain.name"))
    if doc.get("status") not in (None, STATUS):
        why = f"meshc enforces every contract it runs: no '{doc['status']}' status"
        notes.append(NotMapped("status", why))
    for key in sorted(set(doc.get("description") or {}) - {"purpose"}):
        notes.append(NotMapped(f"description.{key}", "a meshc description is one text"))
    if isinstance((doc.get("description") or {}).get("purpose"), str) and obj.get("description"):
        notes.append(NotMapped(jpath_text((*jpath, "description")), "the contract's purpose is "
                               "the meshc description"))  # fmt: skip
    if obj.get("physicalType") not in (None, "table"):
        why = f"meshc validates tables of rows, not a {obj['physicalType']}"
        notes.append(NotMapped(jpath_text((*jpath, "physicalType")), why))
    other_custom(doc, (), notes)
    other_custom(obj, jpath, notes)
    for key in sorted(set(doc) - _TOP_KEYS):
        notes.append(NotMapped(key, f"meshc contracts have no {key}"))
    for key in sorted(set(obj) - _OBJECT_KEYS):
        notes.append(NotMapped(jpath_text((*jpath, key)), f"meshc contracts have no {key}"))


def _is_identifier(value: Any) -> bool:
    return isinstance(value, str) and bool(_IDENTIFIER.match(value))


def _identifier(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_").lower() or "imported"
    return slug if _IDENTIFIER.match(slug) else f"d_{slug}"


def _temporal(meshc_type: str) -> str:
    kind = parse_type(meshc_type).kind
    return (
        "date"
        if kind is Kind.DATE
        else "timestamp"
        if kind in (Kind.TIMESTAMP, Kind.TIMESTAMP_TZ)
        else ""
    )
