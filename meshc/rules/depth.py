"""Bounds on how deeply a rule may nest, checked before any recursive stage can overflow.

sqlglot's parser recurses about 25 Python frames per level of parentheses, CASE or function call,
and every later stage (lowering, type checking, the engines' translators, sqlglot's generator)
recurses once per level of the tree. A hostile or generated rule could exhaust the interpreter's
stack (RecursionError) and take every other contract's findings with it, so both depths are
bounded and a rule beyond them is refused with MC312. AND/OR chains are not nesting: they are
lowered to a balanced tree (`balanced`), so their depth is fine.

Size is bounded too (MC313): every stage and every engine's planner does work per node, and a
generated 75,000-term chain checked in 36 s but took minutes and gigabytes per engine on two rows.
The limits below were measured: at each of them `meshc check` stays well under a second and a
10-row run finishes in about two seconds on polars, pandas and DuckDB.
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

MAX_RULE_CHARS = 100_000
"""Characters of rule text, checked before sqlglot tokenises it (~2.5 µs a character)."""

MAX_RULE_TOKENS = 11_000
"""SQL tokens, checked before sqlglot parses them: its parser takes ~50-90 µs a token, so an
unchecked 100,000-character chain took 5-7 s to parse. Room for a full IN list (two tokens an
item) plus the rest of the rule."""

MAX_CHAIN_TERMS = 1000
"""Operands of one AND (or OR) chain."""

MAX_RULE_NODES = 5000
"""Parsed expression nodes in one rule (a 1000-term chain of `x <> 1` is 4,999), not counting
the literals of IN lists, which are bounded separately."""

MAX_IN_LIST_ITEMS = 5000
"""Items in one IN list; its literals are cheaper than other nodes, so they are not counted in
MAX_RULE_NODES, but not free: DuckDB, the slowest, takes ~0.25 ms per item to plan (a 80 KB,
13,000-item list ran 3.4 s on 10 rows), so 5,000 keeps a run near a second."""

_HINT = "split it into several rules or simplify it; AND/OR chains count as one level"
_SIZE_HINT = "split the rule into several rules, or use IN (...) for a list of values"


def check_token_nesting(sql: str) -> list[Any]:
    """Refuse rule text whose brackets or prefix operators nest beyond MAX_BRACKET_NESTING, or
    that has more than MAX_RULE_TOKENS tokens (MC313); return sqlglot's DuckDB tokens.

    Runs on sqlglot's tokens (the tokenizer is iterative), before the recursive parser, which
    takes the returned tokens as they are: a rule is tokenised once (meshc.rules.sql)."""
    from sqlglot.dialects import DuckDB
    from sqlglot.tokens import TokenType

    tokens = DuckDB().tokenize(sql)
    opening = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE, TokenType.CASE}
    closing = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE, TokenType.END}
    prefix = {TokenType.NOT, TokenType.DASH, TokenType.PLUS, TokenType.TILDE}
    brackets = run = 0
    for count, token in enumerate(tokens, start=1):
        if count > MAX_RULE_TOKENS:
            raise RuleProblem(
                "MC313",
                f"rule too long: more than {MAX_RULE_TOKENS:,} SQL tokens",
                hint=_SIZE_HINT,
                offset=token.start,
            )
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
    return tokens


def check_rule_length(sql: str) -> None:
    """Refuse rule text longer than MAX_RULE_CHARS, before any stage spends time on it."""
    if len(sql) > MAX_RULE_CHARS:
        raise RuleProblem(
            "MC313",
            f"rule too long: {len(sql):,} characters, the limit is {MAX_RULE_CHARS:,}",
            hint=_SIZE_HINT,
        )


def check_tree_size(tree: Any, offset_of: Callable[[Any], int | None]) -> None:
    """Refuse a parsed tree with more than MAX_RULE_NODES nodes, an AND/OR chain of more than
    MAX_CHAIN_TERMS operands or an IN list of more than MAX_IN_LIST_ITEMS items (iteratively)."""
    from sqlglot import exp

    nodes = 0
    stack: list[tuple[Any, bool]] = [(tree, False)]
    while stack:
        node, inside_chain = stack.pop()
        if isinstance(node, exp.Connector) and not inside_chain:
            terms = chain_terms(node)
            if len(terms) > MAX_CHAIN_TERMS:
                what = f"{len(terms):,} terms in one {node.key.upper()} chain"
                raise _too_big(what, terms[0], offset_of)
        listed: list[Any] = node.expressions if isinstance(node, exp.In) else []
        if len(listed) > MAX_IN_LIST_ITEMS:
            raise _too_big(f"{len(listed):,} items in one IN list", node, offset_of)
        nodes += 1
        if nodes > MAX_RULE_NODES:
            raise _too_big(f"more than {MAX_RULE_NODES:,} expression nodes", tree, offset_of)
        literals = {id(item) for item in listed if isinstance(_unsigned(item), exp.Literal)}
        for child in node.iter_expressions():
            if id(child) not in literals:
                same_chain = isinstance(node, exp.Connector) and type(_unparen(child)) is type(node)
                stack.append((child, same_chain or (inside_chain and isinstance(node, exp.Paren))))


def _too_big(what: str, node: Any, offset_of: Callable[[Any], int | None]) -> RuleProblem:
    limits = (
        f"at most {MAX_CHAIN_TERMS:,} AND/OR terms, {MAX_RULE_NODES:,} nodes and "
        f"{MAX_IN_LIST_ITEMS:,} IN-list items per rule"
    )
    return RuleProblem(
        "MC313", f"rule too large: {what} ({limits})", hint=_SIZE_HINT, offset=offset_of(node)
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


def _unsigned(node: Any) -> Any:
    from sqlglot import exp

    return node.this if isinstance(node, exp.Neg) else node


def _unparen(node: Any) -> Any:
    from sqlglot import exp

    while isinstance(node, exp.Paren):
        node = node.this
    return node
