"""`DataProcessor.run(frame)` takes any frame of the engine's kind, including one from the
caller's own DuckDB connection or Spark session, and splits it as `run_source` does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meshc.runner.processor import DataProcessor

SEED = Path(__file__).resolve().parents[1] / "examples" / "seed"
CONTRACT, CSV = SEED / "orders.yaml", SEED / "orders.csv"


def _split(result: Any) -> tuple[int, int, list[str], list[str]]:
    """Counts and the ids on each side (the quarantine's reasons are compared separately)."""
    valid = sorted(map(str, result.valid_arrow().column("order_id").to_pylist()))
    quarantined = sorted(map(str, result.quarantine_arrow().column("order_id").to_pylist()))
    return result.rows_valid, result.rows_quarantined, valid, quarantined


def _reasons(result: Any) -> list[tuple[str, list[str]]]:
    table = result.quarantine_arrow()
    ids = [str(i) for i in table.column("order_id").to_pylist()]
    rules = [sorted(r["rule_id"] for r in rs) for rs in table.column("_meshc_reasons").to_pylist()]
    return sorted(zip(ids, rules, strict=True))


@pytest.fixture(scope="module")
def expected() -> tuple[tuple[int, int, list[str], list[str]], list[tuple[str, list[str]]]]:
    with DataProcessor(CONTRACT, engine="polars") as processor:
        result = processor.run_source(CSV, write=False)
        return _split(result), _reasons(result)


def test_duckdb_relation_from_the_callers_connection(expected: Any) -> None:
    import duckdb

    con = duckdb.connect()  # the caller's connection, not the engine's
    try:
        relation = con.read_csv(str(CSV), all_varchar=True)
        with DataProcessor(CONTRACT, engine="duckdb") as processor:
            result = processor.run(relation)
            assert (_split(result), _reasons(result)) == expected
    finally:
        con.close()


def test_duckdb_table_of_a_database_file(tmp_path: Path, expected: Any) -> None:
    """The issue's example: a table of the caller's warehouse file, typed columns."""
    import duckdb

    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    try:
        con.execute(
            "CREATE TABLE orders AS SELECT * FROM read_csv(?, all_varchar=true)", [str(CSV)]
        )
        with DataProcessor(CONTRACT, engine="duckdb") as processor:
            result = processor.run(con.table("orders"))
            assert (_split(result), _reasons(result)) == expected
        # the caller's connection is still theirs, open and unchanged
        assert con.table("orders").count("*").fetchall() == [(12,)]
    finally:
        con.close()


def test_duckdb_relation_of_the_engines_own_connection(expected: Any) -> None:
    with DataProcessor(CONTRACT, engine="duckdb") as processor:
        con = processor.engine.con  # type: ignore[attr-defined]
        result = processor.run(con.read_csv(str(CSV), all_varchar=True))
        assert (_split(result), _reasons(result)) == expected


def test_polars_frames(expected: Any) -> None:
    import polars as pl

    frame = pl.read_csv(CSV, infer_schema=False)
    with DataProcessor(CONTRACT, engine="polars") as processor:
        for given in (frame, frame.lazy()):
            result = processor.run(given)
            assert (_split(result), _reasons(result)) == expected


def test_pandas_frame(expected: Any) -> None:
    import pandas as pd

    frame = pd.read_csv(CSV, dtype=str, keep_default_na=False)
    with DataProcessor(CONTRACT, engine="pandas") as processor:
        result = processor.run(frame)
        assert (_split(result), _reasons(result)) == expected


@pytest.mark.spark
@pytest.mark.slow
def test_spark_frame_of_the_callers_session(spark_session: Any, expected: Any) -> None:
    from meshc.engines.registry import get_engine

    frame = spark_session.read.csv(str(CSV), header=True)  # all columns as strings
    for engine in ("spark", get_engine("spark", session=spark_session)):
        with DataProcessor(CONTRACT, engine=engine) as processor:
            result = processor.run(frame)
            assert (_split(result), _reasons(result)) == expected
