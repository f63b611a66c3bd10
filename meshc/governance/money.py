"""The money_non_negative policy where it needs compiled rules: which fields a row rule already
bounds at >= 0, and the row checks the policy adds at run time for the fields no rule bounds.
`meshc check` reaches this module only when its cache of compiles misses (meshc/check_cache.py
asks `non_negative_columns`), so the policy's static check stays free of the compiler and sqlglot.
"""

from __future__ import annotations

from meshc.contract import Contract
from meshc.governance.policies import has_min_zero, money_fields
from meshc.mesh.project import MeshProject
from meshc.rules import checks as ck
from meshc.rules import expr as ir
from meshc.types import INTEGER


def injected_checks(
    contract: Contract, mesh: MeshProject | None, *, compiled: ck.CompiledContract | None = None
) -> tuple[ck.RowCheck, ...]:
    """Row checks that policies add at run time, reported under `<policy id>:<field>`.
    `compiled`: the contract's compiled rules when the caller has them (not compiled again)."""
    if mesh is None:
        return ()
    out: list[ck.RowCheck] = []
    money = [p for p in mesh.policies if p["kind"] == "money_non_negative"]
    covered: frozenset[str] = frozenset()
    if money and compiled is not None:
        covered = non_negative_columns(compiled)
    elif money:
        from meshc.check_cache import compile_facts

        covered = compile_facts(contract).non_negative
    for policy in money:
        for f in money_fields(contract, policy):
            if f.name in covered or has_min_zero(f):
                continue  # the contract already enforces it; a second reason would be noise
            col = ir.Col(f.name, f.type)
            line, column = contract.locator.value(f.jpath) if contract.locator else (0, 0)
            out.append(
                ck.SqlRule(
                    id=f"{policy['id']}:{f.name}",
                    severity=policy.get("severity", "error"),
                    rule=f"{f.name} >= 0",
                    origin=ck.Origin(contract.path, line, column),
                    description=policy.get("description")
                    or f"policy {policy['id']}: {f.name} >= 0",
                    expr=ir.Compare(">=", col, ir.Lit(0, INTEGER)),
                    sql=f"{f.name} >= 0",
                )
            )
    return tuple(out)


def non_negative_columns(compiled: ck.CompiledContract) -> frozenset[str]:
    names: set[str] = set()
    for check in compiled.row_checks:
        if isinstance(check, ck.SqlRule):
            names |= _bounded_columns(check.expr)
    return frozenset(names)


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
