"""Objects in a bucket as sources and targets, on a real S3 server (moto's server mode): the seed
orders contract splits exactly as it does from and to local files, on every engine that reaches
objects; failures name the URL and leave the previous objects as they were."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from meshc import DataProcessor
from meshc.errors import SourceError, WriteError
from tests.conftest import ROOT, run_meshc
from tests.storage.conftest import S3Server

SEED = ROOT / "examples" / "seed"
CONTRACT = SEED / "orders.yaml"
ENGINES = ["polars", "pandas", "duckdb"]


def _split(valid: pa.Table, quarantine: pa.Table) -> tuple[list[str], dict[str, list[str]]]:
    """Valid order ids, and quarantined id -> sorted rule ids: what must match the local run."""
    ids = sorted(str(r["order_id"]) for r in valid.to_pylist())
    reasons = {
        str(r["order_id"]): sorted(x["rule_id"] for x in r["_meshc_reasons"])
        for r in quarantine.to_pylist()
    }
    return ids, reasons


def _local_split(engine: str, tmp_path: Path) -> tuple[list[str], dict[str, list[str]]]:
    out, q = tmp_path / "local" / "valid.parquet", tmp_path / "local" / "q.parquet"
    with DataProcessor(CONTRACT, engine=engine, root=tmp_path / "local") as processor:
        processor.run_source(SEED / "orders.csv", output=out, quarantine=q)
    return _split(pq.read_table(out), pq.read_table(q))


def _parquet_object(s3: S3Server, bucket: str, key: str) -> pa.Table:
    return pq.read_table(io.BytesIO(s3.get(bucket, key)))


def _record(result: Any) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(Path(result.lineage["record_path"]).read_text("utf-8"))
    return record


@pytest.mark.parametrize("engine", ENGINES)
def test_object_source_splits_like_the_local_file(
    engine: str, s3: S3Server, tmp_path: Path
) -> None:
    bucket = s3.bucket()
    s3.put(bucket, "landing/orders.csv", (SEED / "orders.csv").read_bytes())
    out, q = tmp_path / "valid.parquet", tmp_path / "q.parquet"
    with DataProcessor(CONTRACT, engine=engine, root=tmp_path) as processor:
        result = processor.run_source(f"s3://{bucket}/landing/orders.csv", output=out, quarantine=q)
    assert result.rows_in == 12 == result.rows_valid + result.rows_quarantined
    assert _split(pq.read_table(out), pq.read_table(q)) == _local_split(engine, tmp_path)
    # lineage names the object by the OpenLineage naming spec
    assert _record(result)["inputs"] == [
        {"namespace": f"s3://{bucket}", "name": "landing/orders.csv", "format": "csv"}
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_object_targets_receive_the_local_split(engine: str, s3: S3Server, tmp_path: Path) -> None:
    bucket = s3.bucket()
    valid_url = f"s3://{bucket}/silver/orders/valid.parquet"
    quarantine_url = f"s3://{bucket}/quarantine/orders/q.parquet"
    with DataProcessor(CONTRACT, engine=engine, root=tmp_path) as processor:
        result = processor.run_source(
            SEED / "orders.csv", output=valid_url, quarantine=quarantine_url
        )
    valid = _parquet_object(s3, bucket, "silver/orders/valid.parquet")
    quarantine = _parquet_object(s3, bucket, "quarantine/orders/q.parquet")
    assert _split(valid, quarantine) == _local_split(engine, tmp_path)
    assert s3.keys(bucket) == ["quarantine/orders/q.parquet", "silver/orders/valid.parquet"]
    assert result.published["valid"]["location"] == valid_url
    record = _record(result)
    assert record["outputs"]["valid"] == valid_url
    assert record["outputs"]["quarantine"] == quarantine_url


def test_a_declared_bucket_target_receives_data_file(s3: S3Server, tmp_path: Path) -> None:
    bucket = s3.bucket()
    contract = tmp_path / "orders.yaml"
    text = CONTRACT.read_text("utf-8").replace(
        'target: "quarantine/crm/orders"', f'target: "s3://{bucket}/quarantine/crm/orders"'
    )
    assert f"s3://{bucket}" in text
    contract.write_text(text, "utf-8")
    with DataProcessor(contract, root=tmp_path) as processor:
        result = processor.run_source(SEED / "orders.csv", output=tmp_path / "valid.parquet")
    assert s3.keys(bucket) == ["quarantine/crm/orders/data.parquet"]
    assert _parquet_object(s3, bucket, "quarantine/crm/orders/data.parquet").num_rows == 5
    assert result.rows_quarantined == 5


def _seed_parts(s3: S3Server, bucket: str) -> None:
    """The seed CSV cut in three objects, and objects the glob must not pick up."""
    header, *rows = (SEED / "orders.csv").read_text("utf-8").splitlines()
    for n, part in enumerate((rows[:4], rows[4:8], rows[8:])):
        body = "\n".join([header, *part]) + "\n"
        s3.put(bucket, f"landing/2024/part-{n}.csv", body.encode())
    s3.put(bucket, "landing/2024/_SUCCESS", b"")
    s3.put(bucket, "landing/2024/notes.txt", b"not data")
    s3.put(bucket, "landing/2023/old.parquet", b"not read either")


@pytest.mark.parametrize(
    "where",
    ["landing/2024/*.csv", "landing/**/part-*.csv", "landing/2024", "landing/2024/"],
)
def test_a_glob_or_a_prefix_reads_every_matching_object(
    where: str, s3: S3Server, tmp_path: Path
) -> None:
    bucket = s3.bucket()
    _seed_parts(s3, bucket)
    out, q = tmp_path / "valid.parquet", tmp_path / "q.parquet"
    with DataProcessor(CONTRACT, root=tmp_path) as processor:
        result = processor.run_source(f"s3://{bucket}/{where}", output=out, quarantine=q)
    assert result.rows_in == 12
    assert _split(pq.read_table(out), pq.read_table(q)) == _local_split("polars", tmp_path)
    assert [i["name"] for i in _record(result)["inputs"]] == [
        f"landing/2024/part-{n}.csv" for n in range(3)
    ]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("landing/2025/*.csv", "no files match s3://{bucket}/landing/2025/\\*.csv"),
        ("landing/nothing.csv", "source not found: s3://{bucket}/landing/nothing.csv"),
        ("landing", "cannot tell the format of s3://{bucket}/landing"),
    ],
)
def test_objects_that_do_not_match_are_a_clear_source_error(
    where: str, message: str, s3: S3Server, tmp_path: Path
) -> None:
    bucket = s3.bucket()
    _seed_parts(s3, bucket)
    with (
        pytest.raises(SourceError, match=message.format(bucket=bucket)),
        DataProcessor(CONTRACT, root=tmp_path) as processor,
    ):
        processor.run_source(f"s3://{bucket}/{where}", output=tmp_path / "v.parquet")


def test_an_unknown_bucket_is_a_clear_error(s3: S3Server, tmp_path: Path) -> None:
    url = "s3://meshc-no-such-bucket/landing/orders.csv"
    with pytest.raises(SourceError, match=f"cannot read {url}: the bucket does not exist"):
        DataProcessor(CONTRACT, root=tmp_path).run_source(url, output=tmp_path / "v.parquet")
    target = "s3://meshc-no-such-bucket/silver/valid.parquet"
    with pytest.raises(WriteError, match=f"cannot write {target}: the bucket does not exist"):
        DataProcessor(CONTRACT, root=tmp_path).run_source(SEED / "orders.csv", output=target)
    assert not (tmp_path / "_meshc").exists() or not list((tmp_path / "_meshc").rglob("*.json"))


def test_missing_credentials_are_a_clear_error(
    s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3.bucket()
    s3.put(bucket, "orders.csv", (SEED / "orders.csv").read_bytes())
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.aws either
    url = f"s3://{bucket}/orders.csv"
    with pytest.raises(SourceError, match=f"cannot read {url}: access denied"):
        DataProcessor(CONTRACT, root=tmp_path).run_source(url, output=tmp_path / "v.parquet")


def test_server_stopped_at_commit_fails_the_run_and_keeps_previous_objects(
    private_s3_server: S3Server, s3_server: S3Server, tmp_path: Path
) -> None:
    bucket = private_s3_server.bucket()
    previous = {"silver/valid.parquet": b"previous valid", "quarantine/q.parquet": b"previous q"}
    for key, body in previous.items():
        private_s3_server.put(bucket, key, body)

    def stop_at_commit(message: str) -> None:
        if message.startswith("commit:"):
            private_s3_server.stop()

    valid_url = f"s3://{bucket}/silver/valid.parquet"
    with (
        pytest.raises(WriteError, match=f"cannot write s3://{bucket}/.*unreachable") as failed,
        DataProcessor(CONTRACT, root=tmp_path, progress=stop_at_commit) as processor,
    ):
        processor.run_source(
            SEED / "orders.csv", output=valid_url, quarantine=f"s3://{bucket}/quarantine/q.parquet"
        )
    assert "object there is unchanged" in str(failed.value)
    # moto keeps buckets per process: the session's server still shows this one
    for key, body in previous.items():
        assert s3_server.get(bucket, key) == body
    assert not list(tmp_path.rglob("*.json"))  # no run record claims the run happened


@pytest.mark.slow  # CLI subprocesses
def test_cli_reads_objects_and_exits_2_with_a_clear_message(s3: S3Server, tmp_path: Path) -> None:
    bucket = s3.bucket()
    s3.put(bucket, "landing/orders.csv", (SEED / "orders.csv").read_bytes())
    args = ["run", "-c", str(CONTRACT), "--root", str(tmp_path)]
    ok = run_meshc(*args, "--source", f"s3://{bucket}/landing/orders.csv")
    assert ok.returncode == 0, ok.stderr
    assert pq.read_table(tmp_path / "quarantine" / "crm" / "orders" / "data.parquet").num_rows == 5
    missing = run_meshc(*args, "--source", f"s3://{bucket}/landing/missing.csv")
    assert missing.returncode == 2
    assert f"source not found: s3://{bucket}/landing/missing.csv" in missing.stderr
    assert "Traceback" not in missing.stderr + missing.stdout
    to_bucket = run_meshc(
        *args, "--source", str(SEED / "orders.csv"), "-o", "s3://meshc-no-such-bucket/v.parquet"
    )
    assert to_bucket.returncode == 2
    assert "cannot write s3://meshc-no-such-bucket/v.parquet" in to_bucket.stderr
    assert "Traceback" not in to_bucket.stderr + to_bucket.stdout


@pytest.mark.slow  # CLI subprocesses
def test_spark_refuses_objects_naming_the_jars_it_would_need(s3: S3Server, tmp_path: Path) -> None:
    bucket = s3.bucket()
    s3.put(bucket, "orders.csv", (SEED / "orders.csv").read_bytes())
    args = ["run", "-c", str(CONTRACT), "--root", str(tmp_path), "--engine", "spark"]
    refused = run_meshc(*args, "--source", f"s3://{bucket}/orders.csv")
    assert refused.returncode == 2
    assert "hadoop-aws" in refused.stderr and "Traceback" not in refused.stderr
