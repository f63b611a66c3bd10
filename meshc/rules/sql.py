"""Parse one rule's SQL, enforce the whitelist, resolve columns, type-check, lower to the IR.

Contract SQL is untrusted input from other teams. Nothing here executes it: the text is parsed by
sqlglot into a tree, every node must be on the whitelist below (an expression over the contract's
own columns, literals, operators and listed functions), and the tree is lowered to
`meshc.rules.expr` nodes. Statements, `;`, subqueries, table functions, unknown functions and
everything else are rejected with a located RuleProblem.

Each rule is tokenised and parsed once per process: the nesting check hands its tokens to the
parser, the id of an unnamed rule is rendered from that same tree, and a compiled rule is
memoised by (SQL, column types, aggregate), so a second compile in the same `meshc check` (the
governance policies compile the contract again) or the same run costs a dictionary look-up.
The memos are small and bounded; what they hold is immutable (IR nodes, ids, problems as values)
except the parsed trees, which nothing here changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from meshc.rules import expr as ir
from meshc.rules.depth import (
    check_rule_length,
    check_token_nesting,
    check_tree_depth,
    check_tree_size,
)
from meshc.rules.lowering import _Lowering, _node_offset
from meshc.rules.problems import RuleProblem
from meshc.rules.typecheck import literal_for
from meshc.types import BOOLEAN, LogicalType


@lru_cache(maxsize=1024)
def rule_id_for(sql: str) -> str:
    """A stable id for an unnamed rule: a hash of its normalised SQL (formatting-insensitive)."""
    try:
        tree = _parse(sql)  # the tree compile_sql parsed: parsed once
    except RuleProblem:  # not a valid rule; sqlglot may still read it (a statement, say)
        tree = None
    try:
        if tree is None:
            import sqlglot

            tree = sqlglot.parse_one(sql, read="duckdb")
        canonical = tree.sql(dialect="duckdb", normalize=True)  # renders a copy
    except Exception:  # an unparsable rule still needs an id for its diagnostic
        canonical = " ".join(sql.split())
    return "sql_" + hashlib.sha256(canonical.encode()).hexdigest()[:8]


def compile_sql(
    sql: str, columns: Mapping[str, LogicalType], *, aggregate: bool = False
) -> ir.Expr:
    """Compile one boolean rule. Raises RuleProblem (never executes anything)."""
    compiled = _compiled(sql, tuple(columns.items()), aggregate)
    if isinstance(compiled, ir.Expr):
        return compiled
    code, message, hint, offset, column = compiled
    raise RuleProblem(code, message, hint=hint, offset=offset, column=column)


_Problem = tuple[str, str, str | None, int | None, str | None]  # RuleProblem as a value


@lru_cache(maxsize=256)  # IR of a rule at the size limits is ~0.5 MB: bounded, not unlimited
def _compiled(
    sql: str, columns: tuple[tuple[str, LogicalType], ...], aggregate: bool
) -> ir.Expr | _Problem:
    """The compiled rule, or its problem as a value (a memo must not keep tracebacks alive)."""
    try:
        return _compile(sql, dict(columns), aggregate)
    except RuleProblem as exc:
        return exc.code, exc.message, exc.hint, exc.offset, exc.column


def _compile(sql: str, columns: Mapping[str, LogicalType], aggregate: bool) -> ir.Expr:
    tree = _parse(sql)
    lowered = _Lowering(columns, aggregate).lower(tree)
    if lowered.type is not None and lowered.type != BOOLEAN:
        raise RuleProblem(
            "MC307",
            f"a rule must be a boolean condition, this is {lowered.type}",
            hint="compare it with something, e.g. `... > 0`",
        )
    if aggregate and not any(isinstance(n, ir.Agg) for n in lowered.walk()):
        raise RuleProblem(
            "MC309",
            "a dataset SQL rule must aggregate (COUNT, SUM, AVG, MIN, MAX)",
            hint="use a row rule for per-row conditions",
        )
    return lowered


@lru_cache(maxsize=8)  # only until rule_id_for reads it; a tree at the limits is ~3 MB
def _parse(sql: str) -> Any:
    """The rule's one whitelisted expression tree, shared: callers read it, never change it."""
    from sqlglot import exp
    from sqlglot.dialects import DuckDB
    from sqlglot.errors import ParseError, TokenError

    if ";" in _outside_strings(sql):
        raise RuleProblem(
            "MC302",
            "a rule is one expression: ';' is not allowed",
            hint="remove everything from the ';' on",
            offset=_outside_strings(sql).index(";"),
        )
    try:
        check_rule_length(sql)  # before tokenising: `check` stays fast on any text
        tokens = check_token_nesting(sql)  # before the recursive parser: it must not overflow
        trees = DuckDB().parser().parse(tokens, sql)  # what sqlglot.parse does with its tokens
    except ParseError as exc:
        err = exc.errors[0] if exc.errors else {}
        desc = str(err.get("description") or exc).split("\n")[0]
        raise RuleProblem(
            "MC301",
            f"SQL syntax error: {desc}",
            hint="check quotes and parentheses",
            offset=_offset(sql, err.get("line"), err.get("col")),
        ) from None
    except TokenError as exc:
        raise RuleProblem("MC301", f"SQL syntax error: {exc}", hint="check quotes") from None
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise RuleProblem("MC302", "a rule is exactly one expression")
    tree = trees[0]
    if isinstance(tree, (exp.Query, exp.DDL, exp.DML, exp.Command)) or not isinstance(
        tree, exp.Expression
    ):
        raise RuleProblem(
            "MC303",
            f"statements are not allowed in a rule ({getattr(tree, 'key', '?').upper()})",
            hint="write a boolean condition over the contract's columns",
        )
    check_tree_depth(tree, _node_offset)
    check_tree_size(tree, _node_offset)
    return tree


def _outside_strings(sql: str) -> str:
    """The SQL with string literal contents blanked: a ';' inside quotes is data."""
    out, quote = [], None
    for ch in sql:
        if quote:
            out.append(" " if ch != quote else ch)
            if ch == quote:
                quote = None
        else:
            if ch in "'\"":
                quote = ch
            out.append(ch)
    return "".join(out)


def _offset(sql: str, line: int | None, col: int | None) -> int | None:
    if not line or not col:
        return None
    lines = sql.split("\n")
    return sum(len(x) + 1 for x in lines[: line - 1]) + max(col - 1, 0)


__all__ = ["RuleProblem", "compile_sql", "literal_for", "rule_id_for"]
