"""Delta Lake tables as sources and targets (meshc.storage.delta), on real tables written and read
with the deltalake library: the seed orders split identically to the local Parquet run, append and
overwrite, one commit per table, a failed commit putting back what the run committed before it,
versions in lineage, Spark refused with a located message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from meshc import DataProcessor
from meshc.errors import SourceError, WriteError
from tests.conftest import FIXTURES, ROOT, run_meshc

deltalake = pytest.importorskip("deltalake", reason="Delta tables need the delta extra")
from deltalake import DeltaTable, write_deltalake  # noqa: E402

SEED_CSV = ROOT / "examples" / "seed" / "orders.csv"
ENGINES = ["polars", "pandas", "duckdb"]
# what differs between two runs of the same rows
RUN_COLUMNS = {"_meshc_run_id", "_meshc_processed_at", "_meshc_source"}


def _contract(tmp_path: Path, *, source: str = "", output: str = "", quarantine: str = "") -> Path:
    """The seed orders contract with other `source` / `output` / `quarantine` sections."""
    lines = (FIXTURES / "seed_orders.yaml").read_text().splitlines()
    if quarantine:
        lines = [quarantine if line.startswith("quarantine:") else line for line in lines]
    path = tmp_path / "orders.yaml"
    path.write_text("\n".join([*lines, *(s for s in (source, output) if s)]) + "\n")
    return path


DELTA_TARGETS = {
    "output": "output: {target: lake/orders, format: delta, mode: append}",
    "quarantine": "quarantine: {enabled: true, target: lake/orders_quarantine, format: delta, mode: append}",
}


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows without what differs between runs, in a stable order."""
    keep = [c for c in table.column_names if c not in RUN_COLUMNS]
    rows = table.select(keep).to_pylist()
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def _delta(path: Path | str) -> pa.Table:
    return DeltaTable(str(path)).to_pyarrow_table()


def _parquet_run(tmp_path: Path, engine: str, source: Path = SEED_CSV) -> tuple[pa.Table, pa.Table]:
    """The local-file run of the seed contract: its valid and quarantine Parquet files."""
    root = tmp_path / "parquet"
    DataProcessor(FIXTURES / "seed_orders.yaml", engine=engine, root=root).run_source(
        source, output=root / "valid.parquet"
    )
    quarantine = root / "quarantine" / "crm" / "orders" / "data.parquet"
    return pq.read_table(root / "valid.parquet"), pq.read_table(quarantine)


@pytest.mark.parametrize("engine", ENGINES)
def test_seed_orders_to_delta_tables_split_like_the_parquet_run(
    engine: str, tmp_path: Path
) -> None:
    contract = _contract(tmp_path, **DELTA_TARGETS)
    root = tmp_path / "delta"
    result = DataProcessor(contract, engine=engine, root=root).run_source(SEED_CSV)
    assert (result.rows_in, result.rows_valid, result.rows_quarantined) == (12, 7, 5)

    valid, quarantine = _parquet_run(tmp_path, engine)
    assert _rows(_delta(root / "lake/orders")) == _rows(valid)
    # reasons stay nested in Delta: list<struct<rule_id, rule, column, value, message, severity>>
    stored = _delta(root / "lake/orders_quarantine")
    assert pa.types.is_list(stored.schema.field("_meshc_reasons").type)
    assert _rows(stored) == _rows(quarantine)
    assert result.published == {
        "valid": {"location": str(root / "lake/orders"), "version": 0, "rows": 7},
        "quarantine": {"location": str(root / "lake/orders_quarantine"), "version": 0, "rows": 5},
    }


def test_append_twice_doubles_the_rows_and_records_each_version(tmp_path: Path) -> None:
    contract = _contract(tmp_path, **DELTA_TARGETS)
    results = [
        DataProcessor(contract, root=tmp_path).run_source(SEED_CSV),
        DataProcessor(contract, root=tmp_path, engine="duckdb").run_source(SEED_CSV),
    ]
    table = DeltaTable(str(tmp_path / "lake/orders"))
    assert table.version() == 1 and table.count() == 14
    assert DeltaTable(str(tmp_path / "lake/orders_quarantine")).count() == 10
    # the run record and its OpenLineage event name the version each run committed
    record = json.loads(Path(results[1].lineage["record_path"]).read_text())
    assert record["published"]["valid"]["version"] == 1
    event = json.loads(Path(results[1].lineage["openlineage_event"]).read_text())
    outputs = {o["name"]: o["facets"] for o in event["outputs"]}
    assert outputs[str(tmp_path / "lake/orders")]["version"]["datasetVersion"] == "1"
    assert outputs[str(tmp_path / "lake/orders_quarantine")]["version"]["datasetVersion"] == "1"


def test_overwrite_replaces_rows_and_schema(tmp_path: Path) -> None:
    # an older table with another schema: overwrite replaces it, as a Parquet file would be
    write_deltalake(str(tmp_path / "lake/orders"), pa.table({"legacy": [1, 2, 3]}))
    contract = _contract(tmp_path, output="output: {target: lake/orders, format: delta}")
    for _ in range(2):
        DataProcessor(contract, root=tmp_path).run_source(SEED_CSV)
    table = DeltaTable(str(tmp_path / "lake/orders"))
    assert table.version() == 2 and table.count() == 7
    assert "legacy" not in table.schema().to_arrow().names  # type: ignore[attr-defined]
    # the previous version is still there, as Delta keeps it
    assert DeltaTable(str(tmp_path / "lake/orders"), version=0).count() == 3


def test_append_with_another_schema_is_refused_before_any_commit(tmp_path: Path) -> None:
    contract = _contract(tmp_path, **DELTA_TARGETS)
    DataProcessor(contract, root=tmp_path).run_source(SEED_CSV)
    valid_before = _rows(_delta(tmp_path / "lake/orders"))
    # the quarantine table's owner changed its schema: appending would merge or cast silently
    quarantine = tmp_path / "lake/orders_quarantine"
    write_deltalake(
        str(quarantine), pa.table({"order_id": [1]}), mode="overwrite", schema_mode="overwrite"
    )

    proc = run_meshc("run", "-c", str(contract), "-s", str(SEED_CSV), "--root", str(tmp_path))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = " ".join(proc.stderr.split())
    assert "cannot append to the Delta table" in message and "lake/orders_quarantine" in message
    assert "order_id is long in the table, string here" in message, message
    assert "nothing was written" in message and "Traceback" not in proc.stderr
    assert DeltaTable(str(tmp_path / "lake/orders")).version() == 0  # not even committed
    assert _rows(_delta(tmp_path / "lake/orders")) == valid_before


def _refuse_lost_orders(table: Path) -> None:
    """The table's owner removes its rows with status 'lost' and adds a CHECK constraint refusing
    them: the seed's quarantine (ORD-1004 is 'lost') can no longer be committed to it."""
    DeltaTable(str(table)).delete("order_status = 'lost'")
    DeltaTable(str(table)).alter.add_constraint({"no_lost_orders": "order_status <> 'lost'"})


@pytest.mark.parametrize("valid_exists", [True, False], ids=["restored", "removed"])
def test_a_failed_second_commit_puts_the_first_table_back(
    tmp_path: Path, valid_exists: bool
) -> None:
    contract = _contract(tmp_path, **DELTA_TARGETS)
    valid, quarantine = tmp_path / "lake/orders", tmp_path / "lake/orders_quarantine"
    if valid_exists:
        DataProcessor(contract, root=tmp_path).run_source(SEED_CSV)
        before = _rows(_delta(valid))
    else:  # the quarantine table alone exists: the run creates the valid table
        DataProcessor(contract, root=tmp_path).run_source(SEED_CSV, output=tmp_path / "x.parquet")
    # the valid table commits first, then the quarantine commit fails
    _refuse_lost_orders(quarantine)
    quarantine_version = DeltaTable(str(quarantine)).version()
    latest = tmp_path / "_meshc/runs/crm/orders_silver/latest.json"
    record_before = latest.read_text()

    with pytest.raises(WriteError) as failed:
        DataProcessor(contract, root=tmp_path).run_source(SEED_CSV)
    message = str(failed.value)
    assert f"cannot commit to the Delta table {quarantine}" in message
    assert "ORD-1004" not in message  # deltalake's preview of the refused rows is data
    if valid_exists:
        assert f"{valid} restored to version 0" in message
        assert _rows(_delta(valid)) == before  # the latest version holds the rows of before
        assert DeltaTable(str(valid)).count() == 7
    else:
        assert f"{valid} (created by this run) removed" in message
        assert not valid.exists()
    assert DeltaTable(str(quarantine)).version() == quarantine_version
    assert latest.read_text() == record_before  # the failed run left no record


def _seed_as_strings() -> pa.Table:
    """The seed CSV as a table of strings (as a landing table holds raw values)."""
    names = pacsv.read_csv(SEED_CSV).column_names
    options = pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
    return pacsv.read_csv(SEED_CSV, convert_options=options)


@pytest.mark.parametrize("engine", ENGINES)
def test_delta_source_splits_like_the_same_rows_in_parquet(engine: str, tmp_path: Path) -> None:
    rows = _seed_as_strings()
    landing = tmp_path / "landing"
    write_deltalake(str(landing), rows.slice(0, 6))
    write_deltalake(str(landing), rows.slice(6), mode="append")  # version 1: all 12 rows
    pq.write_table(rows, tmp_path / "orders.parquet")

    contract = _contract(tmp_path, source=f"source: {{path: {landing}, format: delta}}")
    root = tmp_path / "from_delta"
    result = DataProcessor(contract, engine=engine, root=root).run_source(
        output=root / "valid.parquet"
    )
    valid, quarantine = _parquet_run(tmp_path, engine, tmp_path / "orders.parquet")
    assert (result.rows_in, result.rows_valid, result.rows_quarantined) == (12, 7, 5)
    assert _rows(pq.read_table(root / "valid.parquet")) == _rows(valid)
    assert _rows(pq.read_table(root / "quarantine/crm/orders/data.parquet")) == _rows(quarantine)
    record = json.loads(Path(result.lineage["record_path"]).read_text())
    assert record["inputs"] == [
        {"namespace": "file", "name": str(landing), "format": "delta", "version": 1}
    ]
    event = json.loads(Path(result.lineage["openlineage_event"]).read_text())
    assert event["inputs"][0]["facets"]["version"]["datasetVersion"] == "1"


def test_a_delta_folder_given_as_source_on_the_command_line(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write_deltalake(str(landing), _seed_as_strings())
    proc = run_meshc(
        "run", "-c", str(FIXTURES / "seed_orders.yaml"), "-s", str(landing),
        "--root", str(tmp_path), "--format", "json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["rows"] == {"in": 12, "valid": 7, "quarantined": 5}


def test_missing_table_is_a_clear_source_error(tmp_path: Path) -> None:
    contract = _contract(tmp_path, source=f"source: {{path: {tmp_path / 'nope'}, format: delta}}")
    with pytest.raises(SourceError, match=r"no Delta table at .*nope \(no _delta_log/ there\)"):
        DataProcessor(contract, root=tmp_path).run_source()
    proc = run_meshc("run", "-c", str(contract), "--root", str(tmp_path))
    assert proc.returncode == 2 and "no Delta table at" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_without_deltalake_the_error_names_the_extra(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write_deltalake(str(landing), _seed_as_strings())
    contract = _contract(tmp_path, source=f"source: {{path: {landing}, format: delta}}")
    # a process where deltalake cannot be imported, as in an install without the extra
    code = "import sys; sys.modules['deltalake'] = None\nfrom meshc.cli.app import main; main()\n"
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", code, "run", "-c", str(contract), "--root", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "pip install 'meshc[delta]'" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.spark
def test_spark_is_refused_at_the_contract_line_that_declares_delta(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write_deltalake(str(landing), _seed_as_strings())
    contract = _contract(tmp_path, source=f"source: {{path: {landing}, format: delta}}")
    proc = run_meshc("run", "-c", str(contract), "--engine", "spark", "--root", str(tmp_path))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = " ".join(proc.stderr.split())
    line = len((FIXTURES / "seed_orders.yaml").read_text().splitlines()) + 1
    assert f"orders.yaml:{line}:" in message and "delta-spark" in message, message
    assert "Traceback" not in proc.stderr
    # a Delta target is refused alike, before reading, at `output.format`
    contract = _contract(tmp_path, output="output: {target: lake/orders, format: delta}")
    proc = run_meshc(
        "run",
        "-c",
        str(contract),
        "-s",
        str(SEED_CSV),
        "--engine",
        "spark",
        "--root",
        str(tmp_path),
    )
    message = " ".join(proc.stderr.split())
    assert proc.returncode == 2 and f"orders.yaml:{line}:" in message and "delta-spark" in message
    assert not (tmp_path / "lake").exists()


def test_delta_tables_on_s3(s3: Any, tmp_path: Path) -> None:
    bucket = s3.bucket()
    table = f"s3://{bucket}/lake/orders"
    contract = _contract(tmp_path, output=f"output: {{target: '{table}', format: delta}}")
    result = DataProcessor(contract, root=tmp_path).run_source(SEED_CSV)
    assert result.published["valid"] == {"location": table, "version": 0, "rows": 7}
    assert any(k.startswith("lake/orders/_delta_log/") for k in s3.keys(bucket))
    valid, _ = _parquet_run(tmp_path, "polars")
    options = {"AWS_ALLOW_HTTP": "true"}
    assert _rows(DeltaTable(table, storage_options=options).to_pyarrow_table()) == _rows(valid)
    # a second run commits version 1 to the existing table (overwrite: the same 7 rows)
    again = DataProcessor(contract, root=tmp_path).run_source(SEED_CSV)
    assert again.published["valid"]["version"] == 1
    assert DeltaTable(table, storage_options=options).count() == 7
    # a landing table on s3 as the source: the same split as the CSV
    landing = f"s3://{bucket}/landing/orders"
    write_deltalake(landing, _seed_as_strings(), storage_options=options)
    source = _contract(tmp_path, source=f"source: {{path: '{landing}', format: delta}}")
    landed = DataProcessor(source, root=tmp_path / "again").run_source()
    assert (landed.rows_in, landed.rows_valid, landed.rows_quarantined) == (12, 7, 5)
    record = json.loads(Path(landed.lineage["record_path"]).read_text())
    assert record["inputs"] == [
        {"namespace": f"s3://{bucket}", "name": "landing/orders", "format": "delta", "version": 0}
    ]


def test_a_table_created_on_s3_is_removed_when_the_next_commit_fails(
    s3: Any, tmp_path: Path
) -> None:
    bucket = s3.bucket()
    table = f"s3://{bucket}/lake/orders"
    contract = _contract(
        tmp_path,
        output=f"output: {{target: '{table}', format: delta}}",
        quarantine=DELTA_TARGETS["quarantine"],
    )
    DataProcessor(contract, root=tmp_path).run_source(SEED_CSV, output=tmp_path / "x.parquet")
    _refuse_lost_orders(tmp_path / "lake/orders_quarantine")  # the quarantine commit fails
    with pytest.raises(WriteError, match=rf"{table} \(created by this run\) removed"):
        DataProcessor(contract, root=tmp_path).run_source(SEED_CSV)
    assert not [k for k in s3.keys(bucket) if k.startswith("lake/orders/")]


def test_an_unreachable_store_is_a_clear_source_error(
    private_s3_server: Any, tmp_path: Path
) -> None:
    table = f"s3://{private_s3_server.bucket()}/landing/orders"
    write_deltalake(table, _seed_as_strings(), storage_options={"AWS_ALLOW_HTTP": "true"})
    contract = _contract(tmp_path, source=f"source: {{path: '{table}', format: delta}}")
    private_s3_server.stop()
    with pytest.raises(
        SourceError, match=rf"cannot open the Delta table {table}: .*Connection refused"
    ):
        DataProcessor(contract, root=tmp_path).run_source()


def test_an_explicit_table_keeps_the_contracts_append_mode(tmp_path: Path) -> None:
    # `-o other/table` moves the target, not the contract's decision to append
    contract = _contract(tmp_path, **DELTA_TARGETS)
    elsewhere = tmp_path / "elsewhere"
    for _ in range(2):
        DataProcessor(contract, root=tmp_path).run_source(SEED_CSV, output=elsewhere)
    table = DeltaTable(str(elsewhere))
    assert table.version() == 1 and table.count() == 14
