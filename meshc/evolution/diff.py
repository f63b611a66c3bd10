"""Compare two versions of a contract: `diff(old, new) -> list[Change]`, a pure function.

Fields are matched by name; a removed and an added field of the same type with similar names are
reported as one rename. Row rules are matched by name, or by the hash of their normalised SQL when
unnamed (so an unnamed rule whose SQL changes is one removal plus one addition). Dataset rules are
matched by name, or by type and column.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Any

from meshc.contract import Contract, DatasetRule, Field, RowRule
from meshc.evolution.changes import Change, ContractDiff
from meshc.evolution.widening import relation

RENAME_SIMILARITY = 0.6  # difflib ratio of the lower-cased names


def diff(old: Contract, new: Contract) -> list[Change]:
    """Every change from `old` to `new`, in contract order (info, fields, rules, settings)."""
    return [
        *_info(old, new),
        *_fields(old, new),
        *_row_rules(old, new),
        *_dataset_rules(old, new),
        *_settings(old, new),
    ]


def diff_contracts(
    old: Contract | None, new: Contract | None, *, old_label: str | None = None
) -> ContractDiff:
    """A ContractDiff; either side may be None (a new or a deleted contract)."""
    changes = diff(old, new) if old is not None and new is not None else []
    return ContractDiff(old=old, new=new, changes=tuple(changes), old_label=old_label)


# -- info ------------------------------------------------------------------------------------------


def _info(old: Contract, new: Contract) -> Iterator[Change]:
    o, n = old.info, new.info
    if o.version != n.version:
        yield Change("version_changed", "version", o.version, n.version, ("info", "version"))
    if old.ref != new.ref:
        yield Change("contract_renamed", "contract", old.ref, new.ref, ("info", "name"))
    if o.owner != n.owner:
        yield Change("owner_changed", "owner", o.owner, n.owner, ("info", "owner"))
    for key in ("system", "layer", "description", "tags"):
        if getattr(o, key) != getattr(n, key):
            yield Change(
                "info_changed", f"info.{key}", getattr(o, key), getattr(n, key), ("info", key)
            )


# -- fields ----------------------------------------------------------------------------------------


def _fields(old: Contract, new: Contract) -> Iterator[Change]:
    old_by_name = {f.name: f for f in old.fields}
    new_by_name = {f.name: f for f in new.fields}
    removed = [f for f in old.fields if f.name not in new_by_name]
    added = [f for f in new.fields if f.name not in old_by_name]
    renames = _renames(removed, added)
    renamed_new = {n.name: o for o, n in renames}
    renamed_old = {o.name for o, _ in renames}
    for f in new.fields:
        if f.name in old_by_name:
            yield from _field_changes(old_by_name[f.name], f)
        elif f.name in renamed_new:
            before = renamed_new[f.name]
            yield Change(
                "field_renamed",
                f"field '{f.name}'",
                before.name,
                f.name,
                (*f.jpath, "name"),
                field=f.name,
            )
            yield from _field_changes(before, f)
        else:
            kind = "required_field_added" if f.not_null else "field_added"
            yield Change(kind, f"field '{f.name}'", None, f.type_text, f.jpath, field=f.name)
    for f in removed:
        if f.name not in renamed_old:
            yield Change(
                "field_removed",
                f"field '{f.name}'",
                f.type_text,
                None,
                f.jpath,
                field=f.name,
                in_old=True,
            )


def _renames(removed: list[Field], added: list[Field]) -> list[tuple[Field, Field]]:
    """Pair removed and added fields of the same type by name similarity, best pairs first."""
    candidates = []
    for o in removed:
        for n in added:
            if o.type != n.type:
                continue
            score = difflib.SequenceMatcher(None, o.name.lower(), n.name.lower()).ratio()
            if score >= RENAME_SIMILARITY:
                candidates.append((score, o, n))
    pairs, used_old, used_new = [], set(), set()
    for _, o, n in sorted(candidates, key=lambda c: -c[0]):
        if o.name not in used_old and n.name not in used_new:
            pairs.append((o, n))
            used_old.add(o.name)
            used_new.add(n.name)
    return pairs


def _field_changes(o: Field, n: Field) -> Iterator[Change]:
    subject = f"field '{n.name}'"

    def change(kind: str, key: str, before: Any, after: Any) -> Change:
        return Change(kind, subject, before, after, (*n.jpath, key), field=n.name)

    rel = relation(o.type, n.type)
    if rel != "same":
        kind = {"wider": "type_widened", "narrower": "type_narrowed"}.get(rel, "type_changed")
        yield change(kind, "type", o.type_text, n.type_text)
    if o.not_null != n.not_null:
        kind = "made_required" if n.not_null else "made_nullable"
        yield change(kind, "required", o.not_null, n.not_null)
    if (o.unique or o.primary_key) != (n.unique or n.primary_key):
        yield change(
            "unique_added" if n.unique or n.primary_key else "unique_removed",
            "unique",
            o.unique or o.primary_key,
            n.unique or n.primary_key,
        )
    if o.primary_key != n.primary_key:
        yield change("primary_key_changed", "primary_key", o.primary_key, n.primary_key)
    yield from _accepted_values(o, n, change)
    for key in ("min", "max", "max_length"):
        bound = _bound_kind(getattr(o, key), getattr(n, key), upper=key != "min")
        if bound is not None:
            prefix = "max_length" if key == "max_length" else "range"
            yield change(f"{prefix}_{bound}", key, getattr(o, key), getattr(n, key))
    if o.pattern != n.pattern:
        kind = (
            "pattern_added"
            if o.pattern is None
            else "pattern_removed"
            if n.pattern is None
            else "pattern_changed"
        )
        yield change(kind, "pattern", o.pattern, n.pattern)
    if o.masking != n.masking:
        yield change("masking_changed", "masking", o.masking, n.masking)
    for key in ("description", "pii", "references"):
        if getattr(o, key) != getattr(n, key):
            yield change("field_metadata_changed", key, getattr(o, key), getattr(n, key))


def _accepted_values(
    o: Field, n: Field, change: Callable[[str, str, Any, Any], Change]
) -> Iterator[Change]:
    before, after = o.accepted_values, n.accepted_values
    if before == after:
        return
    if before is None or after is None:
        kind = "accepted_values_added" if before is None else "accepted_values_removed"
        yield change(kind, "accepted_values", before, after)
        return
    old_set, new_set = {_value_key(v) for v in before}, {_value_key(v) for v in after}
    if old_set == new_set:
        return  # only the order changed
    if new_set < old_set:
        kind = "accepted_values_narrowed"
    elif new_set > old_set:
        kind = "accepted_values_widened"
    else:
        kind = "accepted_values_changed"
    yield change(kind, "accepted_values", before, after)


def _value_key(value: Any) -> tuple[bool, Any]:
    # True == 1 in Python; a contract that swaps `1` for `true` changed its values.
    return (isinstance(value, bool), value)


def _bound_kind(before: Any, after: Any, *, upper: bool) -> str | None:
    """'tightened', 'loosened' or 'changed' for one bound (an upper bound tightens downwards)."""
    if before == after and type(before) is type(after):
        return None
    if after is None:
        return "loosened"
    if before is None:
        return "tightened"
    if not _comparable(before, after):
        return "changed"
    if before == after:
        return None
    stricter = after < before if upper else after > before
    return "tightened" if stricter else "loosened"


def _comparable(a: Any, b: Any) -> bool:
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    both_numbers = isinstance(a, numbers) and isinstance(b, numbers)
    return both_numbers or (isinstance(a, str) and isinstance(b, str))


# -- rules -----------------------------------------------------------------------------------------


def _row_rule_key(rule: RowRule) -> str:
    from meshc.rules.sql import rule_id_for

    return rule.name or rule_id_for(rule.sql)


def _row_rules(old: Contract, new: Contract) -> Iterator[Change]:
    before = {_row_rule_key(r): r for r in old.row_rules}
    after = {_row_rule_key(r): r for r in new.row_rules}
    for key, rule in after.items():
        subject = f"row rule '{rule.name or rule.sql}'"
        prior = before.get(key)
        if prior is None:
            kind = "rule_added" if rule.severity == "error" else "warn_rule_added"
            yield Change(kind, subject, None, rule.sql, rule.jpath)
            continue
        if rule.name and _canonical(prior.sql) != _canonical(rule.sql):
            yield Change("rule_changed", subject, prior.sql, rule.sql, rule.jpath)
        yield from _rule_common(
            prior.severity,
            rule.severity,
            prior.description,
            rule.description,
            subject,
            rule.jpath[:-1],
        )
    for key, rule in before.items():
        if key not in after:
            yield Change(
                "rule_removed",
                f"row rule '{rule.name or rule.sql}'",
                rule.sql,
                None,
                rule.jpath,
                in_old=True,
            )


def _canonical(sql: str) -> str:
    from meshc.rules.sql import rule_id_for

    return rule_id_for(sql)


def _rule_common(
    old_severity: str,
    new_severity: str,
    old_desc: str | None,
    new_desc: str | None,
    subject: str,
    jpath: tuple[Any, ...],
) -> Iterator[Change]:
    if old_severity != new_severity:
        kind = "rule_severity_raised" if new_severity == "error" else "rule_severity_lowered"
        yield Change(kind, subject, old_severity, new_severity, (*jpath, "severity"))
    if old_desc != new_desc:
        yield Change("rule_metadata_changed", subject, old_desc, new_desc, (*jpath, "description"))


def _dataset_rule_key(rule: DatasetRule) -> str:
    if rule.name:
        return rule.name
    if rule.type == "sql":
        return _canonical(rule.sql or "")
    target = rule.column or ",".join(rule.columns)
    return f"{rule.type}({target})"


def _dataset_rules(old: Contract, new: Contract) -> Iterator[Change]:
    before = {_dataset_rule_key(r): r for r in old.dataset_rules}
    after = {_dataset_rule_key(r): r for r in new.dataset_rules}
    for key, rule in after.items():
        subject = f"dataset rule '{key}'"
        prior = before.get(key)
        if prior is None:
            kind = "rule_added" if rule.severity == "error" else "warn_rule_added"
            yield Change(kind, subject, None, _rule_text(rule), rule.jpath)
            continue
        yield from _dataset_rule_changes(prior, rule, subject)
        yield from _rule_common(
            prior.severity, rule.severity, prior.description, rule.description, subject, rule.jpath
        )
    for key, rule in before.items():
        if key not in after:
            yield Change(
                "rule_removed",
                f"dataset rule '{key}'",
                _rule_text(rule),
                None,
                rule.jpath,
                in_old=True,
            )


def _dataset_rule_changes(o: DatasetRule, n: DatasetRule, subject: str) -> Iterator[Change]:
    if (o.type, o.column, o.columns) != (n.type, n.column, n.columns) or (
        o.sql is not None and n.sql is not None and _canonical(o.sql) != _canonical(n.sql)
    ):
        yield Change("rule_changed", subject, _rule_text(o), _rule_text(n), n.jpath)
        return
    bounds = [
        ("min", _bound_kind(o.min, n.min, upper=False)),
        ("max", _bound_kind(o.max, n.max, upper=True)),
        ("max_age", _bound_kind(_seconds(o.max_age), _seconds(n.max_age), upper=True)),
    ]
    for key, kind in bounds:
        if kind is not None:
            name = "rule_changed" if kind == "changed" else f"rule_{kind}"
            yield Change(name, subject, getattr(o, key), getattr(n, key), (*n.jpath, key))


def _seconds(age: str | None) -> int | None:
    if age is None:
        return None
    number, unit = age[:-1].strip(), age[-1]
    return int(number) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def _rule_text(rule: DatasetRule) -> str:
    if rule.sql:
        return rule.sql
    parts = [rule.type, rule.column or ", ".join(rule.columns)]
    for key in ("min", "max", "max_age"):
        if getattr(rule, key) is not None:
            parts.append(f"{key}={getattr(rule, key)}")
    return " ".join(p for p in parts if p)


# -- settings --------------------------------------------------------------------------------------


def _settings(old: Contract, new: Contract) -> Iterator[Change]:
    kind = _bound_kind(old.max_quarantine_ratio, new.max_quarantine_ratio, upper=True)
    if kind is not None:
        yield Change(
            f"quarantine_ratio_{'tightened' if kind == 'tightened' else 'loosened'}",
            "quality.max_quarantine_ratio",
            old.max_quarantine_ratio,
            new.max_quarantine_ratio,
            ("quality", "max_quarantine_ratio"),
        )
    yield from _extra_columns(old.extra_columns, new.extra_columns)
    for section, kind in (
        ("quarantine", "quarantine_changed"),
        ("lineage", "lineage_changed"),
        ("output", "output_moved"),
        ("source", "source_moved"),
        ("transform", "transform_changed"),
    ):
        yield from _section(section, kind, getattr(old, section), getattr(new, section))


def _extra_columns(before: str, after: str) -> Iterator[Change]:
    jpath = ("model", "extra_columns")
    if before == after:
        return
    if before == "keep":
        yield Change("extra_columns_no_longer_kept", "model.extra_columns", before, after, jpath)
    if after == "error":
        yield Change("extra_columns_rejected", "model.extra_columns", before, after, jpath)
    elif before != "keep":
        yield Change("extra_columns_relaxed", "model.extra_columns", before, after, jpath)


def _section(section: str, kind: str, before: Any, after: Any) -> Iterator[Change]:
    """One change per differing setting of a settings section (quarantine, lineage, ...)."""
    if before == after:
        return
    if before is None or after is None:
        yield Change(kind, section, _summary(before), _summary(after), (section,))
        return
    for key in before.__dataclass_fields__:
        if key == "jpath" or getattr(before, key) == getattr(after, key):
            continue
        value_before, value_after = getattr(before, key), getattr(after, key)
        if key == "inputs":
            value_before = tuple(i.ref for i in value_before)
            value_after = tuple(i.ref for i in value_after)
        yield Change(kind, f"{section}.{key}", value_before, value_after, (section, key))


def _summary(value: Any) -> str | None:
    if value is None:
        return None
    return getattr(value, "target", None) or getattr(value, "path", None) or "set"
