"""SQL tree builders shared by the SQL generator, its dialect profiles and the DuckDB engine.

Every SQL meshc runs or emits is built as a sqlglot tree; values always enter as sqlglot literals
and names as quoted identifiers, so quoting is sqlglot's job, never ours. sqlglot does not add
parentheses by precedence when a tree is built by hand, hence `paren`. Hand-built types are
spelled in DuckDB's dialect (`DIALECT`); a dialect profile (meshc.engines.sql_dialects) renders
them for another database. A public module: the shared SQL layer imports it, and the DuckDB
engine (meshc/engines/_duckdb/) imports it from here, never the reverse.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

DIALECT = "duckdb"


def render(node: exp.Expression) -> str:
    return node.sql(dialect=DIALECT)


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def col(name: str) -> exp.Column:
    """A quoted column reference (the name may contain anything, quotes included)."""
    return exp.Column(this=ident(name))


def string(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def paren(node: exp.Expression) -> exp.Expression:
    """Parenthesise anything that is not an atom, so hand-built trees keep their shape."""
    if isinstance(node, (exp.Column, exp.Literal, exp.Paren, exp.Null, exp.Boolean)):
        return node
    # And/Or are Func subclasses in sqlglot but render infix: only call-shaped nodes are atoms.
    if isinstance(node, exp.Func) and not isinstance(node, (exp.Binary, exp.Connector)):
        return node
    return exp.Paren(this=node)


def dtype(text: str) -> exp.DataType:
    return exp.DataType.build(text, dialect=DIALECT)


def cast(node: exp.Expression, to: str | exp.DataType) -> exp.Cast:
    return exp.Cast(this=node, to=dtype(to) if isinstance(to, str) else to)


def try_cast(node: exp.Expression, to: str | exp.DataType) -> exp.TryCast:
    return exp.TryCast(this=node, to=dtype(to) if isinstance(to, str) else to)


def fn(name: str, *args: exp.Expression) -> exp.Anonymous:
    """A DuckDB function sqlglot has no node for (regexp_full_match, isnan, list_filter...)."""
    return exp.Anonymous(this=name, expressions=list(args))


def and_all(parts: Sequence[exp.Expression]) -> exp.Expression:
    if not parts:
        return exp.true()
    out = paren(parts[0])
    for part in parts[1:]:
        out = exp.And(this=out, expression=paren(part))
    return out


def or_all(parts: Sequence[exp.Expression]) -> exp.Expression:
    if not parts:
        return exp.false()
    out = paren(parts[0])
    for part in parts[1:]:
        out = exp.Or(this=out, expression=paren(part))
    return out


def is_null(node: exp.Expression) -> exp.Expression:
    return exp.Is(this=paren(node), expression=exp.Null())


def not_null(node: exp.Expression) -> exp.Expression:
    return exp.Not(this=paren(is_null(node)))


def case(
    whens: Sequence[tuple[exp.Expression, exp.Expression]], default: exp.Expression | None = None
) -> exp.Case:
    return exp.Case(ifs=[exp.If(this=c, true=v) for c, v in whens], default=default)


def false_when_null(node: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=paren(node), expressions=[exp.false()])


def lambda_(var: str, body: exp.Expression) -> exp.Lambda:
    """DuckDB 2 rejects the `x -> ...` arrow; sqlglot renders Lambda as `LAMBDA x : ...`."""
    return exp.Lambda(this=body, expressions=[exp.to_identifier(var)])


def select(*items: exp.Expression) -> exp.Select:
    return exp.Select(expressions=list(items))


def alias(node: exp.Expression, name: str) -> exp.Alias:
    return exp.Alias(this=node, alias=ident(name))
