"""Two contracts must not write the same target (MC214): the second run would silently replace the
first one's data (or quarantine) and both would still report "trusted".

A target is the folder `output.target` or an enabled `quarantine.target` names under the root; two
targets are the same when they name the same folder, whatever the format (`meshc check` compares
the normalised paths; `meshc mesh` compares real paths under its root, so a symlink that makes two
spellings one folder is caught before anything runs). Objects and database tables are not under the
root: they are compared by their location text (meshc.storage.location), a table without a schema
being in the database's default one (`public`, `main`).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from meshc.diagnostics import Diagnostic
from meshc.storage.location import LocationError, parse, scheme_of

if TYPE_CHECKING:
    from meshc.contract import Contract, Output, Quarantine


def declared_targets(contract: Contract) -> Iterator[tuple[str, str]]:
    """(section, target) for each folder the contract writes when run with its declared targets."""
    if contract.output is not None:
        yield "output", _text(contract.output)
    q = contract.quarantine
    if q.enabled and q.target is not None:
        yield "quarantine", _text(q)


def check_target_overlaps(
    contracts: Iterable[Contract], root: Path | None = None
) -> list[Diagnostic]:
    """An MC214 diagnostic on every target another contract already writes (located on the
    later contract's target). With `root`, targets are compared as real paths under it."""
    key: Callable[[str], str] = _lexical if root is None else (lambda t: _real(root, t))
    seen: dict[str, tuple[Contract, str]] = {}
    out = []
    for contract in contracts:
        for section, target in declared_targets(contract):
            where = key(target)
            if where not in seen:
                seen[where] = (contract, section)
                continue
            other, other_section = seen[where]
            if other is contract:
                continue  # its own output/quarantine clash: the runner refuses it (refuse_overlaps)
            out.append(_diagnostic(contract, section, target, other, other_section))
    return out


def _text(block: Output | Quarantine) -> str:
    """A local target as declared; other storage as its location text (a table with its schema)."""
    target = block.target or ""
    if scheme_of(target) == "file":
        return target
    try:
        where = block.location
    except LocationError:  # `meshc check` reports it (meshc.storage.checks)
        return target
    if where is None:
        return target
    if where.kind == "table" and where.table and "." not in where.table:
        return f"{where.url}#{_DEFAULT_SCHEMA.get(where.scheme, '')}.{where.table}"
    return where.text.rstrip("/")


_DEFAULT_SCHEMA = {"postgresql": "public", "duckdb": "main"}


def _lexical(target: str) -> str:
    if scheme_of(target) != "file":
        return target
    return posixpath.normpath(parse(target).url.replace("\\", "/"))


def _real(root: Path, target: str) -> str:
    if scheme_of(target) != "file":
        return target
    return os.path.realpath(root / _lexical(target))


def _diagnostic(
    contract: Contract, section: str, target: str, other: Contract, other_section: str
) -> Diagnostic:
    message = (
        f"two contracts write the same target: {section}.target '{target}' is also the "
        f"{other_section}.target of {other.ref} ({other.path})"
    )
    hint = "give each contract its own output and quarantine folder (or table)"
    if contract.locator is not None:
        key = "target" if (section, "target") in contract.locator.values else "connection"
        return contract.locator.diagnostic("MC214", message, (section, key), hint=hint)
    return Diagnostic("MC214", message, contract.path, hint=hint)
