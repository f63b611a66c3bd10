"""What only the DuckDB engine does: SQL built as trees (names and values are data), its own
connection (UTC), reasons' texts as ENUMs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

duckdb = pytest.importorskip("duckdb")

from meshc.engines.base import REASONS  # noqa: E402
from meshc.engines.registry import get_engine  # noqa: E402
from meshc.rules import expr as ir  # noqa: E402
from meshc.types import INTEGER, STRING  # noqa: E402

from .helpers import plan, rows, rule, run, text_frame  # noqa: E402


@pytest.fixture
def engine() -> Iterator[object]:
    created = get_engine("duckdb")
    yield created
    created.close()  # type: ignore[attr-defined]


def test_connection_is_utc(engine: object) -> None:
    con = engine.con  # type: ignore[attr-defined]
    assert con.execute("SELECT current_setting('TimeZone')").fetchall() == [("UTC",)]


def test_read_text_formats_as_varchar(engine: object, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x,y\n1, 2\n")
    frame = engine.read([str(tmp_path / "a.csv")], "csv")  # type: ignore[attr-defined]
    assert [str(t) for t in frame.types] == ["VARCHAR", "VARCHAR"]


def test_malicious_literal_and_column_names_are_data(engine: object) -> None:
    con = engine.con  # type: ignore[attr-defined]
    con.execute("CREATE TABLE victim AS SELECT 1 AS x")
    evil = "x'; DROP TABLE victim; --"
    name = "we\"ird'; col"
    check = rule(
        "evil",
        ir.Compare("!=", ir.Col(name, STRING), ir.Lit(evil, STRING)),
        description='it\'s "quoted"; DROP TABLE victim; --',
    )
    split = run(engine, text_frame(engine, **{name: [evil, "fine"]}), plan({name: STRING}, check))
    assert [r[name] for r in rows(engine, split.valid)] == ["fine"]
    [row] = rows(engine, split.quarantine)
    assert row[REASONS][0]["value"] == evil
    assert row[REASONS][0]["message"] == 'it\'s "quoted"; DROP TABLE victim; --'
    assert con.execute("SELECT x FROM victim").fetchall() == [(1,)]


def test_reason_texts_are_enums(engine: object) -> None:
    check = rule("pos", ir.Compare(">", ir.Col("x", INTEGER), ir.Lit(0, INTEGER)), "x > 0")
    split = run(engine, text_frame(engine, x=["-1", "bad"]), plan({"x": INTEGER}, check))
    [reasons_type] = [
        t
        for n, t in zip(split.quarantine.columns, split.quarantine.types, strict=True)
        if n == REASONS
    ]
    text = str(reasons_type)
    assert "\"rule\" ENUM('type integer', 'x > 0')" in text
    assert "message ENUM('value of ''x'' cannot be read as integer', 'violates x > 0')" in text


def test_masking_key_is_bound_as_a_parameter_never_spelled_in_sql(
    engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meshc.engines.masking_key import hmac_pads, keyed_hash

    key = "k3y-" * 8
    monkeypatch.setenv("MESHC_MASKING_KEY", key)
    monkeypatch.delenv("MESHC_MASKING_KEY_FILE", raising=False)
    masked = engine.mask(text_frame(engine, x=["ann", None]), {"x": "hash"})  # type: ignore[attr-defined]
    sql = masked.sql_query().lower()
    assert not any(
        secret in sql
        for secret in (key, key.encode().hex(), *map(bytes.hex, hmac_pads(key.encode())))
    )
    assert masked.fetchall() == [(keyed_hash(key.encode(), "ann"),), (None,)]


def test_streamed_split_leaves_no_table_and_writes_by_linking_the_spill_file(
    engine: object, tmp_path: Path
) -> None:
    """One pass: no temporary table of the input; the Parquet output is the spill file itself."""
    con = engine.con  # type: ignore[attr-defined]
    check = rule("pos", ir.Compare(">", ir.Col("x", INTEGER), ir.Lit(0, INTEGER)), "x > 0")
    frame = text_frame(engine, x=["1", "-1", "bad", "2"])
    split = engine.validate_streaming(frame, plan({"x": INTEGER}, check))  # type: ignore[attr-defined]
    assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchall() == [(0,)]
    assert (split.rows_in, split.rows_valid, split.rows_quarantined) == (4, 2, 2)
    assert split.failures == {"x.type": 1, "pos": 1}
    engine.write(split.valid, tmp_path / "v.parquet", "parquet")  # type: ignore[attr-defined]
    engine.write(split.quarantine, tmp_path / "q.csv", "csv")  # type: ignore[attr-defined]
    assert (tmp_path / "v.parquet").stat().st_nlink == 2  # linked, not written again
    assert [r["x"] for r in rows(engine, split.valid)] == [1, 2]
    assert "x > 0" in (tmp_path / "q.csv").read_text()


def test_a_temp_dir_that_cannot_be_written_is_named_not_a_traceback(
    engine: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from meshc.errors import WriteError

    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(not_a_folder))
    frame = text_frame(engine, x=["1"])
    with pytest.raises(WriteError, match="cannot write temporary files in .*file"):
        engine.validate_streaming(frame, plan({"x": INTEGER}))  # type: ignore[attr-defined]


def test_spill_files_that_cannot_be_written_are_a_temp_dir_error_exit_2(tmp_path: Path) -> None:
    """A full temp dir (a file-size limit, EFBIG) while streaming: exit 2 naming the temp dir,
    nothing written. (As tests/test_sources.py checks for Polars.)"""
    import resource
    import signal
    import subprocess
    import sys

    contract = tmp_path / "c.yaml"
    contract.write_text(
        "info: {version: 1, name: c, domain: t, owner: t@example.com}\n"
        "model:\n  fields:\n    - {name: id, type: string}\n    - {name: n, type: integer}\n"
        "lineage: {enabled: false}\n"
    )
    source = tmp_path / "rows.csv"
    source.write_text("id,n\n" + "".join(f"r{i},{i * 7919}\n" for i in range(20000)))

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (32 << 10, 32 << 10))

    out = tmp_path / "out"
    command = [sys.executable, "-m", "meshc", "run", "-c", str(contract), "-s", str(source)]
    command += ["--engine", "duckdb", "-o", str(out / "v.parquet"), "-q", str(out / "q.parquet")]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        preexec_fn=limit_file_size,
    )
    assert done.returncode == 2, done.stderr
    assert "cannot write temporary files in" in done.stderr, done.stderr
    assert not list(out.glob("*.parquet"))
