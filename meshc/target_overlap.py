"""Two contracts must not write the same target (MC214): the second run would silently replace the
first one's data (or quarantine) and both would still report "trusted".

A target is the folder `output.target` or an enabled `quarantine.target` names under the root; two
targets are the same when they name the same folder, whatever the format (`meshc check` compares
the normalised paths; `meshc mesh` compares real paths under its root, so a symlink that makes two
spellings one folder is caught before anything runs).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from meshc.diagnostics import Diagnostic

if TYPE_CHECKING:
    from meshc.contract import Contract


def declared_targets(contract: Contract) -> Iterator[tuple[str, str]]:
    """(section, target) for each folder the contract writes when run with its declared targets."""
    if contract.output is not None:
        yield "output", contract.output.target
    q = contract.quarantine
    if q.enabled and q.target is not None:
        yield "quarantine", q.target


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


def _lexical(target: str) -> str:
    return posixpath.normpath(target.replace("\\", "/"))


def _real(root: Path, target: str) -> str:
    return os.path.realpath(root / _lexical(target))


def _diagnostic(
    contract: Contract, section: str, target: str, other: Contract, other_section: str
) -> Diagnostic:
    message = (
        f"two contracts write the same target: {section}.target '{target}' is also the "
        f"{other_section}.target of {other.ref} ({other.path})"
    )
    hint = "give each contract its own output and quarantine folder"
    if contract.locator is not None:
        return contract.locator.diagnostic("MC214", message, (section, "target"), hint=hint)
    return Diagnostic("MC214", message, contract.path, hint=hint)
