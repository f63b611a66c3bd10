"""The runner end to end: the seed orders contract on every engine, CLI and Python API."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pyarrow.parquet as pq
import pytest

from meshc import DataProcessor, load_contract
from meshc.errors import SourceError
from meshc.schema_validation import load_schema
from tests.conftest import ROOT, run_meshc
from tests.engines.helpers import parquet_codecs

SEED = ROOT / "examples" / "seed"
ENGINES = ["polars", "pandas", "duckdb", pytest.param("spark", marks=pytest.mark.spark)]

# What the seed CSV must produce on every engine: id -> sorted rule ids (see examples/seed/orders.csv)
AMOUNT, STATUS = "sql_f204bc69", "sql_a46874a2"
EXPECTED_QUARANTINE = {
    "ORD-1003": [AMOUNT],
    "ORD-1004": [STATUS],
    "ORD-1006": ["order_amount.type"],
    "ORD-1007": ["order_date.type"],
    "ORD-1008": sorted([AMOUNT, STATUS]),
}


def _split(
    result: Any, engine: str
) -> tuple[list[str | None], dict[str, list[str]], dict[str, Any]]:
    from meshc.engines.registry import get_engine

    to_arrow = get_engine(engine).to_arrow
    valid = to_arrow(result.valid).to_pylist()
    quarantine = to_arrow(result.quarantine).to_pylist()
    reasons = {r["order_id"]: sorted(x["rule_id"] for x in r["_meshc_reasons"]) for r in quarantine}
    raw = {r["order_id"]: r for r in quarantine}
    return sorted((r["order_id"] for r in valid), key=str), reasons, raw


@pytest.mark.parametrize("engine", ENGINES)
def test_seed_orders_split_is_identical_on_every_engine(engine: str, tmp_path: Path) -> None:
    result = DataProcessor(SEED / "orders.yaml", engine=engine, root=tmp_path).run_source(
        SEED / "orders.csv"
    )
    valid, reasons, raw = _split(result, engine)
    assert reasons == EXPECTED_QUARANTINE
    assert valid == sorted(
        ["ORD-1001", "ORD-1002", None, "ORD-1009", "ORD-1010", "ORD-1011", "ORD-1012"], key=str
    )
    assert result.rows_in == 12 == result.rows_valid + result.rows_quarantined
    # the raw value that failed its cast is kept, verbatim
    assert (
        raw["ORD-1006"]["order_amount"] == "abc" and raw["ORD-1007"]["order_date"] == "2024-13-45"
    )
    reason = next(
        r for r in raw["ORD-1006"]["_meshc_reasons"] if r["rule_id"] == "order_amount.type"
    )
    assert reason["column"] == "order_amount" and reason["value"] == "abc"
    assert result.failures[AMOUNT] == 2 and result.failures[STATUS] == 2
    # outputs were written where the contract says
    quarantine_path = tmp_path / "quarantine" / "crm" / "orders" / "data.parquet"
    quarantine = pq.read_table(quarantine_path)
    assert quarantine.num_rows == 5
    assert parquet_codecs(quarantine_path) == {"ZSTD"}
    assert (
        "_meshc_run_id" in quarantine.column_names and "_meshc_reasons" in quarantine.column_names
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_a_written_runs_parquet_outputs_are_zstd(engine: str, tmp_path: Path) -> None:
    # the streamed split (Polars, DuckDB) writes its spill files as the outputs: those too
    valid, quarantine = tmp_path / "out" / "valid.parquet", tmp_path / "out" / "q.parquet"
    with DataProcessor(SEED / "orders.yaml", engine=engine, root=tmp_path) as processor:
        result = processor.run_source(SEED / "orders.csv", output=valid, quarantine=quarantine)
    assert (result.rows_valid, result.rows_quarantined) == (7, 5)
    assert pq.read_table(valid).num_rows == 7 and pq.read_table(quarantine).num_rows == 5
    assert parquet_codecs(valid) == parquet_codecs(quarantine) == {"ZSTD"}


def test_report_follows_its_schema(tmp_path: Path) -> None:
    result = DataProcessor(SEED / "orders.yaml", root=tmp_path).run_source(SEED / "orders.csv")
    jsonschema.validate(json.loads(result.to_json()), load_schema("run-report"))
    assert result.report["rows"] == {"in": 12, "valid": 7, "quarantined": 5}
    assert len(result.report["samples"]) == 5


def test_lineage_columns_and_run_record(tmp_path: Path) -> None:
    result = DataProcessor(SEED / "orders.yaml", root=tmp_path).run_source(SEED / "orders.csv")
    valid = result.valid
    assert set(valid["_meshc_contract"].unique()) == {"crm.orders_silver"}
    assert str(valid.schema["_meshc_processed_at"]) == "Datetime(time_unit='us', time_zone='UTC')"
    record = json.loads(Path(result.lineage["record_path"]).read_text())
    assert record["counts"] == {"rows_in": 12, "rows_valid": 7, "rows_quarantined": 5}
    assert record["contract"]["hash"] == load_contract(SEED / "orders.yaml").hash
    event = json.loads(Path(result.lineage["openlineage_event"]).read_text())
    assert event["eventType"] == "COMPLETE" and event["job"]["name"] == "crm.orders_silver"


def _contract(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(
        textwrap.dedent("""\
        info: {version: 1, name: t, domain: d}
        model:
          fields:
            - {name: id, type: string, required: true}
            - {name: amount, type: float}
        quality:
          row_rules:
            - {name: positive, sql: "amount > 0"}
        """)
        + extra
    )
    return path


def test_missing_column_is_a_clear_error_and_nothing_is_written(tmp_path: Path) -> None:
    csv = tmp_path / "in.csv"
    csv.write_text("id,amont\n1,2\n")
    out = tmp_path / "out.parquet"
    with pytest.raises(SourceError, match="'amount'.*did you mean 'amont'"):
        DataProcessor(_contract(tmp_path)).run_source(csv, output=out)
    assert not out.exists()


def test_quarantine_without_reasons_and_disabled(tmp_path: Path) -> None:
    csv = tmp_path / "in.csv"
    csv.write_text("id,amount\n1,2\n2,-1\n")
    no_reasons = _contract(tmp_path, "quarantine: {include_error_reason: false}\n")
    result = DataProcessor(no_reasons).run_source(csv, write=False)
    assert "_meshc_reasons" not in result.quarantine.columns and result.rows_quarantined == 1
    disabled = tmp_path / "d.yaml"
    disabled.write_text(
        no_reasons.read_text().replace("include_error_reason: false", "enabled: false, target: q")
    )
    q_dir = tmp_path / "lake"
    result = DataProcessor(disabled, root=q_dir).run_source(csv, output=tmp_path / "v.parquet")
    assert result.rows_quarantined == 1 and result.outputs["quarantine"] is None
    assert not (q_dir / "q").exists()


def test_failed_write_keeps_previous_outputs(tmp_path: Path) -> None:
    csv = tmp_path / "in.csv"
    csv.write_text("id,amount\n1,2\n2,-1\n")
    contract = _contract(tmp_path)
    valid_out = tmp_path / "valid.parquet"
    DataProcessor(contract).run_source(csv, output=valid_out, write=True)
    before = valid_out.read_bytes()
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder must go")
    from meshc.errors import WriteError

    with pytest.raises(WriteError):
        DataProcessor(contract).run_source(csv, output=valid_out, quarantine=blocked / "q.parquet")
    assert valid_out.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_cli_run_reports_and_exit_codes(tmp_path: Path) -> None:
    shutil.copy(SEED / "orders.csv", tmp_path / "orders.csv")
    args = (
        "run",
        "-c",
        str(SEED / "orders.yaml"),
        "--source",
        str(tmp_path / "orders.csv"),
        "--root",
        str(tmp_path / "lake"),
    )
    text = run_meshc(*args, "--show-quarantine")
    assert text.returncode == 0, text.stderr
    assert "ORD-1006" in text.stdout and "order_amount.type" in text.stdout
    as_json = run_meshc(*args, "--format", "json")
    report = json.loads(as_json.stdout)
    assert report["rows"]["quarantined"] == 5 and report["engine"] == "polars"
    assert run_meshc(*args, "--fail-on", "10%").returncode == 1
    assert run_meshc(*args, "--fail-on", "50%").returncode == 0
    junit = run_meshc(*args, "--format", "junit")
    # 2 rules + 2 cast failures; quarantined rows fail no test of a run that exits 0
    assert junit.returncode == 0 and 'tests="4" failures="0"' in junit.stdout
    missing = run_meshc(
        "run", "-c", str(SEED / "orders.yaml"), "--source", str(tmp_path / "nope.csv")
    )
    assert missing.returncode == 2 and "source not found" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_run_accepts_an_in_memory_frame() -> None:
    import polars as pl

    frame = pl.DataFrame(
        {
            "order_id": ["a", "b"],
            "order_amount": ["1.5", "-1"],
            "order_date": ["2024-01-01", "2024-01-02"],
            "order_status": ["pending", "pending"],
        }
    )
    result = DataProcessor(SEED / "orders.yaml").run(frame)
    assert result.rows_valid == 1 and result.rows_quarantined == 1
    assert result.outputs == {"valid": None, "quarantine": None}


@pytest.mark.parametrize("engine", ENGINES)
def test_cli_gives_the_same_report_on_every_engine(engine: str, tmp_path: Path) -> None:
    proc = run_meshc(
        "run",
        "-c",
        str(SEED / "orders.yaml"),
        "--source",
        str(SEED / "orders.csv"),
        "--engine",
        engine,
        "--root",
        str(tmp_path),
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["engine"] == engine
    assert report["rows"] == {"in": 12, "valid": 7, "quarantined": 5}
    failures = {r["id"]: r["failures"] for r in report["rules"]}
    assert failures == {AMOUNT: 2, STATUS: 2, "order_amount.type": 1, "order_date.type": 1}
    reasons = sorted(
        (s["order_id"], tuple(sorted(r["rule_id"] for r in s["_meshc_reasons"])))
        for s in report["samples"]
    )
    assert reasons == sorted((k, tuple(v)) for k, v in EXPECTED_QUARANTINE.items())


def test_a_polars_run_imports_no_other_engine(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom meshc import DataProcessor\n"
        f"DataProcessor({str(SEED / 'orders.yaml')!r}).run_source({str(SEED / 'orders.csv')!r}, write=False)\n"
        # (pandas is left out: pyarrow imports it by itself whenever it is installed)
        "print('LOADED=' + ','.join(m for m in ('pyspark', 'duckdb', 'great_expectations', 'pandera') if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert "LOADED=\n" in proc.stdout, proc.stdout + proc.stderr


def test_directory_and_glob_sources(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    lines = (SEED / "orders.csv").read_text().splitlines()
    (landing / "part-1.csv").write_text("\n".join(lines[:7]) + "\n")
    (landing / "part-2.csv").write_text("\n".join([lines[0], *lines[7:]]) + "\n")
    for source in (landing, landing / "part-*.csv"):
        result = DataProcessor(SEED / "orders.yaml").run_source(source, write=False)
        assert (result.rows_in, result.rows_valid, result.rows_quarantined) == (12, 7, 5)
