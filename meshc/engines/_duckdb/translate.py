"""meshc IR -> sqlglot trees for the DuckDB engine: the shared SQL generator with DuckDB's profile.

The generator itself (meshc.engines.sql_generator) is shared with the SQL and GX emitters; this
module only binds it to DuckDB and to what every engine refuses (meshc.engines.spec.REFUSED:
CURRENT_DATE is bound to the run's clock before a rule reaches an engine, so an unbound one is
MC390).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

from meshc.engines import spec
from meshc.engines import sql_generator as gen
from meshc.engines import sql_trees as sb
from meshc.engines.sql_dialects import DUCKDB
from meshc.rules import expr as ir

ENGINE = DUCKDB.name
Resolver = gen.Resolver
by_name = gen.by_name


class Translator(gen.SqlGenerator):
    """Translate one IR tree; `resolve` maps a Col to the SQL that holds its typed value."""

    def __init__(self, resolve: Resolver = by_name) -> None:
        super().__init__(DUCKDB, resolve, refused=spec.REFUSED[ENGINE])


def translate(node: ir.Expr, resolve: Resolver = by_name) -> exp.Expression:
    """Translate an IR tree into a sqlglot expression for DuckDB."""
    return Translator(resolve)(node)


def aggregate_query(exprs: Mapping[str, ir.Expr], table: str) -> exp.Select:
    """The one-row query of `exprs` (aggregate trees) over the table or view `table`, its
    aggregates computed in a sub-select first (SqlGenerator.aggregate_query)."""
    return Translator().aggregate_query(exprs, exp.Table(this=sb.ident(table)))
