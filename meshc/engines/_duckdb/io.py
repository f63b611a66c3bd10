"""Reading sources into DuckDB relations and writing relations out with COPY ... TO.

Text formats are read with every column as VARCHAR (CSV `all_varchar`, JSON through meshc's
own reader, `sourcespec.read_json_table`), so casting and its failures are meshc's job. File
names and options enter the SQL as sqlglot literals. CSV and Parquet reads stay lazy: a relation
is only a query until something consumes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlglot import exp

from meshc.engines import sourcespec, spec
from meshc.engines import sql_trees as sb
from meshc.engines.base import REASONS
from meshc.errors import SourceError, WriteError

_FORMATS = {"parquet": "PARQUET", "csv": "CSV", "json": "JSON", "ndjson": "JSON"}
# Timestamps in CSV and JSON as every engine writes them (Polars, Spark): ISO with a 'T', six
# fraction digits and 'Z' for a UTC instant. DuckDB's own text ('2024-06-01 10:00:00.5+00') has
# an offset without minutes, a form meshc does not read back. The session time zone is UTC.
_TIMESTAMP_TEXT = {
    "TIMESTAMP WITH TIME ZONE": "%Y-%m-%dT%H:%M:%S.%fZ",
    "TIMESTAMP": "%Y-%m-%dT%H:%M:%S.%f",
}


def _param(name: str, value: exp.Expression) -> exp.PropertyEQ:
    return exp.PropertyEQ(this=exp.to_identifier(name), expression=value)


def _files(paths: Sequence[str]) -> exp.Array:
    return exp.Array(expressions=[sb.string(str(p)) for p in paths])


def _scan(function: str, args: list[exp.Expression]) -> exp.Select:
    table = exp.Table(this=exp.Anonymous(this=function, expressions=args))
    return sb.select(exp.Star()).from_(table)


# read_csv's strict_mode (DuckDB 1.2+; older versions have no such option and no such strictness)
_HAS_STRICT_MODE = tuple(int(p) for p in duckdb.__version__.split(".")[:2]) >= (1, 2)


def read(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[str],
    fmt: str,
    *,
    delimiter: str,
    header: bool,
    required: Sequence[str] = (),
) -> duckdb.DuckDBPyRelation:
    """A lazy relation over all files (concatenated by column name); `required` (the contract
    columns) must be in every CSV and Parquet file (sourcespec)."""
    kind, found = spec.source_files(
        paths, fmt, delimiter=delimiter, header=header, required=required
    )
    query: exp.Expression
    if kind == "csv":
        scans: list[exp.Expression] = [_csv_query(p, found[p], delimiter, header) for p in paths]
        query = reduce(
            lambda a, b: exp.Union(this=a, expression=b, distinct=False, by_name=True), scans
        )
    elif kind == "parquet":
        parquet = _scan("read_parquet", [_files(paths), _param("union_by_name", exp.true())])
        unread = sourcespec.unread_columns(found)  # meshc reads flat columns only (sourcespec)
        if unread:
            parquet = parquet.select(exp.Star(except_=[sb.col(n) for n in unread]), append=False)
        query = parquet
    elif kind in ("json", "ndjson"):
        # meshc's own JSON reader: numbers keep their source text, objects their JSON text
        tables = [sourcespec.read_json_table(p) for p in paths]
        return con.from_arrow(pa.concat_tables(tables, promote_options="default"))
    else:
        raise AssertionError(fmt)  # spec.source_files refuses unknown formats
    try:
        return con.sql(sb.render(query))
    except duckdb.Error as exc:
        raise SourceError(f"cannot read {', '.join(map(str, paths))}: {exc}") from None


def _csv_query(path: str, names: Sequence[str], delimiter: str, header: bool) -> exp.Select:
    """One file, its dialect pinned (DuckDB's sniffer would otherwise guess quotes, comments and
    line endings) and its header names as sourcespec read them (DuckDB trims spaces)."""
    args = [
        _files([path]),
        _param("all_varchar", exp.true()),
        _param("header", exp.true() if header else exp.false()),
        _param("delim", sb.string(delimiter)),
        _param("quote", sb.string(sourcespec.QUOTE)),
        _param("escape", sb.string(sourcespec.QUOTE)),
        _param("comment", sb.string("")),
        # DuckDB reads an empty cell as NULL by default; meshc decides what is NULL from the
        # contract's null_values, so give the reader a null string no file contains.
        _param("nullstr", sb.string(spec.NO_NULL_TEXT)),
    ]
    if _HAS_STRICT_MODE:
        # sourcespec has already checked the structure by meshc's rules; DuckDB's strict mode
        # would refuse more (a file mixing LF and CRLF endings, which every engine reads)
        args.append(_param("strict_mode", exp.false()))
    if names:
        args.append(_param("names", exp.Array(expressions=[sb.string(n) for n in names])))
    return _scan("read_csv", args)


def _one_column_cell(column: exp.Expression, name: str) -> exp.Expression:
    """NULL of a one-column CSV as '' (written `""`): an empty line is not a row to any reader
    (docs/semantics.md). COPY's NULLSTR cannot hold a quote, hence the query."""
    value = column.this if isinstance(column, exp.Alias) else column
    text = sb.cast(value, "VARCHAR")
    return sb.alias(exp.Coalesce(this=text, expressions=[sb.string("")]), name)


def write(
    con: duckdb.DuckDBPyConnection, view: str, names: Sequence[str], path: Path, fmt: str
) -> None:
    """COPY one relation (registered as `view`) to exactly one file at `path`."""
    kind = _FORMATS.get(fmt.lower())
    if kind is None:
        raise WriteError(f"unknown output format '{fmt}' (use parquet, csv or json)")
    types = dict(zip(names, map(str, con.table(view).types), strict=True))
    items: list[exp.Expression] = []
    for name in names:
        column: exp.Expression = sb.col(name)
        stamp = _TIMESTAMP_TEXT.get(types[name])
        if name == REASONS and kind != "PARQUET":  # text formats: the reasons as a JSON array
            column = sb.alias(sb.cast(sb.fn("to_json", column), "VARCHAR"), name)
        elif stamp is not None and kind != "PARQUET":
            column = sb.alias(sb.fn("strftime", column, sb.string(stamp)), name)
        if kind == "CSV" and len(names) == 1:
            column = _one_column_cell(column, name)
        items.append(column)
    query = sb.select(*items).from_(exp.Table(this=sb.ident(view)))
    params = [exp.CopyParameter(this=exp.Var(this="FORMAT"), expression=exp.Var(this=kind))]
    if kind == "PARQUET":
        codec = exp.Var(this=spec.PARQUET_COMPRESSION.upper())
        params.append(exp.CopyParameter(this=exp.Var(this="COMPRESSION"), expression=codec))
    if kind == "CSV":
        params.append(exp.CopyParameter(this=exp.Var(this="HEADER"), expression=exp.true()))
        # no comment character: DuckDB would quote every value holding '#' (its default), which
        # Polars and pandas do not; meshc's readers pin `comment ''` as well
        params.append(exp.CopyParameter(this=exp.Var(this="COMMENT"), expression=sb.string("")))
    copy = exp.Copy(
        this=exp.Subquery(this=query), kind=False, files=[sb.string(str(path))], params=params
    )
    try:
        con.execute(sb.render(copy))
    except duckdb.Error as exc:
        raise WriteError(f"cannot write {path}: {exc}") from None
