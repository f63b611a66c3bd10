"""Foreign keys across contracts: every `references: domain.contract.field` must name a contract
and one of its fields (MC211 unknown contract, MC212 unknown field, MC213 malformed reference).

`meshc check` runs this pass over the checked contracts, looking up a referenced contract that is
not among them in the mesh (mesh.yaml); `meshc mesh` runs it again before anything runs, so a bad
reference is a located diagnostic there too, never a crash half-way through the mesh.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from meshc.diagnostics import Diagnostic, did_you_mean

if TYPE_CHECKING:
    from meshc.contract import Contract, Field
    from meshc.mesh.project import MeshProject

_SHAPE = re.compile(
    r"^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$"
)


@dataclass(frozen=True)
class Reference:
    """A parsed `references` value."""

    domain: str
    name: str
    column: str

    @property
    def ref(self) -> str:
        """The referenced contract, as `domain.name`."""
        return f"{self.domain}.{self.name}"


def parse_reference(text: str) -> Reference | None:
    """The reference, or None when `text` is not `domain.contract.field`."""
    match = _SHAPE.match(text)
    return Reference(*match.groups()) if match else None


def check_references(
    contracts: Iterable[Contract], mesh: MeshProject | None = None
) -> list[Diagnostic]:
    """A diagnostic for every reference that does not resolve. Contracts not among `contracts`
    are looked up in the mesh's contract folders (read only when needed)."""
    checked = list(contracts)
    known: dict[str, Contract] = {c.ref: c for c in checked}
    wanted = {
        r.ref
        for c in checked
        for f in c.fields
        if f.references and (r := parse_reference(f.references)) is not None
    }
    if mesh is not None and wanted - known.keys():
        # A malformed reference's hint lists every known field: read the whole mesh then.
        # Otherwise stop at the last referenced contract: reading the others (a third of
        # `meshc check` on one file) could change no diagnostic.
        malformed = any(
            f.references and parse_reference(f.references) is None
            for c in checked
            for f in c.fields
        )
        for c in _mesh_contracts(mesh, {c.path for c in checked}):
            known.setdefault(c.ref, c)
            if not malformed and wanted <= known.keys():
                break
    return [
        d
        for c in checked
        for f in c.fields
        if f.references
        for d in reference_problems(c, f, known)
    ]


def reference_problems(
    contract: Contract, f: Field, known: Mapping[str, Contract]
) -> list[Diagnostic]:
    """The problem with `f.references` given the contracts it may resolve to (none: resolves)."""
    assert f.references is not None
    target = parse_reference(f.references)
    if target is None:
        everything = [f"{ref}.{g.name}" for ref, c in known.items() for g in c.fields]
        hint = did_you_mean(f.references, everything) or "write domain.contract.field"
        return [_at(contract, f, "MC213", f"malformed reference '{f.references}'", hint)]
    parent = known.get(target.ref)
    if parent is None:
        hint = did_you_mean(target.ref, known) or "check the domain and contract name"
        message = f"'{f.references}' references unknown contract '{target.ref}'"
        return [_at(contract, f, "MC211", message, hint)]
    columns = [g.name for g in parent.fields]
    if target.column not in columns:
        hint = did_you_mean(target.column, columns) or f"fields: {', '.join(columns)}"
        message = f"'{f.references}': contract '{target.ref}' has no field '{target.column}'"
        return [_at(contract, f, "MC212", message, hint)]
    return []


def _at(contract: Contract, f: Field, code: str, message: str, hint: str) -> Diagnostic:
    jpath = (*f.jpath, "references")
    if contract.locator is not None:
        return contract.locator.diagnostic(code, message, jpath, hint=hint)
    return Diagnostic(code, message, contract.path, hint=hint)


def _mesh_contracts(mesh: MeshProject, skip: set[str]) -> Iterator[Contract]:
    """The mesh's contracts other than `skip` (paths), loaded (without compiling their rules)
    one by one, as the caller asks for them, in find_contracts' order over all the folders."""
    from meshc.loader import collect_contract

    seen = {Path(p).resolve() for p in skip}
    for path in _mesh_files(mesh):
        if Path(path).resolve() in seen:
            continue
        contract, _diagnostics = collect_contract(path, compile_rules=False)
        if contract is not None:  # its own problems are reported when it is checked itself
            yield contract


def _mesh_files(mesh: MeshProject) -> Iterator[Path]:
    """The contract files of the mesh's folders, a folder listed only when the caller gets
    there: a check that finds its references in the first domain never walks the others."""
    from meshc.discovery import find_contracts

    listed: set[Path] = set()
    for folder in mesh.contract_dirs():
        files, _problems = find_contracts([folder])
        for path in files:
            if path not in listed:  # a folder inside another is listed once, as before
                listed.add(path)
                yield path
