"""Reading sources into DuckDB relations and writing relations out with COPY ... TO.

Text formats are read with every column as VARCHAR (CSV `all_varchar`, JSON an explicit VARCHAR
column map), so casting and its failures are meshc's job. File names and options enter the SQL
as sqlglot literals. Reads stay lazy: a relation is only a query until something consumes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
from sqlglot import exp

from meshc.engines._duckdb import sqlbuild as sb
from meshc.engines.base import REASONS
from meshc.errors import SourceError, WriteError

_FORMATS = {"parquet": "PARQUET", "csv": "CSV", "json": "JSON", "ndjson": "JSON"}


def _param(name: str, value: exp.Expression) -> exp.PropertyEQ:
    return exp.PropertyEQ(this=exp.to_identifier(name), expression=value)


def _files(paths: Sequence[str]) -> exp.Array:
    return exp.Array(expressions=[sb.string(str(p)) for p in paths])


def _scan(function: str, args: list[exp.Expression]) -> exp.Select:
    table = exp.Table(this=exp.Anonymous(this=function, expressions=args))
    return sb.select(exp.Star()).from_(table)


_NO_NULL = "\x1fmeshc:no-null\x1f"


def read(
    con: duckdb.DuckDBPyConnection, paths: Sequence[str], fmt: str, *, delimiter: str, header: bool
) -> duckdb.DuckDBPyRelation:
    """A lazy relation over all files (concatenated by column name)."""
    if not paths:
        raise SourceError("no input files given")
    kind = fmt.lower()
    if kind == "csv":
        query = _scan(
            "read_csv",
            [
                _files(paths),
                _param("all_varchar", exp.true()),
                _param("header", exp.true() if header else exp.false()),
                _param("delim", sb.string(delimiter)),
                _param("union_by_name", exp.true()),
                # DuckDB reads an empty cell as NULL by default; meshc decides what is NULL from the
                # contract's null_values, so give the reader a null string no file contains.
                _param("nullstr", sb.string(_NO_NULL)),
            ],
        )
    elif kind == "parquet":
        query = _scan("read_parquet", [_files(paths), _param("union_by_name", exp.true())])
    elif kind in ("json", "ndjson"):
        query = _json_query(con, paths)
    else:
        raise SourceError(f"unknown input format '{fmt}' (use csv, parquet, json or ndjson)")
    try:
        return con.sql(sb.render(query))
    except duckdb.Error as exc:
        raise SourceError(f"cannot read {', '.join(map(str, paths))}: {exc}") from None


def _json_query(con: duckdb.DuckDBPyConnection, paths: Sequence[str]) -> exp.Select:
    """format 'auto' reads a JSON array or NDJSON; a first, detecting scan only names the keys,
    the real scan then reads every key as VARCHAR (objects and arrays come back as JSON text)."""
    base = [_files(paths), _param("format", sb.string("auto"))]
    try:
        names = con.sql(sb.render(_scan("read_json", base))).columns
    except duckdb.Error as exc:
        raise SourceError(f"cannot read {', '.join(map(str, paths))}: {exc}") from None
    columns = exp.Struct(
        expressions=[
            exp.PropertyEQ(this=sb.ident(n), expression=sb.string("VARCHAR")) for n in names
        ]
    )
    return _scan("read_json", [*base, _param("columns", columns)])


def write(
    con: duckdb.DuckDBPyConnection, view: str, names: Sequence[str], path: Path, fmt: str
) -> None:
    """COPY one relation (registered as `view`) to exactly one file at `path`."""
    kind = _FORMATS.get(fmt.lower())
    if kind is None:
        raise WriteError(f"unknown output format '{fmt}' (use parquet, csv or json)")
    items: list[exp.Expression] = []
    for name in names:
        column: exp.Expression = sb.col(name)
        if name == REASONS and kind != "PARQUET":  # text formats: the reasons as a JSON array
            column = sb.alias(sb.cast(sb.fn("to_json", column), "VARCHAR"), name)
        items.append(column)
    query = sb.select(*items).from_(exp.Table(this=sb.ident(view)))
    params = [exp.CopyParameter(this=exp.Var(this="FORMAT"), expression=exp.Var(this=kind))]
    if kind == "CSV":
        params.append(exp.CopyParameter(this=exp.Var(this="HEADER"), expression=exp.true()))
    copy = exp.Copy(
        this=exp.Subquery(this=query), kind=False, files=[sb.string(str(path))], params=params
    )
    try:
        con.execute(sb.render(copy))
    except duckdb.Error as exc:
        raise WriteError(f"cannot write {path}: {exc}") from None
