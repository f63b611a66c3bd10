"""Everything the site shows, gathered once: the mesh by domain, each data product's contract,
rules, version history and runs, and the lineage edges. Pure data; rendering is elsewhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshc.contract import Contract
from meshc.docs_site.history import History, contract_history
from meshc.docs_site.runs import RunHistory, load_runs
from meshc.mesh.project import MeshProject


@dataclass(frozen=True)
class RuleDoc:
    """A check as the runner names it (the ids in run records), with where it comes from."""

    id: str
    kind: str
    rule: str
    severity: str
    description: str | None
    origin: str  # "contract" or "policy <id>"


@dataclass
class ProductDoc:
    contract: Contract
    row_rules: list[RuleDoc]
    dataset_rules: list[RuleDoc]
    history: History
    runs: RunHistory
    inputs: tuple[str, ...]  # gold transform inputs (refs)
    references: tuple[str, ...]  # contracts its foreign keys point at
    used_by: tuple[str, ...] = ()  # gold contracts that read it

    @property
    def ref(self) -> str:
        return self.contract.ref

    @property
    def page(self) -> str:
        """Its page, relative to the site root (domain and name are identifiers)."""
        return f"products/{self.ref}.html"


@dataclass(frozen=True)
class DomainDoc:
    name: str
    owner: str | None
    description: str | None
    engine: str
    products: tuple[str, ...]  # refs


@dataclass
class MeshDoc:
    name: str
    description: str | None
    path: Path
    root: Path
    domains: list[DomainDoc]
    products: dict[str, ProductDoc] = field(default_factory=dict)  # ref -> product


def collect_mesh(mesh_path: Path, root: Path | None = None) -> MeshDoc:
    """Read mesh.yaml and its contracts as `meshc mesh` does; ContractError when invalid."""
    from meshc.mesh.graph import build_graph
    from meshc.mesh.project import load_project

    project = load_project(mesh_path)
    graph = build_graph(_contracts(project))
    graph.order()  # a dependency cycle is a MeshcError here, not endless recursion in the layout
    raw = _raw(mesh_path)
    lake = root if root is not None else project.root
    products = {ref: _product(c, project, lake) for ref, c in sorted(graph.contracts.items())}
    for product in products.values():
        for parent in product.inputs:
            products[parent].used_by += (product.ref,)
    return MeshDoc(
        name=project.name,
        description=(raw.get("mesh") or {}).get("description"),
        path=Path(mesh_path),
        root=lake,
        domains=_domains(project, raw, products),
        products=products,
    )


def _contracts(project: MeshProject) -> list[Contract]:
    """The mesh's contracts as `meshc check` reads them; any error stops the build, listed."""
    from meshc.checking import run_check
    from meshc.errors import ContractError

    result = run_check(project.contract_dirs())
    if result.errors:
        raise ContractError([d for d in result.diagnostics if d.severity.value == "error"])
    return result.contracts


def _raw(mesh_path: Path) -> dict[str, Any]:
    """mesh.yaml as data, for the descriptions MeshProject does not keep (already validated)."""
    from meshc.located_yaml import load_yaml_file

    data, _ = load_yaml_file(mesh_path)
    return data if isinstance(data, dict) else {}


def _domains(
    project: MeshProject, raw: dict[str, Any], products: dict[str, ProductDoc]
) -> list[DomainDoc]:
    """Declared domains in mesh.yaml order, then any domain only a contract names."""
    described = raw.get("domains") or {}
    names = list(project.domains) + sorted(
        {p.contract.info.domain for p in products.values()} - set(project.domains)
    )
    out = []
    for name in names:
        declared = project.domains.get(name)
        refs = tuple(r for r, p in products.items() if p.contract.info.domain == name)
        out.append(
            DomainDoc(
                name=name,
                owner=declared.owner if declared else None,
                description=(described.get(name) or {}).get("description"),
                engine=declared.engine if declared else "-",
                products=refs,
            )
        )
    return out


def _product(contract: Contract, project: MeshProject, root: Path) -> ProductDoc:
    row_rules, dataset_rules = _rules(contract, project)
    references = {".".join(f.references.split(".")[:2]) for f in contract.fields if f.references}
    inputs = tuple(i.ref for i in contract.transform.inputs) if contract.transform else ()
    return ProductDoc(
        contract=contract,
        row_rules=row_rules,
        dataset_rules=dataset_rules,
        history=contract_history(contract),
        runs=load_runs(root, contract.info.domain, contract.info.name),
        inputs=inputs,
        references=tuple(sorted(references - {contract.ref})),
    )


def _rules(contract: Contract, project: MeshProject) -> tuple[list[RuleDoc], list[RuleDoc]]:
    """The compiled checks (field constraints and SQL rules, under the ids the runner reports)
    plus the rules the mesh's policies add at run time."""
    from meshc.governance import injected_checks
    from meshc.rules.compiler import compile_contract

    compiled = compile_contract(contract)
    row = [_rule(c, "contract") for c in compiled.row_checks]
    if project.governs(contract.path):
        row += [_rule(c, "mesh policy") for c in injected_checks(contract, project)]
    return row, [_rule(c, "contract") for c in compiled.dataset_checks]


def _rule(check: Any, origin: str) -> RuleDoc:
    return RuleDoc(
        id=check.id,
        kind=type(check).__name__,
        rule=check.rule,
        severity=check.severity,
        description=check.description,
        origin=origin,
    )
