"""The policy kinds. Each is a small function: (contract, policy, mesh) -> diagnostics."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from meshc.contract import Contract, Field
from meshc.diagnostics import Diagnostic, Severity, did_you_mean
from meshc.located_yaml import JsonPath
from meshc.mesh.project import MeshProject
from meshc.rules import checks as ck
from meshc.rules import expr as ir
from meshc.types import INTEGER, Kind

Policy = dict[str, Any]


def check_policies(contract: Contract, mesh: MeshProject | None) -> list[Diagnostic]:
    """Every policy violation of one contract (static checks only)."""
    if mesh is None:
        return []
    out: list[Diagnostic] = []
    for policy in mesh.policies:
        check = _CHECKS.get(policy["kind"])
        if check is not None:
            out.extend(check(contract, policy, mesh))
    return out


def injected_checks(
    contract: Contract, mesh: MeshProject | None, *, compiled: ck.CompiledContract | None = None
) -> tuple[ck.RowCheck, ...]:
    """Row checks that policies add at run time, reported under `<policy id>:<field>`.
    `compiled`: the contract's compiled rules when the caller has them (not compiled again)."""
    if mesh is None:
        return ()
    out: list[ck.RowCheck] = []
    money = [p for p in mesh.policies if p["kind"] == "money_non_negative"]
    covered = _non_negative_rules(contract, compiled) if money else set()
    for policy in money:
        for f in _money_fields(contract, policy):
            if f.name in covered or _has_min_zero(f):
                continue  # the contract already enforces it; a second reason would be noise
            col = ir.Col(f.name, f.type)
            out.append(
                ck.SqlRule(
                    id=f"{policy['id']}:{f.name}",
                    severity=policy.get("severity", "error"),
                    rule=f"{f.name} >= 0",
                    origin=_origin(contract, f.jpath),
                    description=policy.get("description")
                    or f"policy {policy['id']}: {f.name} >= 0",
                    expr=ir.Compare(">=", col, ir.Lit(0, INTEGER)),
                    sql=f"{f.name} >= 0",
                )
            )
    return tuple(out)


def _origin(contract: Contract, jpath: JsonPath) -> ck.Origin:
    line, col = contract.locator.value(jpath) if contract.locator else (0, 0)
    return ck.Origin(contract.path, line, col)


def _diag(
    contract: Contract,
    policy: Policy,
    code: str,
    message: str,
    jpath: JsonPath,
    hint: str | None = None,
    at_key: bool = False,
) -> Diagnostic:
    severity = Severity.ERROR if policy.get("severity", "error") == "error" else Severity.WARNING
    text = f"policy '{policy['id']}': {message}"
    if contract.locator is None:
        return Diagnostic(code, text, contract.path, hint=hint, severity=severity)
    return contract.locator.diagnostic(
        code, text, jpath, hint=hint, at_key=at_key, severity=severity
    )


def _naming(contract: Contract, policy: Policy, mesh: MeshProject) -> Iterator[Diagnostic]:
    dataset, field = policy.get("dataset_pattern"), policy.get("field_pattern")
    if dataset and not re.search(dataset, contract.info.name):
        yield _diag(
            contract,
            policy,
            "MC401",
            f"dataset name '{contract.info.name}' does not match {dataset}",
            ("info", "name"),
            hint="rename the dataset (this is a breaking change)",
        )
    for f in contract.fields if field else ():
        if field and not re.search(field, f.name):
            yield _diag(
                contract,
                policy,
                "MC401",
                f"field name '{f.name}' does not match {field}",
                (*f.jpath, "name"),
                hint=f"e.g. '{_snake(f.name)}'",
            )


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("-", "_")


def _owner(contract: Contract, policy: Policy, mesh: MeshProject) -> Iterator[Diagnostic]:
    owner, pattern = contract.info.owner, policy.get("owner_pattern")
    if not owner:
        yield _diag(
            contract,
            policy,
            "MC402",
            "the contract names no owner",
            ("info",),
            at_key=True,
            hint="add info.owner: <team e-mail>",
        )
    elif pattern and not re.search(pattern, owner):
        yield _diag(
            contract,
            policy,
            "MC402",
            f"owner '{owner}' does not match {pattern}",
            ("info", "owner"),
        )


def _domain(contract: Contract, policy: Policy, mesh: MeshProject) -> Iterator[Diagnostic]:
    domain = contract.info.domain
    if domain not in mesh.domains:
        yield _diag(
            contract,
            policy,
            "MC403",
            f"domain '{domain}' is not declared in {mesh.path}",
            ("info", "domain"),
            hint=did_you_mean(domain, mesh.domains)
            or f"declared domains: {', '.join(sorted(mesh.domains))}",
        )
        return
    folder = mesh.domains[domain].contracts
    if folder and contract.path != "<memory>":
        expected = (mesh.path.parent / folder).resolve()
        if expected not in Path(contract.path).resolve().parents:
            yield _diag(
                contract,
                policy,
                "MC403",
                f"a '{domain}' contract must live under {folder}/",
                ("info", "domain"),
                hint=f"move the file to {folder}/",
            )


def _pii(contract: Contract, policy: Policy, mesh: MeshProject) -> Iterator[Diagnostic]:
    layers = policy.get("layers", ["silver", "gold"])
    if contract.info.layer not in layers:
        return
    for f in contract.fields:
        if f.pii and not f.masking:
            yield _diag(
                contract,
                policy,
                "MC404",
                f"PII field '{f.name}' is not masked in a {contract.info.layer} contract",
                (*f.jpath, "pii"),
                hint="add masking: hash | redact | partial | nullify",
            )


def _money_fields(contract: Contract, policy: Policy) -> list[Field]:
    pattern = policy["field_pattern"]
    return [f for f in contract.fields if f.type.is_numeric and re.search(pattern, f.name)]


def _has_min_zero(f: Field) -> bool:
    return isinstance(f.min, (int, float)) and not isinstance(f.min, bool) and f.min >= 0


def _money(contract: Contract, policy: Policy, mesh: MeshProject) -> Iterator[Diagnostic]:
    ruled = _non_negative_rules(contract)
    for f in _money_fields(contract, policy):
        if not _has_min_zero(f) and f.name not in ruled:
            yield _diag(
                contract,
                policy,
                "MC405",
                f"money field '{f.name}' has no non-negative rule",
                (*f.jpath, "name"),
                hint=f"add `min: 0` or a row rule `{f.name} >= 0`",
            )


def _non_negative_rules(
    contract: Contract, compiled: ck.CompiledContract | None = None
) -> set[str]:
    """Fields that a row rule bounds at >= 0 (or > 0) on its own, as `x >= 0` or `x > 0`."""
    if compiled is None:
        from meshc.rules.compiler import compile_contract

        try:
            compiled = compile_contract(contract)
        except Exception:  # an uncompilable contract is reported by the compiler already
            return set()
    names = set()
    for check in compiled.row_checks:
        if isinstance(check, ck.SqlRule):
            names |= _bounded_columns(check.expr)
    return names


def _bounded_columns(expr: ir.Expr) -> set[str]:
    if isinstance(expr, ir.And):
        return _bounded_columns(expr.left) | _bounded_columns(expr.right)
    if (
        isinstance(expr, ir.Compare)
        and isinstance(expr.left, ir.Col)
        and isinstance(expr.right, ir.Lit)
    ):
        value = expr.right.value
        if isinstance(value, (int, float)) and expr.op in (">=", ">") and value >= 0:
            return {expr.left.name}
    if (
        isinstance(expr, ir.Between)
        and isinstance(expr.operand, ir.Col)
        and isinstance(expr.low, ir.Lit)
        and isinstance(expr.low.value, (int, float))
        and expr.low.value >= 0
        and not expr.negated
    ):
        return {expr.operand.name}
    return set()


def _utc(contract: Contract, policy: Policy, mesh: MeshProject) -> Iterator[Diagnostic]:
    named = policy.get("field_pattern", "_at$")
    local = policy.get("local_pattern")
    for f in contract.fields:
        if local and re.search(local, f.name):
            continue
        naive = f.type.kind is Kind.TIMESTAMP
        if naive or (re.search(named, f.name) and f.type.kind is not Kind.TIMESTAMP_TZ):
            yield _diag(
                contract,
                policy,
                "MC406",
                f"'{f.name}' must be 'timestamp with time zone' (UTC), not {f.type_text}",
                (*f.jpath, "type"),
                hint="use `type: timestamp with time zone`"
                + (f", or name a wall-clock column to match {local}" if local else ""),
            )


_CHECKS: dict[str, Callable[[Contract, Policy, MeshProject], Iterator[Diagnostic]]] = {
    "naming_convention": _naming,
    "owner_required": _owner,
    "domain_declared": _domain,
    "pii_masked_outside_bronze": _pii,
    "money_non_negative": _money,
    "timestamps_utc": _utc,
}
