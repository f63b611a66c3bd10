"""The two conversions as library calls: a file in, YAML text and the not-mapped notes out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from meshc.odcs.mapping import NotMapped


@dataclass(frozen=True)
class Conversion:
    """The converted document as YAML, and what did not map (in the order it was found)."""

    text: str
    notes: list[NotMapped] = field(default_factory=list)


class InvalidExport(RuntimeError):
    """meshc wrote ODCS the standard's schema refuses: a meshc bug, never the user's input."""


def export_odcs(path: str | Path) -> Conversion:
    """The ODCS v3 document for a meshc contract. Raises ContractError when the contract is
    invalid, OdcsUnavailable without the ODCS package."""
    from meshc.loader import load_contract
    from meshc.odcs.document import dump_yaml, schema_errors
    from meshc.odcs.mapping import jpath_text
    from meshc.odcs.to_odcs import to_odcs

    contract = load_contract(path)
    document, notes = to_odcs(contract.raw)
    problems = schema_errors(document)  # the official schema judges every export
    if problems:
        listed = "; ".join(f"{jpath_text(p)}: {m}" for p, m in problems[:5])
        raise InvalidExport(f"the ODCS export of {path} is not valid ODCS: {listed}")
    return Conversion(dump_yaml(document), notes)


def import_odcs(
    path: str | Path, *, object_name: str | None = None, domain: str | None = None
) -> Conversion:
    """The meshc contract for an ODCS v3 file (one schema object of it). Raises ContractError
    (located) when the file is no valid ODCS v3 or leaves no contract."""
    from meshc.odcs.document import load_odcs_file
    from meshc.odcs.from_odcs import from_odcs
    from meshc.odcs.settle import settle

    document, locator = load_odcs_file(path)
    imported = from_odcs(document, locator, object_name=object_name, domain=domain)
    text = settle(imported, str(path))
    header = f"# Imported from the ODCS contract {Path(path).name} by `meshc import odcs`.\n"
    return Conversion(header + text, imported.notes)
