"""Before a run reads anything: its targets must not overlap its inputs or each other, and must be
writable. Paths are compared after resolving `..` and symlinks (and hard links, for files that
exist), so `-o ./x/../src.csv` or a link to the source is caught like the plain path."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

from meshc.errors import WriteError
from meshc.runner.writing import refuse_folders


@dataclass(frozen=True)
class _Place:
    role: str  # "source", "source folder", "source glob", "contract", or a target's name
    path: Path
    kind: str = "file"  # file | folder | glob


def refuse_overlaps(
    targets: Mapping[str, Path],
    sources: Sequence[str] = (),
    source_spec: str | None = None,
    contract_path: str | None = None,
) -> None:
    """Raise WriteError naming both paths when a target is a source file, lies in (or matches)
    the source folder or glob, is the contract file, or is another target."""
    places = [_Place(f"{role} output", path) for role, path in targets.items()]
    inputs = [_Place("source", Path(p)) for p in sources]
    if source_spec is not None:
        if any(ch in source_spec for ch in "*?["):
            inputs.append(_Place("source glob", Path(source_spec), "glob"))
        elif Path(source_spec).is_dir():
            inputs.append(_Place("source folder", Path(source_spec), "folder"))
    if contract_path is not None and Path(contract_path).is_file():
        inputs.append(_Place("contract", Path(contract_path)))
    for i, target in enumerate(places):
        for other in [*places[i + 1 :], *inputs]:
            how = _overlap(target.path, other)
            if how is not None:
                harm = (
                    "the next run would read it back as source"
                    if other.kind != "file"
                    else f"writing it would destroy the {other.role}"
                )
                raise WriteError(
                    f"the {target.role} {target.path} {how} the {other.role} {other.path}: "
                    f"{harm}; choose another path (nothing was written)"
                )


def refuse_outside_root(root: Path, target: Path, section: str, declared: str) -> None:
    """A declared target must stay under the root after symlinks are resolved: `target_problem`
    is lexical, so `<root>/silver/crm -> /elsewhere` would otherwise lead `silver/crm/orders`
    out of the root. Explicit -o/-q paths never come here (they are the user's choice)."""
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(target))
    if real != real_root and real_root not in real.parents:
        raise WriteError(
            f"{section}.target '{declared}' leads outside the lakehouse root {root} "
            f"(it resolves to {real} through a symbolic link); remove the link, or pass the "
            f"file on the command line ({'-o' if section == 'output' else '-q'}); "
            "nothing was written"
        )


def refuse_unwritable(paths: Sequence[Path]) -> None:
    """Every target must be (or become) a file in a folder this process can write."""
    refuse_folders(list(paths))
    for path in paths:
        folder = path.parent
        while not os.path.lexists(folder) and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            raise WriteError(
                f"cannot write {path}: {folder} is a file where a folder must go; "
                "nothing was written"
            )
        if not os.access(folder, os.W_OK | os.X_OK):
            raise WriteError(f"cannot write {path}: {folder} is not writable; nothing was written")


def _overlap(target: Path, other: _Place) -> str | None:
    real = Path(os.path.realpath(target))
    if other.kind == "glob":
        pattern = PurePath(os.path.abspath(other.path))
        matched = real.match(str(pattern)) or target.absolute().match(str(pattern))
        return "matches" if matched else None
    there = Path(os.path.realpath(other.path))
    if other.kind == "folder":
        return "lies inside" if there in real.parents else None
    if real == there or _same_file(target, other.path):
        return "is"
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return False
