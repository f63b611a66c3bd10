"""Make an imported contract one that `meshc check` accepts: run meshc's own load and rule
compiler on it, and take out (reporting each) the rules and field constraints meshc refuses.

The diagnostics are located in the generated YAML; a diagnostic's line leads back to the rule or
field it is about, which leads back to the ODCS path it came from.
"""

from __future__ import annotations

from meshc.diagnostics import Diagnostic
from meshc.errors import ContractError
from meshc.located_yaml import JsonPath, Locator, load_yaml_text
from meshc.odcs.document import dump_yaml
from meshc.odcs.from_odcs import ImportedContract
from meshc.odcs.mapping import NotMapped

_MAX_ROUNDS = 50  # each round removes at least one element; a contract has few of them
# Field keys an import may drop without changing what the column is.
_DROPPABLE = {
    "min": "logicalTypeOptions.minimum",
    "max": "logicalTypeOptions.maximum",
    "pattern": "logicalTypeOptions.pattern",
    "max_length": "logicalTypeOptions.maxLength",
    "accepted_values": "enum",
    "references": "relationships",
    "unique": "unique",
}


def settle(imported: ImportedContract, source: str) -> str:
    """The contract's YAML once meshc loads and compiles it without an error. What cannot be
    taken out raises ContractError, located in the YAML meshc would have written."""
    from meshc.loader import loads_contract

    label = f"<meshc contract imported from {source}>"
    for _ in range(_MAX_ROUNDS):
        text = dump_yaml(imported.data)
        try:
            loads_contract(text, label)
            return text
        except ContractError as exc:
            _, locator = load_yaml_text(text, label)
            if not _drop(imported, list(exc.diagnostics), locator):
                raise
    raise AssertionError("settle did not converge")  # each round drops an element


def _drop(imported: ImportedContract, diagnostics: list[Diagnostic], loc: Locator) -> bool:
    """Take out what each diagnostic is about; False when one is about nothing droppable."""
    data = imported.data
    rules: dict[tuple[str, int], Diagnostic] = {}
    keys: dict[tuple[int, str], Diagnostic] = {}
    for d in diagnostics:
        jpath = _jpath_at(loc, d.line)
        if len(jpath) > 2 and jpath[:2] in (("quality", "row_rules"), ("quality", "dataset_rules")):
            rules.setdefault((str(jpath[1]), int(jpath[2])), d)
        elif len(jpath) > 3 and jpath[:2] == ("model", "fields") and jpath[3] in _DROPPABLE:
            keys.setdefault((int(jpath[2]), str(jpath[3])), d)
        else:
            return False
    for (kind, i), d in sorted(rules.items(), reverse=True):  # later indexes first
        rule = data["quality"][kind].pop(i)
        origin = imported.origins.get(id(rule), f"quality.{kind}[{i}]")
        imported.notes.append(NotMapped(origin, f"meshc refuses it: {d.code} {d.message}"))
    for (i, key), d in keys.items():
        f = data["model"]["fields"][i]
        f.pop(key)
        origin = imported.origins.get(id(f), f["name"])
        why = f"meshc refuses it: {d.code} {d.message}"
        imported.notes.append(NotMapped(f"{origin}.{_DROPPABLE[key]}", why))
    quality = data.get("quality", {})
    for kind in [k for k, v in quality.items() if v == []]:
        del quality[kind]
    if "quality" in data and not quality:
        del data["quality"]
    return True


def _jpath_at(loc: Locator, line: int) -> JsonPath:
    """The deepest path whose value starts on `line`, or the nearest one above it (a multi-line
    rule reports lines inside its text)."""
    best: JsonPath = ()
    best_line = 0
    for jpath, (at, _) in {**loc.keys, **loc.values}.items():
        if best_line < at <= line or (at == best_line and len(jpath) > len(best)):
            best, best_line = jpath, at
    return best
