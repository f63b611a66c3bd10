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
