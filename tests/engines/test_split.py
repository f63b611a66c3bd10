"""The split and its layout (meshc/engines/base.py): reasons, extra columns, lineage, counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from meshc.engines.base import REASON_FIELDS, REASONS
from meshc.errors import SourceError
from meshc.rules import expr as ir
from meshc.rules.checks import Range
from meshc.types import DATE, INTEGER, STRING

from .helpers import ORIGIN, UTC, column, not_null, plan, rows, rule, run, text_frame


def test_reasons_order_content_and_warn(engine: Any) -> None:
    a, b = ir.Col("a", INTEGER), ir.Col("b", INTEGER)
    checks = (
        Range(
            "b.range", "warn", "range 0..9", ORIGIN, None, b, ir.Lit(0, INTEGER), ir.Lit(9, INTEGER)
        ),
        rule(
            "a_pos",
            ir.Compare(">", a, ir.Lit(0, INTEGER)),
            "a > 0",
            description="a must be positive",
        ),
        rule("sql_1234abcd", ir.Compare("<", b, a), "b < a"),
    )
    frame = text_frame(engine, a=["-1", "50", "x"], b=["10", "10", "1"])
    split = run(engine, frame, plan({"a": INTEGER, "b": INTEGER}, *checks))
    # row 2 fails only a warn check: counted, not quarantined
    assert column(engine, split.valid, "a") == [50]
    assert split.failures == {"a.type": 1, "b.range": 2, "a_pos": 1, "sql_1234abcd": 1}
    first, second = column(engine, split.quarantine, REASONS)
    assert first == [  # checks in plan order, warn ones included
        {
            "rule_id": "b.range",
            "rule": "range 0..9",
            "column": "b",
            "value": "10",
            "message": "violates range 0..9",
            "severity": "warn",
        },
        {
            "rule_id": "a_pos",
            "rule": "a > 0",
            "column": "a",
            "value": "-1",
            "message": "a must be positive",
            "severity": "error",
        },
        {
            "rule_id": "sql_1234abcd",
            "rule": "b < a",
            "column": "b",
            "value": "10",
            "message": "violates b < a",
            "severity": "error",
        },
    ]
    assert [r["rule_id"] for r in second] == ["a.type"]
    assert engine.columns(split.quarantine) == ["a", "b", REASONS]


def test_cast_reasons_come_first_and_a_null_value_is_null(engine: Any) -> None:
    amount, code = ir.Col("amount", INTEGER), ir.Col("code", STRING)
    checks = (
        not_null(code),
        rule("amount_small", ir.Compare("<", amount, ir.Lit(100, INTEGER)), "amount < 100", "warn"),
        rule(
            "code_short",
            ir.Compare("<=", ir.StrFn("length", code), ir.Lit(2, INTEGER)),
            "LENGTH(code) <= 2",
        ),
    )
    frame = text_frame(
        engine,
        when=["x", "2024-01-01", "2024-01-02"],
        amount=["500", "5", "7"],
        code=["abcd", None, "ok"],
    )
    split = run(engine, frame, plan({"when": DATE, "amount": INTEGER, "code": STRING}, *checks))
    assert (split.rows_valid, split.rows_quarantined) == (1, 2)
    assert split.failures == {
        "when.type": 1,
        "code.required": 1,
        "amount_small": 1,
        "code_short": 1,
    }
    first, second = column(engine, split.quarantine, REASONS)
    assert [(r["rule_id"], r["value"], r["severity"]) for r in first] == [
        ("when.type", "x", "error"),
        ("amount_small", "500", "warn"),
        ("code_short", "abcd", "error"),
    ]
    assert first[0]["rule"] == "type date"
    assert first[0]["message"] == "value of 'when' cannot be read as date"
    assert second == [
        {
            "rule_id": "code.required",
            "rule": "required",
            "column": "code",
            "value": None,
            "message": "violates required",
            "severity": "error",
        }
    ]


def test_include_reasons_false_extra_columns_and_lineage(engine: Any) -> None:
    x = ir.Col("x", INTEGER)
    at = dt.datetime(2026, 1, 2, 5, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    lineage = {"_meshc_run_id": "run-1", "_meshc_source": "in.csv", "_meshc_processed_at": at}
    p = plan(
        {"x": INTEGER},
        rule("pos", ir.Compare(">", x, ir.Lit(0, INTEGER))),
        include_reasons=False,
        extra_columns="keep",
        lineage=lineage,
    )
    split = run(engine, text_frame(engine, note=["n1", "n2"], x=["1", "-1"]), p)
    valid, quarantine = engine.to_arrow(split.valid), engine.to_arrow(split.quarantine)
    assert valid.column_names == ["x", "note", *lineage]
    assert str(valid.schema.field("_meshc_processed_at").type) == "timestamp[us, tz=UTC]"
    at_utc = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert valid.to_pylist() == [
        {
            "x": 1,
            "note": "n1",
            "_meshc_run_id": "run-1",
            "_meshc_source": "in.csv",
            "_meshc_processed_at": at_utc,
        }
    ]
    assert quarantine.column_names == ["note", "x", *lineage]  # the source's own order


def test_reasons_come_before_lineage(engine: Any) -> None:
    lineage = {"_meshc_run_id": "run-1"}
    split = run(engine, text_frame(engine, x=["1", "no"]), plan({"x": INTEGER}, lineage=lineage))
    assert engine.columns(split.valid) == ["x", "_meshc_run_id"]
    assert engine.columns(split.quarantine) == ["x", REASONS, "_meshc_run_id"]


def test_extra_columns_drop_keep_error_and_missing(engine: Any) -> None:
    frame = text_frame(engine, x=["1", "bad"], extra=["007", "other"])
    dropped = run(engine, frame, plan({"x": INTEGER}))  # extra_columns defaults to drop
    assert engine.columns(dropped.valid) == ["x"]
    [bad] = rows(engine, dropped.quarantine)  # the quarantine keeps every source column as read
    assert (bad["x"], bad["extra"]) == ("bad", "other")
    kept = run(engine, frame, plan({"x": INTEGER}, extra_columns="keep"))
    assert rows(engine, kept.valid) == [{"x": 1, "extra": "007"}]  # as text
    with pytest.raises(SourceError, match="extra"):
        engine.validate(frame, plan({"x": INTEGER}, extra_columns="error"))
    with pytest.raises(SourceError, match="missing_col"):
        engine.validate(frame, plan({"x": INTEGER, "missing_col": STRING}))


def test_empty_input(engine: Any, tmp_path: Path) -> None:
    check = rule("r1", ir.Compare(">", ir.Col("x", INTEGER), ir.Lit(1, INTEGER)))
    split = run(engine, text_frame(engine, x=[]), plan({"x": INTEGER}, check))
    assert (split.rows_in, split.rows_valid, split.rows_quarantined) == (0, 0, 0)
    assert split.failures == {"r1": 0}
    assert str(engine.to_arrow(split.valid).schema.field("x").type) == "int64"
    engine.write(split.quarantine, tmp_path / "q.parquet", "parquet")
    assert [p.name for p in tmp_path.iterdir()] == ["q.parquet"]  # one file, even when empty
    table = pq.read_table(tmp_path / "q.parquet")
    assert table.num_rows == 0 and table.column_names == ["x", REASONS]
    assert table.schema.field(REASONS).type.value_type.names == list(REASON_FIELDS)
