"""What `meshc check` does, as a library function: collect every problem in every file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from meshc.check_cache import RuleCache
from meshc.contract import Contract
from meshc.diagnostics import Diagnostic, Severity
from meshc.discovery import find_contracts
from meshc.references import check_references
from meshc.target_overlap import check_target_overlaps


@dataclass
class CheckResult:
    """What `meshc check` found in the files it checked."""

    files: list[Path]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    contracts: list[Contract] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.severity is Severity.WARNING for d in self.diagnostics)


def run_check(
    args: list[str],
    *,
    mesh_path: Path | None = None,
    base_ref: str | None = None,
    rules: RuleCache | None = None,
) -> CheckResult:
    """`rules`: where compiled rules' findings are kept (`meshc check` passes its on-disk cache,
    meshc/check_cache.py); by default they are kept for this call only."""
    rules = rules if rules is not None else RuleCache()
    files, problems = find_contracts(args)
    result = CheckResult(files=files, diagnostics=list(problems))
    for path in files:
        contract, diagnostics = _collect_isolated(path, rules)
        result.diagnostics.extend(diagnostics)
        if contract is not None:
            result.contracts.append(contract)
    _check_unique_refs(result)
    result.diagnostics.extend(check_target_overlaps(result.contracts))
    mesh = _mesh(mesh_path, result)
    result.diagnostics.extend(check_references(result.contracts, mesh))
    if mesh is not None:
        from meshc.governance import check_policies

        for contract in result.contracts:
            if mesh.governs(contract.path):
                result.diagnostics.extend(check_policies(contract, mesh, rule_facts=rules.facts))
    if base_ref is not None:
        from meshc.evolution.gitbase import check_against_base

        result.diagnostics.extend(check_against_base(files, base_ref))
    return result


def _collect_isolated(path: Path, rules: RuleCache) -> tuple[Contract | None, list[Diagnostic]]:
    """One file's findings; a defect in meshc while checking it becomes that file's MC314 error,
    so it never hides the findings of the other files (and `--format json` still prints)."""
    from meshc.loader import collect_contract

    try:
        return collect_contract(path, rules=rules)
    except Exception as exc:  # a bug in meshc, not in the contract: report it, keep going
        return None, [
            Diagnostic(
                "MC314",
                f"internal error while checking this file: {type(exc).__name__}: {exc}",
                str(path),
                1,
                1,
                hint="this is a meshc bug; please report it with the file",
            )
        ]


def _check_unique_refs(result: CheckResult) -> None:
    seen: dict[str, Contract] = {}
    for c in result.contracts:
        if c.ref in seen:
            result.diagnostics.append(
                Diagnostic(
                    "MC206",
                    f"contract '{c.ref}' is also defined in {seen[c.ref].path}",
                    c.path,
                    *(c.locator.value(("info", "name")) if c.locator else (0, 0)),
                    hint="each domain.name must be unique in the mesh",
                )
            )
        else:
            seen[c.ref] = c


def _mesh(mesh_path: Path | None, result: CheckResult):
    try:
        from meshc.governance import load_mesh
    except ModuleNotFoundError:
        return None
    path = mesh_path or (Path("mesh.yaml") if Path("mesh.yaml").exists() else None)
    if path is None:
        return None
    mesh, problems = load_mesh(path)
    result.diagnostics.extend(problems)
    return mesh
