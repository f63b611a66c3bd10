"""The SQL generator shared by the DuckDB engine and the SQL emitters (public surface).

meshc's rule IR becomes sqlglot trees in one place, the DuckDB engine's translator; `meshc
compile --target sql` (meshc.emit.sql_emit, DuckDB and Spark text) and the GX suite emitter
(meshc.emit.gx_emit) reuse the same trees instead of writing SQL of their own. Code outside
meshc/engines/ imports the translator and the tree builders from here, never from the engine's
private package (tests/test_architecture.py enforces that).

Builders: values enter as sqlglot literals (`string`), names as quoted identifiers (`ident`,
`col`), and `paren` keeps hand-built trees in shape (sqlglot adds no parentheses by precedence).
"""

from __future__ import annotations

from meshc.engines._duckdb.sqlbuild import (
    alias,
    and_all,
    case,
    col,
    fn,
    ident,
    is_null,
    not_null,
    or_all,
    paren,
    select,
    string,
)
from meshc.engines._duckdb.translate import Translator

__all__ = [
    "Translator",
    "alias",
    "and_all",
    "case",
    "col",
    "fn",
    "ident",
    "is_null",
    "not_null",
    "or_all",
    "paren",
    "select",
    "string",
]
