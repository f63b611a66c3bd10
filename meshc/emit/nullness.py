"""Which columns a rule's violation guarantees to be present (not NULL).

A GX suite names failing rows through a column expectation on a real data column: with
`row_condition` = NOT(rule), `expect_column_values_to_be_null(X)` flags every selected row whose
X is present. When the rule can only be FALSE with X present, that is every violating row, so one
expectation says the rule (meshc.emit.gx_emit). This module finds such an X by three-valued
reasoning over the IR: `strict` columns make an expression NULL when they are NULL, and AND, OR
and NOT combine what a TRUE or a FALSE result implies.
"""

from __future__ import annotations

from meshc.rules import expr as ir

# NULL in any operand gives NULL: the operand's strict columns carry over
_PROPAGATING = (
    ir.Compare,
    ir.Arith,
    ir.Neg,
    ir.StrFn,
    ir.Substring,
    ir.Concat,
    ir.Cast,
    ir.DateAdd,
    ir.DateDiffDays,
    ir.RegexSearch,
)


def strict(node: ir.Expr) -> frozenset[str]:
    """Columns whose NULL makes `node` NULL."""
    if isinstance(node, ir.Col):
        return frozenset([node.name])
    if isinstance(node, _PROPAGATING):
        out: frozenset[str] = frozenset()
        for child in node.children():
            out |= strict(child)
        return out
    if isinstance(node, (ir.Between, ir.InList)):  # `x IN (a, NULL)` can still be TRUE
        return strict(node.operand)
    return frozenset()  # CASE, COALESCE, IS NULL, literals: NULL in, a value out


def present_when(node: ir.Expr, result: bool) -> frozenset[str]:
    """Columns certainly not NULL when the boolean `node` evaluates to `result` (not NULL)."""
    if isinstance(node, ir.Not):
        return present_when(node.operand, not result)
    if isinstance(node, (ir.And, ir.Or)):
        left, right = present_when(node.left, result), present_when(node.right, result)
        # AND is TRUE / OR is FALSE only when both sides are; otherwise either side may decide
        both = isinstance(node, ir.And) == result
        return left | right if both else left & right
    if isinstance(node, ir.IsNull):
        present = node.negated == result  # `x IS NOT NULL` TRUE, `x IS NULL` FALSE
        return strict(node.operand) if present else frozenset()
    return strict(node)


def violation_column(predicate: ir.Expr) -> str | None:
    """The first column (in reading order) every violating row has a value in, or None."""
    present = present_when(predicate, False)
    return next((c for c in ir.columns_of(predicate) if c in present), None)
