"""Find contract files from CLI arguments: files, directories (recursive) and globs."""

from __future__ import annotations

import glob
from pathlib import Path

from meshc.diagnostics import Diagnostic

NOT_CONTRACTS = {"mesh.yaml", "mesh.yml", ".pre-commit-hooks.yaml", ".pre-commit-config.yaml"}


def find_contracts(args: list[str]) -> tuple[list[Path], list[Diagnostic]]:
    """Contract paths in a stable order, plus MC001/MC004 diagnostics for bad arguments."""
    found: dict[Path, None] = {}
    problems: list[Diagnostic] = []
    for arg in args:
        p = Path(arg)
        if any(ch in arg for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(arg, recursive=True))
            files = [m for m in matches if _is_entry(m) and _is_yaml(m)]
            if not files:
                problems.append(Diagnostic("MC004", "no contract files match this pattern", arg))
            found.update(dict.fromkeys(files))
        elif p.is_dir():
            files = sorted(
                f for f in p.rglob("*") if _is_entry(f) and _is_yaml(f) and _is_candidate(f)
            )
            if not files:
                problems.append(
                    Diagnostic(
                        "MC004",
                        "no contracts (*.yaml) in this directory",
                        arg,
                        hint="pass contract files, or a directory that holds them",
                    )
                )
            found.update(dict.fromkeys(files))
        elif p.exists():
            found[p] = None
        else:
            problems.append(Diagnostic("MC001", "file not found", arg))
    return list(found), problems


def _is_entry(p: Path) -> bool:
    """Anything but a directory: a FIFO or device named *.yaml is kept so that loading it reports
    MC006 (never opened here, where reading it would hang or never end)."""
    return not p.is_dir()


def _is_yaml(p: Path) -> bool:
    return p.suffix in (".yaml", ".yml")


def _is_candidate(p: Path) -> bool:
    if p.name in NOT_CONTRACTS or p.name.startswith("."):
        return False
    return not _is_registry(p)


def _is_registry(p: Path) -> bool:
    """A registry (meshc registry, bootstrap): top-level `contracts:` and no `info:`."""
    import re

    from meshc.yaml_guard import YamlRefused, read_bounded

    try:
        text = read_bounded(p).decode("utf-8", errors="replace")
    except (OSError, YamlRefused):
        return False  # not skipped: loading it reports the problem (MC001/MC005/MC006)
    return bool(re.search(r"^contracts:", text, re.M)) and not re.search(r"^info:", text, re.M)
