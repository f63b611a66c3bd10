"""The policy kinds. Each is a small function: (contract, policy, mesh) -> diagnostics."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshc.contract import Contract, Field
from meshc.diagnostics import Diagnostic, Severity, did_you_mean
from meshc.located_yaml import JsonPath
from meshc.mesh.project import MeshProject
from meshc.types import Kind

if TYPE_CHECKING:
    from meshc.check_cache import RuleFacts

Policy = dict[str, Any]


def check_policies(
    contract: Contract,
    mesh: MeshProject | None,
    *,
    rule_facts: Callable[[Contract], RuleFacts] | None = None,
) -> list[Diagnostic]:
    """Every policy violation of one contract (static checks only). `rule_facts`: what compiling
    the contract's rules found, when the caller keeps it (`meshc check`: its cache of compiles,
    meshc/check_cache.py); otherwise the rules are compiled when a policy needs them."""
    if mesh is None:
        return []
    out: list[Diagnostic] = []
    for policy in mesh.policies:
        if policy["kind"] == "money_non_negative":
            out.extend(_money(contract, policy, rule_facts))
        elif (check := _CHECKS.get(policy["kind"])) is not None:
            out.extend(check(contract, policy, mesh))
    return out


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


def money_fields(contract: Contract, policy: Policy) -> list[Field]:
    pattern = policy["field_pattern"]
    return [f for f in contract.fields if f.type.is_numeric and re.search(pattern, f.name)]


def has_min_zero(f: Field) -> bool:
    return isinstance(f.min, (int, float)) and not isinstance(f.min, bool) and f.min >= 0


def _money(
    contract: Contract, policy: Policy, rule_facts: Callable[[Contract], RuleFacts] | None
) -> Iterator[Diagnostic]:
    ruled = _non_negative(contract, rule_facts)
    for f in money_fields(contract, policy):
        if not has_min_zero(f) and f.name not in ruled:
            yield _diag(
                contract,
                policy,
                "MC405",
                f"money field '{f.name}' has no non-negative rule",
                (*f.jpath, "name"),
                hint=f"add `min: 0` or a row rule `{f.name} >= 0`",
            )


def _non_negative(
    contract: Contract, rule_facts: Callable[[Contract], RuleFacts] | None
) -> frozenset[str]:
    """The fields a row rule bounds at >= 0; none when the rules cannot be compiled (a defect
    in meshc while compiling is reported once, by the check of the file itself)."""
    from meshc.check_cache import compile_facts  # the compiler itself only when it is called

    try:
        return (rule_facts or compile_facts)(contract).non_negative
    except Exception:
        return frozenset()


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
    "timestamps_utc": _utc,
}
