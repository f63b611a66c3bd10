"""The SQL generator shared by the DuckDB engine and the SQL emitters (public surface).

meshc's rule IR becomes sqlglot trees in one place, meshc.engines.sql_generator, for a dialect
profile of meshc.engines.sql_dialects (what a dialect cannot express and how it writes what differs,
as data). The DuckDB engine, `meshc compile --target sql` (meshc.emit.sql_emit, DuckDB and Spark
text) and the GX suite emitter (meshc.emit.gx_emit) all use it; text is sqlglot's rendering of the
tree for the dialect. Code outside meshc/engines/ imports it and the tree builders from here, never
from an engine's private package (tests/test_architecture.py enforces that).

Builders: values enter as sqlglot literals (`string`), names as quoted identifiers (`ident`,
`col`), and `paren` keeps hand-built trees in shape (sqlglot adds no parentheses by precedence).
"""

from __future__ import annotations

from sqlglot import exp

from meshc.engines.sql_dialects import DIALECTS, sql_dialect
from meshc.engines.sql_generator import SqlGenerator
from meshc.engines.sql_trees import (
    alias,
    case,
    col,
    ident,
    or_all,
    paren,
    select,
    string,
)
from meshc.rules import expr as ir


def expression(node: ir.Expr, dialect: str) -> exp.Expression:
    """`node` as a tree for `dialect`, for rendered SQL: CURRENT_DATE and CURRENT_TIMESTAMP are
    left to the database (`meshc run` binds them to its clock instead)."""
    return SqlGenerator(sql_dialect(dialect))(node)


def expression_sql(node: ir.Expr, dialect: str, *, negate: bool = False) -> str:
    """`node` (or NOT(node)) as SQL text for `dialect`."""
    tree = expression(node, dialect)
    if negate:
        tree = exp.Not(this=paren(tree))
    return sql_dialect(dialect).render(tree)


__all__ = [
    "DIALECTS",
    "SqlGenerator",
    "alias",
    "case",
    "col",
    "expression",
    "expression_sql",
    "ident",
    "or_all",
    "paren",
    "select",
    "sql_dialect",
    "string",
]
