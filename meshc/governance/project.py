"""Load mesh.yaml for `meshc check`, reporting problems as diagnostics instead of raising."""

from __future__ import annotations

from pathlib import Path

from meshc.diagnostics import Diagnostic
from meshc.errors import ContractError
from meshc.mesh.project import MeshProject, load_project


def load_mesh(path: str | Path) -> tuple[MeshProject | None, list[Diagnostic]]:
    try:
        return load_project(path), []
    except ContractError as exc:
        return None, list(exc.diagnostics)
