"""Database tables as sources and targets, on a real PostgreSQL server (tests/storage/
postgres_server.py: Debian's initdb/pg_ctl on 127.0.0.1) and on DuckDB database files.

The seed orders land in both as a raw table (every column text, the empty id NULL, as the CSV
reads): every engine splits a table or query of it exactly as it splits the CSV, writes valid and
quarantine back as tables in one transaction, and a failure at commit leaves the previous tables
as they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from meshc import DataProcessor
from meshc.errors import ContractError, SourceError, WriteError
from tests.conftest import run_meshc
from tests.spark_splits import NOW, SEED, _outcome
from tests.storage.postgres_server import PASSWORD, PostgresServer, postgres_server

pytest.importorskip("adbc_driver_postgresql", reason="pip install 'meshc[postgresql]'")

CONTRACT = SEED / "orders.yaml"
COLUMNS = ("order_id", "order_amount", "order_date", "order_status")
ENGINES = ("polars", "pandas", "duckdb")
QUERY = "SELECT order_id, order_amount, order_date, order_status FROM orders"


def _seed() -> pa.Table:
    """The seed CSV as a raw landing table: text columns, an empty field NULL."""
    return pacsv.read_csv(
        SEED / "orders.csv",
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(COLUMNS, pa.string()), strings_can_be_null=True
        ),
    )


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The server, with the owner role `meshc`, a `reader` role, and shop.public.orders."""
    for server in postgres_server():
        server.execute(
            f"CREATE ROLE meshc LOGIN PASSWORD '{PASSWORD}'",
            f"CREATE ROLE reader LOGIN PASSWORD '{PASSWORD}'",
            "CREATE DATABASE shop OWNER meshc",
        )
        with server.connect("shop", "meshc") as conn, conn.cursor() as cur:
            cur.adbc_ingest("orders", _seed(), mode="create")
        yield server


@pytest.fixture
def pg(postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> PostgresServer:
    """The server, with PGPASSWORD set (never in a URL) and the tables of earlier tests gone."""
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    if not postgres.running:
        postgres.start()
    tables = [
        t
        for (t,) in postgres.rows(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'orders'",
            "shop",
        )
    ]
    postgres.execute(*(f'DROP TABLE "{t}"' for t in tables), database="shop")
    return postgres


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A DuckDB database file holding main.orders (the seed, as in PostgreSQL)."""
    import duckdb

    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:
        seed = _seed()  # noqa: F841 - read by name by DuckDB's replacement scan
        conn.execute("CREATE TABLE orders AS SELECT * FROM seed")
    return path


@pytest.fixture(scope="module")
def local() -> dict[str, dict[str, Any]]:
    """The outcome of the local-file run of the seed on each engine: what every table run gives."""
    return {
        engine: _outcome(
            DataProcessor(CONTRACT, engine=engine, now=NOW).run_source(
                SEED / "orders.csv", write=False
            )
        )
        for engine in ENGINES
    }


def _run(engine: str, source: str, root: Path, **targets: Any) -> Any:
    return DataProcessor(CONTRACT, engine=engine, now=NOW, root=root).run_source(source, **targets)


def _pg_written(pg: PostgresServer, table: str) -> dict[str, Any]:
    """ids (and each quarantined id's rule ids) of a table meshc wrote."""
    import json

    columns = "order_id, _meshc_reasons::text" if table.startswith("q") else "order_id, NULL"
    rows = pg.rows(f"SELECT {columns} FROM {table}", "shop")
    return _written(rows, json.loads)


def _duck_written(path: Path, table: str) -> dict[str, Any]:
    import duckdb

    columns = "order_id, _meshc_reasons" if table.startswith("q") else "order_id, NULL"
    with duckdb.connect(str(path), read_only=True) as conn:
        return _written(conn.execute(f"SELECT {columns} FROM {table}").fetchall(), lambda r: r)


def _written(rows: list[Any], reasons: Any) -> dict[str, Any]:
    return {
        "ids": sorted(str(i) for i, _ in rows),
        "rules": sorted(
            [str(i), sorted(r["rule_id"] for r in reasons(rs))] for i, rs in rows if rs is not None
        ),
    }


def _expected_tables(outcome: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    quarantined = outcome["quarantined"]
    valid = {"ids": outcome["valid"], "rules": []}
    return valid, {"ids": sorted(i for i, _ in quarantined), "rules": quarantined}


# -- sources and targets ------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("read", ["table", "query"])
def test_postgresql_table_or_query_to_tables_splits_as_the_csv(
    pg: PostgresServer, local: dict[str, Any], tmp_path: Path, engine: str, read: str
) -> None:
    shop = pg.url("shop", "meshc")
    source = f"{shop}#public.orders" if read == "table" else None
    if source is None:  # a query is declared by the contract (connection + query)
        contract = _contract(tmp_path, f"source: {{connection: '{shop}', query: '{QUERY}'}}")
        processor = DataProcessor(contract, engine=engine, now=NOW, root=tmp_path)
        result = processor.run_source(output=f"{shop}#valid", quarantine=f"{shop}#quarantine")
    else:
        result = _run(
            engine, source, tmp_path, output=f"{shop}#valid", quarantine=f"{shop}#quarantine"
        )
    assert _outcome(result) == local[engine]
    valid, quarantine = _expected_tables(local[engine])
    assert _pg_written(pg, "valid") == valid
    assert _pg_written(pg, "quarantine") == quarantine
    assert result.published["valid"] == {"location": f"{shop}#valid", "rows": 7}
    # lineage names the table the rows came from, as OpenLineage names a PostgreSQL table
    assert result.lineage["inputs"] == [
        {
            "namespace": f"postgres://127.0.0.1:{pg.port}",
            "name": "shop.public.orders" if read == "table" else "shop.orders",
            "format": "table",
        }
    ]
    assert pg.rows(
        "SELECT data_type FROM information_schema.columns WHERE table_name = "
        "'quarantine' AND column_name = '_meshc_reasons'",
        "shop",
    ) == [("jsonb",)]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("read", ["table", "query"])
def test_duckdb_file_table_or_query_to_tables_splits_as_the_csv(
    warehouse: Path, local: dict[str, Any], tmp_path: Path, engine: str, read: str
) -> None:
    db = f"duckdb:{warehouse}"
    if read == "table":
        result = _run(
            engine,
            f"{db}#main.orders",
            tmp_path,
            output=f"{db}#valid",
            quarantine=f"{db}#quarantine",
        )
    else:
        contract = _contract(tmp_path, f"source: {{connection: '{db}', query: '{QUERY}'}}")
        processor = DataProcessor(contract, engine=engine, now=NOW, root=tmp_path)
        result = processor.run_source(output=f"{db}#valid", quarantine=f"{db}#quarantine")
    assert _outcome(result) == local[engine]
    valid, quarantine = _expected_tables(local[engine])
    assert _duck_written(warehouse, "valid") == valid
    assert _duck_written(warehouse, "quarantine") == quarantine  # reasons stay nested
    assert result.lineage["inputs"][0]["namespace"] == f"duckdb://{warehouse.resolve()}"


def _contract(tmp_path: Path, *sections: str) -> Path:
    """The seed contract with other `source`/`output`/`quarantine` sections."""
    text = CONTRACT.read_text(encoding="utf-8").replace(
        'quarantine: {enabled: true, target: "quarantine/crm/orders", include_error_reason: true}\n',
        "",
    )
    path = tmp_path / "orders.yaml"
    path.write_text(text + "\n".join(sections) + "\n", encoding="utf-8")
    return path


def _declared_targets(tmp_path: Path, connection: str, mode: str, source: str) -> Path:
    return _contract(
        tmp_path,
        f"source: {{connection: '{source.split('#')[0]}', table: '{source.split('#')[1]}'}}",
        f"output: {{connection: '{connection}', table: sales.valid_orders, mode: {mode}}}",
        f"quarantine: {{enabled: true, connection: '{connection}', table: sales.bad_orders, "
        f"mode: {mode}}}",
    )


@pytest.mark.parametrize("mode, rows", [("append", (14, 10)), ("overwrite", (7, 5))])
def test_declared_postgresql_targets_append_or_overwrite(
    pg: PostgresServer, tmp_path: Path, mode: str, rows: tuple[int, int]
) -> None:
    shop = pg.url("shop", "meshc")
    pg.execute("CREATE SCHEMA IF NOT EXISTS sales AUTHORIZATION meshc", database="shop")
    pg.execute("DROP TABLE IF EXISTS sales.valid_orders, sales.bad_orders", database="shop")
    contract = _declared_targets(tmp_path, shop, mode, f"{shop}#orders")
    for _ in range(2):
        DataProcessor(contract, root=tmp_path, now=NOW).run_source()
    counted = pg.rows(
        "SELECT (SELECT count(*) FROM sales.valid_orders), (SELECT count(*) FROM sales.bad_orders)",
        "shop",
    )
    assert counted == [rows]


@pytest.mark.parametrize("mode, rows", [("append", (14, 10)), ("overwrite", (7, 5))])
def test_declared_duckdb_targets_append_or_overwrite_under_the_root(
    warehouse: Path, tmp_path: Path, mode: str, rows: tuple[int, int]
) -> None:
    import duckdb

    root = tmp_path / "lake"
    root.mkdir()
    with duckdb.connect(str(root / "silver.duckdb")) as conn:
        conn.execute("CREATE SCHEMA sales")
    # a relative duckdb: target lives under the root, as a declared folder target does
    contract = _declared_targets(
        tmp_path, "duckdb:silver.duckdb", mode, f"duckdb:{warehouse}#orders"
    )
    for _ in range(2):
        DataProcessor(contract, engine="duckdb", root=root, now=NOW).run_source()
    with duckdb.connect(str(root / "silver.duckdb"), read_only=True) as conn:
        counted = conn.execute(
            "SELECT (SELECT count(*) FROM sales.valid_orders), (SELECT count(*) FROM sales.bad_orders)"
        ).fetchall()
    assert counted == [rows]


# -- failures leave the previous tables ---------------------------------------------------------
def _snapshot(pg: PostgresServer) -> list[Any]:
    return pg.rows(
        "SELECT 'v', count(*), min(_meshc_run_id) FROM valid UNION ALL "
        "SELECT 'q', count(*), min(_meshc_run_id) FROM quarantine ORDER BY 1",
        "shop",
    )


def _first_run(pg: PostgresServer, tmp_path: Path) -> list[Any]:
    shop = pg.url("shop", "meshc")
    _run(
        "polars",
        f"{shop}#orders",
        tmp_path,
        output=f"{shop}#valid",
        quarantine=f"{shop}#quarantine",
    )
    before = _snapshot(pg)
    assert [row[:2] for row in before] == [("q", 5), ("v", 7)]
    return before


def test_server_stopped_at_commit_leaves_the_previous_tables(
    pg: PostgresServer, tmp_path: Path
) -> None:
    before = _first_run(pg, tmp_path)
    shop = pg.url("shop", "meshc")

    def stop_at_commit(line: str) -> None:
        if line.startswith("commit:") and "to storage" in line:
            pg.stop("immediate")

    processor = DataProcessor(CONTRACT, now=NOW, root=tmp_path, progress=stop_at_commit)
    with pytest.raises(WriteError, match=r"cannot write .*#valid.*rolled back"):
        processor.run_source(
            f"{shop}#orders", output=f"{shop}#valid", quarantine=f"{shop}#quarantine"
        )
    pg.start()
    assert _snapshot(pg) == before


def test_permission_denied_on_one_table_rolls_back_both(pg: PostgresServer, tmp_path: Path) -> None:
    before = _first_run(pg, tmp_path)
    # reader may replace `valid` but not `quarantine`: valid is truncated and refilled first,
    # then the quarantine is refused, and the one transaction takes valid back too
    pg.execute(
        "GRANT SELECT ON orders TO reader",
        "GRANT SELECT, INSERT, TRUNCATE ON valid TO reader",
        "GRANT SELECT ON quarantine TO reader",
        database="shop",
    )
    shop = pg.url("shop", "reader")
    with pytest.raises(WriteError, match=r"(?s)#quarantine.*permission denied.*rolled back"):
        _run(
            "polars",
            f"{shop}#orders",
            tmp_path,
            output=f"{shop}#valid",
            quarantine=f"{shop}#quarantine",
        )
    assert _snapshot(pg) == before


def test_a_target_table_lacking_an_output_column_is_refused_and_kept(
    pg: PostgresServer, tmp_path: Path
) -> None:
    """overwrite keeps the table's definition: an output column it lacks is named, and nothing
    changes (the valid table, created first in the same transaction, is rolled back too)."""
    pg.execute(
        "CREATE TABLE quarantine (order_id text)",
        "INSERT INTO quarantine VALUES ('kept')",
        "ALTER TABLE quarantine OWNER TO meshc",
        database="shop",
    )
    shop = pg.url("shop", "meshc")
    with pytest.raises(
        WriteError, match=r"#quarantine has no column\(s\) order_amount, order_date"
    ):
        _run("polars", f"{shop}#orders", tmp_path, output=f"{shop}#valid",
             quarantine=f"{shop}#quarantine")  # fmt: skip
    assert pg.rows("SELECT order_id FROM quarantine", "shop") == [("kept",)]
    assert pg.rows("SELECT to_regclass('valid') IS NULL", "shop") == [(True,)]


def test_a_failing_duckdb_table_rolls_back_the_other(warehouse: Path, tmp_path: Path) -> None:
    import duckdb

    db = f"duckdb:{warehouse}"
    targets = {"output": f"{db}#valid", "quarantine": f"{db}#quarantine"}
    _run("duckdb", f"{db}#orders", tmp_path, **targets)
    with duckdb.connect(str(warehouse)) as conn:  # the quarantine table loses a column
        conn.execute("ALTER TABLE quarantine DROP COLUMN order_status")
        before = conn.execute("SELECT count(*), min(_meshc_run_id) FROM valid").fetchall()
    with pytest.raises(WriteError, match=r"#quarantine has no column\(s\) order_status"):
        _run("duckdb", f"{db}#orders", tmp_path, **targets)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        assert conn.execute("SELECT count(*), min(_meshc_run_id) FROM valid").fetchall() == before
        assert conn.execute("SELECT count(*) FROM quarantine").fetchall() == [(5,)]


def test_a_missing_driver_names_the_extra(
    pg: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "adbc_driver_postgresql", None)  # as if not installed
    with pytest.raises(SourceError, match=r"pip install 'meshc\[postgresql\]'"):
        _run("polars", f"{pg.url('shop', 'meshc')}#orders", tmp_path, write=False)


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "query, reason",
    [
        ("DELETE FROM orders", "not a SELECT"),
        ("SELECT 1; DROP TABLE orders", "2 statements"),
        ("SELECT * FROM orders FOR UPDATE", "locks rows"),
    ],
)
def test_a_query_that_is_not_one_select_is_refused(
    pg: PostgresServer, tmp_path: Path, query: str, reason: str
) -> None:
    """Refused by `meshc check` and the loader (MC227), and by the storage layer itself for a
    Location built in code, before anything reaches the server."""
    from meshc.storage.database import fetch
    from meshc.storage.location import parse
    from meshc.storage.spool import Spool

    shop = pg.url("shop", "meshc")
    contract = _contract(tmp_path, f"source: {{connection: '{shop}', query: '{query}'}}")
    with pytest.raises(ContractError, match=f"MC227 .*{reason}"):
        DataProcessor(contract, root=tmp_path)
    with pytest.raises(SourceError, match=reason):
        fetch(parse(shop, query=query), Spool())
    assert pg.rows("SELECT count(*) FROM orders", "shop") == [(12,)]


def test_a_query_runs_read_only(pg: PostgresServer, tmp_path: Path) -> None:
    """Whatever slips past the parser, PostgreSQL itself refuses to write inside the read-only
    transaction: nextval() writes (a sequence), in what parses as a SELECT."""
    pg.execute(
        "CREATE SEQUENCE IF NOT EXISTS ids", "GRANT USAGE ON SEQUENCE ids TO meshc", database="shop"
    )
    query = "SELECT nextval(''ids'')::text AS order_id, order_amount, order_date, order_status FROM orders"
    contract = _contract(
        tmp_path, f"source: {{connection: '{pg.url('shop', 'meshc')}', query: '{query}'}}"
    )
    with pytest.raises(SourceError, match="read-only transaction"):
        DataProcessor(contract, root=tmp_path).run_source(write=False)


@pytest.mark.parametrize(
    "source, message",
    [
        ("{shop}#public.missing", r'relation "public.missing" does not exist'),
        ("postgresql://meshc@127.0.0.1:1/shop#orders", "127.0.0.1.*refused"),
        ("duckdb:{tmp}/absent.duckdb#orders", "no database file .*absent.duckdb"),
        ("duckdb:{warehouse}#missing", "Table with name missing does not exist"),
    ],
)
def test_unreachable_or_missing_sources_fail_clearly(
    pg: PostgresServer, warehouse: Path, tmp_path: Path, source: str, message: str
) -> None:
    source = source.format(shop=pg.url("shop", "meshc"), tmp=tmp_path, warehouse=warehouse)
    with pytest.raises(SourceError, match=f"cannot read .*{message}"):
        _run("polars", source, tmp_path, write=False)


def test_cli_missing_table_exits_2_without_traceback(pg: PostgresServer, tmp_path: Path) -> None:
    contract = _contract(
        tmp_path, f"source: {{connection: '{pg.url('shop', 'meshc')}', table: sales.nowhere}}"
    )
    done = run_meshc("run", "-c", str(contract), "--root", str(tmp_path))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert 'relation "sales.nowhere" does not exist' in done.stderr + done.stdout


def test_a_table_name_is_quoted_never_pasted(pg: PostgresServer, tmp_path: Path) -> None:
    """A `table:` holding SQL names a (missing) table with that odd name; nothing else runs."""
    source = f"{pg.url('shop', 'meshc')}#orders; DROP TABLE orders"
    with pytest.raises(SourceError, match="does not exist"):
        _run("polars", source, tmp_path, write=False)
    assert pg.rows("SELECT count(*) FROM orders", "shop") == [(12,)]


# -- Spark: JDBC straight to the executors ------------------------------------------------------
@pytest.mark.spark
@pytest.mark.slow
def test_spark_reads_postgresql_through_jdbc(
    pg: PostgresServer, warehouse: Path, tmp_path: Path, spark_session: Any
) -> None:
    from meshc.engines.registry import get_engine

    engine = get_engine("spark", session=spark_session)
    expected = _outcome(
        DataProcessor(CONTRACT, engine=engine, now=NOW).run_source(SEED / "orders.csv", write=False)
    )
    shop = pg.url("shop", "meshc")
    table = _run(
        engine,
        f"{shop}#public.orders",
        tmp_path,
        output=f"{shop}#valid",
        quarantine=f"{shop}#quarantine",
    )
    assert _outcome(table) == expected
    assert _pg_written(pg, "valid") == _expected_tables(expected)[0]
    assert _pg_written(pg, "quarantine") == _expected_tables(expected)[1]
    contract = _contract(tmp_path, f"source: {{connection: '{shop}', query: '{QUERY}'}}")
    query = DataProcessor(contract, engine=engine, now=NOW, root=tmp_path).run_source(write=False)
    assert _outcome(query) == expected
    # a DuckDB file is fetched on the driver, then read as Parquet
    duck = _run(engine, f"duckdb:{warehouse}#orders", tmp_path, write=False)
    assert _outcome(duck) == expected


def test_the_docs_example_locations_pass_check(tmp_path: Path) -> None:
    """The locations of docs/storage.md's Databases section, in the seed contract, pass
    `meshc check` (which connects to nothing)."""
    from tests.conftest import ROOT

    section = (ROOT / "docs" / "storage.md").read_text(encoding="utf-8").split("## Databases")[1]
    block = section.split("```yaml\n")[1].split("```")[0]
    done = run_meshc("check", str(_contract(tmp_path, block)))
    assert done.returncode == 0, done.stdout + done.stderr
