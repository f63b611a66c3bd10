"""Database tables as sources and targets: PostgreSQL (through ADBC) and DuckDB database files.

    fetch     a table, or the contract's one SELECT, streamed batch by batch into one Parquet
              file of the spool (bounded memory), which every engine reads as any Parquet source.
              A query runs as it is, inside a READ ONLY transaction (PostgreSQL) or on a read-only
              connection (DuckDB), after meshc.storage.query has refused anything but one SELECT.
    publish   staged Parquet outputs -> tables: every table of one database in ONE transaction.
              Each file is loaded into a staging table (ADBC ingest / DuckDB's Parquet reader),
              then `overwrite` = TRUNCATE + INSERT (the table keeps its columns, grants, indexes
              and dependent views) and `append` = INSERT; a missing table is created from the
              output's columns. Committed once; any failure rolls everything back.

Names are never pasted into SQL: a `[catalog.]schema.table` text is parsed by sqlglot, normalised
as the database would (PostgreSQL folds unquoted names to lower case) and rendered quoted. Values
(file paths, names looked up) travel as bound parameters.

`_meshc_reasons` (a list of structs) cannot be ingested by ADBC: PostgreSQL receives it as JSON
text cast to jsonb; DuckDB keeps it nested.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshc.errors import SourceError, WriteError
from meshc.storage.location import Location
from meshc.storage.sources import LocalFiles
from meshc.storage.spool import Spool
from meshc.storage.support import REQUIRES

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

    from meshc.storage.publish import Staged

REASONS = "_meshc_reasons"  # meshc.engines.base.REASONS, without importing the engines
BATCH_ROWS = 65_536  # rows per batch when re-reading a staged file (bounded memory)
_DIALECTS = {"postgresql": "postgres", "duckdb": "duckdb"}


# -- names and inputs ---------------------------------------------------------------------------
def quoted_table(name: str, scheme: str) -> exp.Table:
    """`[catalog.]schema.table` as a sqlglot tree, normalised as the database reads an unquoted
    name and quoted. Raises ValueError for text that is not a table name."""
    from sqlglot import exp
    from sqlglot.errors import ParseError
    from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

    dialect = _DIALECTS[scheme]
    try:
        table = exp.to_table(name, dialect=dialect)
    except ParseError as exc:
        raise ValueError(f"'{name}' is not a table name: {exc}") from None
    if not isinstance(table.this, exp.Identifier) or not table.name:
        raise ValueError(f"'{name}' is not a table name: write [schema.]table")
    table = normalize_identifiers(table, dialect=dialect)
    for part in table.parts:
        part.set("quoted", True)
    return table


def table_sql(name: str, scheme: str) -> str:
    """The quoted table name as SQL text of the database's dialect (for Spark's JDBC `dbtable`)."""
    return quoted_table(name, scheme).sql(_DIALECTS[scheme])


def inputs(location: Location) -> list[dict[str, Any]]:
    """The lineage inputs of a database source: its table, or the tables its query reads (the
    names as the query writes them; a query reading no table names the database itself)."""
    from meshc.lineage.naming import dataset

    if location.table:
        return [{**dataset(location.text), "format": "table"}]
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(location.query or "", read=_DIALECTS[location.scheme])
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    names = sorted(
        {".".join(p.name for p in t.parts) for t in tree.find_all(exp.Table) if t.name not in ctes}
    )
    base = dataset(f"{location.url}#")
    if not names:
        return [{**base, "name": base["name"].rstrip(".") or location.url, "format": "table"}]
    return [{**dataset(f"{location.url}#{n}"), "format": "table"} for n in names]


def anchored(location: Location, root: Path) -> Location:
    """A declared DuckDB target with a relative file path, resolved against the project root
    (sources resolve against the working directory, as local files do)."""
    from dataclasses import replace

    path = duckdb_file(location)
    if location.scheme != "duckdb" or path.is_absolute():
        return location
    return replace(location, url=f"duckdb:{(root / path).resolve()}")


def duckdb_file(location: Location) -> Path:
    """The database file of `duckdb:path` (or `duckdb:///abs/path`)."""
    text = location.url.split(":", 1)[1]
    return Path(text[2:] if text.startswith("//") else text)


def _require(scheme: str, error: type[Exception], text: str) -> None:
    module, extra = REQUIRES[scheme]
    try:
        __import__(module)
    except ImportError:
        raise error(
            f"{text} is a {scheme} database and its driver ({module}) is not installed: "
            f"pip install '{extra}'"
        ) from None


# -- fetch --------------------------------------------------------------------------------------
def fetch(location: Location, spool: Spool) -> LocalFiles:
    """The table or query of `location`, exported to one Parquet file in `spool`."""
    _require(location.scheme, SourceError, location.text)
    if location.query is not None and location.table is None:
        from meshc.storage.query import query_problem

        problem = query_problem(location.query, location.scheme)
        if problem is not None:
            raise SourceError(f"{location.text}: {problem}; nothing was read")
    file = spool.folder("source") / "data.parquet"
    try:
        (_fetch_postgresql if location.scheme == "postgresql" else _fetch_duckdb)(location, file)
    except ValueError as exc:  # a table text that is no name
        raise SourceError(f"{location.text}: {exc}; nothing was read") from None
    except Exception as exc:
        if not _database_error(exc):
            raise
        raise SourceError(f"cannot read {location.text}: {_detail(exc)}") from None
    return LocalFiles((str(file),), "parquet", inputs(location))


def _select(location: Location) -> str:
    from sqlglot import exp

    if location.table is None:
        return location.query or ""
    table = quoted_table(location.table, location.scheme)
    return exp.select("*").from_(table).sql(_DIALECTS[location.scheme])


def _fetch_postgresql(location: Location, file: Path) -> int:
    from adbc_driver_postgresql import dbapi

    sql = _select(location)
    with dbapi.connect(location.url) as conn, conn.cursor() as cur:
        cur.execute("SET TRANSACTION READ ONLY")  # the driver has begun a transaction
        cur.execute(sql)
        try:
            return _write_parquet(cur.fetch_record_batch(), file, _plain_batch)
        finally:
            conn.rollback()


def _fetch_duckdb(location: Location, file: Path) -> int:
    import duckdb

    path = duckdb_file(location)
    if not path.is_file():
        raise SourceError(f"cannot read {location.text}: no database file {path.resolve()}")
    conn = duckdb.connect(str(path), read_only=True)
    try:
        relation = (
            conn.sql(location.query or "")
            if location.table is None
            else conn.table(quoted_table(location.table, "duckdb").sql("duckdb"))
        )
        reader = relation.to_arrow_reader(BATCH_ROWS)
        try:
            return _write_parquet(reader, file, lambda b: b)
        finally:
            reader.close()
    finally:
        conn.close()


def _write_parquet(reader: pa.RecordBatchReader, file: Path, convert: Any) -> int:
    """Every batch of `reader` (converted) into one Parquet file; the number of rows."""
    import pyarrow.parquet as pq

    rows, writer = 0, None
    try:
        for batch in reader:
            batch = convert(batch)
            if writer is None:
                writer = pq.ParquetWriter(file, batch.schema)
            writer.write_batch(batch)
            rows += batch.num_rows
        if writer is None:  # no rows: the columns still count
            writer = pq.ParquetWriter(file, _plain_schema(reader.schema))
    finally:
        if writer is not None:
            writer.close()
    return rows


def _plain_schema(schema: pa.Schema) -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            pa.field(
                f.name, f.type.storage_type if isinstance(f.type, pa.ExtensionType) else f.type
            )
            for f in schema
        ]
    )


def _plain_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """PostgreSQL types ADBC hands over as Arrow extension types (numeric, json, uuid...) as
    their storage (text): every engine reads that, and the contract's type casts it."""
    import pyarrow as pa

    columns = [c.storage if isinstance(c.type, pa.ExtensionType) else c for c in batch.columns]
    return pa.RecordBatch.from_arrays(columns, schema=_plain_schema(batch.schema))


# -- publish ------------------------------------------------------------------------------------
def publish(staged: Sequence[Staged]) -> dict[str, dict[str, Any]]:
    """Every staged output into its table; one transaction per database (connection URL)."""
    done: dict[str, dict[str, Any]] = {}
    by_database: dict[tuple[str, str], list[Staged]] = {}
    for item in staged:
        by_database.setdefault((item.location.scheme, item.location.url), []).append(item)
    for (scheme, _url), items in by_database.items():
        names = ", ".join(s.location.text for s in items)
        _require(scheme, WriteError, names)
        try:
            tables = [(s, quoted_table(s.location.table or "", scheme)) for s in items]
            (_publish_postgresql if scheme == "postgresql" else _publish_duckdb)(tables)
        except ValueError as exc:
            raise WriteError(f"cannot write {names}: {exc}; nothing was written") from None
        except Exception as exc:
            if not _database_error(exc):
                raise
            raise WriteError(
                f"cannot write {names}: {_detail(exc)}; the transaction was rolled back, "
                "the tables are as they were"
            ) from None
        for item in items:
            done[item.role] = {"location": item.location.text, "rows": _rows(item.file)}
    return done


def _publish_postgresql(tables: list[tuple[Staged, exp.Table]]) -> None:
    from adbc_driver_postgresql import dbapi

    with dbapi.connect(tables[0][0].location.url) as conn:
        try:
            with conn.cursor() as cur:
                for number, (item, table) in enumerate(tables):
                    stage = f"_meshc_stage_{os.getpid()}_{number}"
                    cur.adbc_ingest(stage, _json_reasons(item.file), mode="create", temporary=True)
                    existing = _pg_columns(cur, table)
                    _load(cur, item, table, existing, _staged_columns(item.file), stage, "postgres")
            conn.commit()
        except BaseException:
            _quietly_rollback(conn)
            raise


def _pg_columns(cur: Any, table: exp.Table) -> list[str] | None:
    """The table's columns in order, None when it does not exist (resolved by PostgreSQL itself,
    search_path included, from the quoted name passed as a value)."""
    cur.execute("SELECT to_regclass($1) IS NOT NULL", parameters=(table.sql("postgres"),))
    if not cur.fetchone()[0]:
        return None
    cur.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        parameters=(table.sql("postgres"),),
    )
    return [row[0] for row in cur.fetchall()]


def _publish_duckdb(tables: list[tuple[Staged, exp.Table]]) -> None:
    import duckdb

    path = duckdb_file(tables[0][0].location)
    path.parent.mkdir(parents=True, exist_ok=True)  # a new database file, as a folder target
    conn = duckdb.connect(str(path))
    try:
        conn.begin()
        for item, table in tables:
            try:
                existing: list[str] | None = conn.table(table.sql("duckdb")).columns
            except duckdb.CatalogException:
                existing = None
            cursor = _DuckCursor(conn, str(item.file))
            _load(cursor, item, table, existing, _staged_columns(item.file), None, "duckdb")
        conn.commit()
    except BaseException:
        _quietly_rollback(conn)
        raise
    finally:
        conn.close()


class _DuckCursor:
    """DuckDB's connection as `_load` drives it: every statement reads the staged file, bound as
    the parameter of read_parquet(?)."""

    def __init__(self, conn: Any, file: str) -> None:
        self.conn, self.file = conn, file

    def execute(self, sql: str) -> None:
        self.conn.execute(sql, [self.file] if "?" in sql else [])


def _load(
    cur: Any,
    item: Staged,
    table: exp.Table,
    existing: list[str] | None,
    columns: list[str],
    stage: str | None,
    dialect: str,
) -> None:
    """Into `table` from the staging table `stage` (PostgreSQL) or the staged file (DuckDB):
    create it when missing, else TRUNCATE (overwrite) and INSERT the output's columns."""
    from sqlglot import exp

    if existing is not None:
        missing = [c for c in columns if c not in existing]
        if missing:
            raise ValueError(
                f"{item.location.text} has no column(s) {', '.join(missing)}: add them, or drop "
                "the table and let meshc create it"
            )
    source: exp.Expression = (
        exp.table_(stage, quoted=True)
        if stage is not None
        else exp.Anonymous(this="read_parquet", expressions=[exp.Placeholder()])
    )
    select = exp.select(*[_column(c, dialect) for c in columns]).from_(source)
    if existing is None:
        cur.execute(exp.Create(this=table, kind="TABLE", expression=select).sql(dialect))
        return
    if item.location.mode == "overwrite":
        cur.execute(exp.TruncateTable(expressions=[table]).sql(dialect))
    names = [exp.to_identifier(c, quoted=True) for c in columns]
    cur.execute(exp.insert(select, table, columns=names).sql(dialect))


def _column(name: str, dialect: str) -> exp.Expr:
    from sqlglot import exp

    column: exp.Expr = exp.column(name, quoted=True)
    if name == REASONS and dialect == "postgres":  # staged as JSON text (_json_reasons)
        return exp.alias_(exp.cast(column, "jsonb", dialect="postgres"), name, quoted=True)
    return column


def _staged_columns(file: Path) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(file).names)


def _rows(file: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(file).metadata.num_rows)


def _json_reasons(file: Path) -> pa.RecordBatchReader:
    """The staged file as a stream of batches, `_meshc_reasons` as compact JSON text (ADBC does
    not ingest nested types; PostgreSQL casts the text to jsonb)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(file)
    schema = parquet.schema_arrow
    if REASONS not in schema.names:
        return pa.RecordBatchReader.from_batches(schema, parquet.iter_batches(BATCH_ROWS))
    index = schema.get_field_index(REASONS)
    target = schema.set(index, pa.field(REASONS, pa.string()))

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in parquet.iter_batches(BATCH_ROWS):
            text = [
                None if r is None else json.dumps(r, ensure_ascii=False, separators=(",", ":"))
                for r in batch.column(index).to_pylist()
            ]
            columns = list(batch.columns)
            columns[index] = pa.array(text, pa.string())
            yield pa.RecordBatch.from_arrays(columns, schema=target)

    return pa.RecordBatchReader.from_batches(target, batches())


# -- errors -------------------------------------------------------------------------------------
def _database_error(exc: BaseException) -> bool:
    """Whether `exc` comes from the database or its driver (not a bug of meshc's)."""
    module = type(exc).__module__ or ""
    return module.startswith(("adbc_driver", "_duckdb", "duckdb")) or isinstance(exc, OSError)


def _detail(exc: BaseException) -> str:
    """The driver's message without its internal prefixes and trailing noise."""
    text = " ".join(str(exc).split())
    for prefix in ("INVALID_STATE: ", "IO: ", "INTERNAL: ", "NOT_FOUND: ", "UNAUTHENTICATED: "):
        text = text.removeprefix(prefix)
    return text


def _quietly_rollback(conn: Any) -> None:
    """Roll back; a connection the server dropped cannot, and has nothing to keep anyway."""
    with contextlib.suppress(Exception):  # the original error is the one to report
        conn.rollback()
