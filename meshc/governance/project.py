"""Load mesh.yaml for `meshc check`, reporting problems as diagnostics instead of raising."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from meshc.diagnostics import Diagnostic
from meshc.errors import ContractError
from meshc.mesh.project import MeshProject, load_project

if TYPE_CHECKING:
    from meshc.engines.spark_settings import Place


def load_mesh(path: str | Path) -> tuple[MeshProject | None, list[Diagnostic]]:
    try:
        mesh = load_project(path)
    except ContractError as exc:
        return None, list(exc.diagnostics)
    return mesh, check_spark_block(mesh)


def check_spark_block(mesh: MeshProject) -> list[Diagnostic]:
    """MC407, at the key: a `spark:` block that names two places for the session, found by the
    rule a Spark run applies (SparkSettings.named_place). The block is judged alone: SPARK_REMOTE
    and MASTER belong to the machine a run starts on, not to the file a CI job checks. A run
    refuses the block only when it starts Spark (docs/spark.md); the check reports it before."""
    if not mesh.spark:
        return []
    # only for a mesh with a `spark:` block: the check of any other mesh never imports this
    from meshc.engines.spark_settings import WHERE_DOCS, PlaceConflict, from_mapping

    try:
        from_mapping(mesh.spark).named_place()
    except PlaceConflict as conflict:
        first, other = conflict.first, conflict.other
        hint = f"keep `{_setting(first)}` or `{_setting(other)}`, not both ({WHERE_DOCS})"
        jpath = ("spark", "master") if other.key == "master" else ("spark", "conf", other.key)
        if mesh.locator is None:
            return [Diagnostic("MC407", conflict.problem, str(mesh.path), hint=hint)]
        return [mesh.locator.diagnostic("MC407", conflict.problem, jpath, hint=hint, at_key=True)]
    return []


def _setting(place: Place) -> str:
    """How the setting is written in mesh.yaml's `spark:` block."""
    return (
        f"master: {place.url}" if place.key == "master" else f"conf: {{{place.key}: {place.url}}}"
    )
