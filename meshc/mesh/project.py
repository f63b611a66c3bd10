"""mesh.yaml: domains, owners, engines, the lakehouse root and governance policies."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshc.diagnostics import Diagnostic
from meshc.engines.registry import DEFAULT_ENGINE
from meshc.errors import ContractError
from meshc.located_yaml import Locator, load_yaml_file


@dataclass(frozen=True)
class Domain:
    """A domain of mesh.yaml."""

    name: str
    owner: str | None
    engine: str
    contracts: str | None


@dataclass
class MeshProject:
    """mesh.yaml, loaded."""

    path: Path
    name: str
    root: Path
    domains: dict[str, Domain]
    policies: list[dict[str, Any]] = field(default_factory=list)
    locator: Locator | None = None
    # where runs send OpenLineage events: {transport: {type: http, url: ...}, namespace: ...}
    openlineage: dict[str, Any] | None = None
    # the Spark session meshc builds: {master: URL, conf: {key: value}} (docs/spark.md)
    spark: dict[str, Any] | None = None

    @property
    def engines(self) -> dict[str, str]:
        return {name: d.engine for name, d in self.domains.items()}

    def governs(self, contract_path: str | Path) -> bool:
        """Policies apply to the mesh's own contracts: those under the common folder of the
        domains' contract folders (so a contract filed in an undeclared folder is still caught)."""
        import os

        folders = [str((self.path.parent / d).resolve()) for d in self.contract_dirs()]
        scope = Path(os.path.commonpath(folders)) if folders else self.path.parent.resolve()
        return scope in Path(contract_path).resolve().parents

    def contract_dirs(self) -> list[str]:
        base = self.path.parent
        dirs = [str(base / d.contracts) for d in self.domains.values() if d.contracts]
        return dirs or [str(base / "contracts")]


def load_project(path: str | Path = "mesh.yaml") -> MeshProject:
    """Load and validate mesh.yaml; ContractError with located diagnostics when invalid."""
    from meshc import schema_validation

    data, locator = load_yaml_file(path)
    problems = (
        schema_validation.validate(data, locator, name="mesh")
        if schema_validation.has_schema("mesh")
        else []
    )
    if problems:
        raise ContractError(problems)
    if not isinstance(data, dict):
        raise ContractError([Diagnostic("MC003", "mesh.yaml must be a mapping", str(path))])
    domains = {
        name: Domain(
            name, d.get("owner"), d.get("default_engine", DEFAULT_ENGINE), d.get("contracts")
        )
        for name, d in (data.get("domains") or {}).items()
    }
    return MeshProject(
        path=Path(path),
        name=(data.get("mesh") or {}).get("name", "mesh"),
        root=Path(path).parent / (data.get("lakehouse") or {}).get("root", "lakehouse"),
        domains=domains,
        policies=list((data.get("governance") or {}).get("policies", [])),
        locator=locator,
        openlineage=data.get("openlineage"),
        spark=data.get("spark"),
    )
