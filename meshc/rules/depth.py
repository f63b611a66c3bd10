"""Bounds on how deeply a rule may nest, checked before any recursive stage can overflow.

sqlglot's parser recurses about 25 Python frames per level of parentheses, CASE or function call,
and every later stage (lowering, type checking, the engines' translators, sqlglot's generator)
recurses once per level of the tree. A hostile or generated rule could exhaust the interpreter's
stack (RecursionError) and take every other contract's findings with it, so both depths are
bounded and a rule beyond them is refused with MC312. AND/OR chains are not nesting: they are
lowered to a balanced tree (`balanced`), so a chain of any length is fine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from meshc.rules.problems import RuleProblem

MAX_BRACKET_NESTING = 20
"""Parentheses, brackets, CASE and prefix operators (NOT, unary minus) open inside one another.
20 levels keep sqlglot's parser under ~550 frames of Python's default limit of 1000."""

MAX_TREE_DEPTH = 64
"""Operators applied to one another (e.g. `a + b + ... ` with 65 terms), AND/OR chains counted
as one level; every recursive walk over the IR stays well under Python's limit."""

_HINT = "split it into several rules or simplify it; AND/OR chains of any length are fine"


def check_token_nesting(sql: str) -> None:
    """Refuse rule text whose brackets or prefix operators nest beyond MAX_BRACKET_NESTING.

    Runs on sqlglot's tokens (the tokenizer is iterative), before the recursive parser."""
    from sqlglot.dialects import DuckDB
    from sqlglot.tokens import TokenType

    opening = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE, TokenType.CASE}
    closing = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE, TokenType.END}
    prefix = {TokenType.NOT, TokenType.DASH, TokenType.PLUS, TokenType.TILDE}
    brackets = run = 0
    for token in DuckDB().tokenize(sql):
        kind = token.token_type
        if kind in opening:
            brackets += 1
        elif kind in closing:
            brackets = max(brackets - 1, 0)
        run = run + 1 if kind in prefix else 0
        if brackets + run > MAX_BRACKET_NESTING:
            raise RuleProblem(
                "MC312",
                f"rule nested too deeply: more than {MAX_BRACKET_NESTING} levels of "
                "parentheses, CASE or NOT",
                hint=_HINT,
                offset=token.start,
            )


def check_tree_depth(tree: Any, offset_of: Callable[[Any], int | None]) -> None:
    """Refuse a parsed tree deeper than MAX_TREE_DEPTH (iteratively: this walk cannot overflow).

    Parentheses and a connective directly under the same connective do not add a level, because
    lowering flattens them."""
    from sqlglot import exp

    stack: list[tuple[Any, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise RuleProblem(
                "MC312",
                f"rule nested too deeply: operators applied more than {MAX_TREE_DEPTH} deep",
                hint=_HINT,
                offset=offset_of(node),
            )
        for child in node.iter_expressions():
            same_chain = isinstance(node, exp.Connector) and type(_unparen(child)) is type(node)
            flat = same_chain or isinstance(node, exp.Paren)
            stack.append((child, depth if flat else depth + 1))


def chain_terms(node: Any) -> list[Any]:
    """The operands of an AND (or OR) chain in source order, looking through parentheses around
    the same connective; iterative, so a chain of any length is fine."""
    kind, terms, stack = type(node), [], [node]
    while stack:
        current = stack.pop()
        inner = _unparen(current)
        if type(inner) is kind:
            stack.extend((inner.expression, inner.this))
        else:
            terms.append(current)
    return terms


T = TypeVar("T")


def balanced(combine: Callable[[T, T], T], terms: Sequence[T]) -> T:
    """Combine terms pairwise, level by level: depth log2(n) instead of n. Order is kept, and a
    chain of two or three terms gets the parser's own left-deep shape."""
    level = list(terms)
    while len(level) > 1:
        paired = [combine(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = paired + ([level[-1]] if len(level) % 2 else [])
    return level[0]


def _unparen(node: Any) -> Any:
    from sqlglot import exp

    while isinstance(node, exp.Paren):
        node = node.this
    return node
