"""Text casting (docs/semantics.md, "Text casting"), the same on every engine."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa

from meshc.engines.base import REASONS
from meshc.rules import expr as ir
from meshc.types import BOOLEAN, DATE, FLOAT, INTEGER, STRING, TIMESTAMP, TIMESTAMP_TZ

from .helpers import DEC52, UTC, cast_one, column, dec, not_null, plan, rows, run, text_frame

INT64_MAX, INT64_MIN = 2**63 - 1, -(2**63)


def test_integer_forms(engine: Any) -> None:
    good = ["1", " -42 ", "+7", "-0012", "9223372036854775807", "-9223372036854775808", "", None]
    bad = ["1.0", "1e3", "9223372036854775808", "-9223372036854775809", "abc", "-", "5\n"]
    assert cast_one(engine, INTEGER, good + bad) == (
        [1, -42, 7, -12, INT64_MAX, INT64_MIN, None, None],
        bad,
    )


def test_float_forms_nan_is_null_and_inf_kept(engine: Any) -> None:
    good = ["1.5", " 1e3 ", "-2.5E-1", "-2", ".5", "1e-3", "inf", "-INF", "Infinity", "-Infinity"]
    nan = ["nan", "NaN", "+nan", "-nan"]  # a valid float spelling, read as NULL
    bad = ["abc", "1,5", "1e", "e5", "--1", "1.2.3"]
    inf = float("inf")
    assert cast_one(engine, FLOAT, good + nan + bad) == (
        [1.5, 1000.0, -0.25, -2.0, 0.5, 0.001, inf, -inf, inf, -inf, None, None, None, None],
        bad,
    )


def test_decimal_never_rounds(engine: Any) -> None:
    good = ["123.45", "-0.5", "-0.1", "+7", "007.10", "+001.5", "0", "12", "999.99"]
    bad = ["1.234", "1234.5", "1e2", ".5", "1.", "abc"]
    expected = ["123.45", "-0.50", "-0.10", "7.00", "7.10", "1.50", "0.00", "12.00", "999.99"]
    assert cast_one(engine, DEC52, good + bad) == ([Decimal(e) for e in expected], bad)
    # leading zeros do not count as integer digits: 0.5 fits decimal(2,2)
    assert cast_one(engine, dec(2, 2), ["0.5", "0.12", "1.0"]) == (
        [Decimal("0.50"), Decimal("0.12")],
        ["1.0"],
    )


def test_boolean_forms(engine: Any) -> None:
    good = ["true", "F", "Yes", "no", "NO", "t", "1", "0", " t ", " True "]
    bad = ["y", "2", "truthy", "maybe"]
    assert cast_one(engine, BOOLEAN, good + bad) == (
        [True, False, True, False, False, True, True, False, True, True],
        bad,
    )


def test_date_forms_and_calendar(engine: Any) -> None:
    good = ["2024-02-29", " 2024-01-31 ", "0001-01-01", "9999-12-31"]
    bad = ["2023-02-29", "2024-13-45", "2024-02-30", "2024/01/01", "24-01-01", "2024-1-01"]
    assert cast_one(engine, DATE, good + bad) == (
        [dt.date(2024, 2, 29), dt.date(2024, 1, 31), dt.date(1, 1, 1), dt.date(9999, 12, 31)],
        bad,
    )


TIMESTAMPS = {
    "2024-01-01": dt.datetime(2024, 1, 1),
    "2024-01-01 10:30": dt.datetime(2024, 1, 1, 10, 30),
    "2024-01-01T10:30:15.5": dt.datetime(2024, 1, 1, 10, 30, 15, 500000),
    "2024-01-01 10:00:05.123456": dt.datetime(2024, 1, 1, 10, 0, 5, 123456),
    "2024-01-01T10:00:00+02:00": dt.datetime(2024, 1, 1, 8),
    "2024-01-01T23:00:00-05:30": dt.datetime(2024, 1, 2, 4, 30),
    "2024-01-01T01:00-01:30": dt.datetime(2024, 1, 1, 2, 30),
    "2024-01-01T10:00:00Z": dt.datetime(2024, 1, 1, 10),
    "2024-01-01 10:30Z": dt.datetime(2024, 1, 1, 10, 30),
    "2024-01-01+02:00": dt.datetime(2023, 12, 31, 22),  # an offset right after a date: midnight
    "2024-01-01Z": dt.datetime(2024, 1, 1),
    "2024-01-01T10:00:00.123456-01:00": dt.datetime(2024, 1, 1, 11, 0, 0, 123456),
}
BAD_TIMESTAMPS = [
    "2024-01-01T25:00:00",
    "2024-01-01T24:00",
    "2024-01-01 24:00:00",
    "2024-02-30T10:00",
    "2024-01-01T10:00+25:00",
    "2024-12-31T23:59:60",
    "2024-01-01T10:00:00.1234567",
    "2024-01-01 10",
    "2024-03-01T10",
    "10:00",
    "yesterday",
]


def test_timestamp_offsets_normalised_to_utc_wall_time(engine: Any) -> None:
    assert cast_one(engine, TIMESTAMP, [*TIMESTAMPS, *BAD_TIMESTAMPS]) == (
        list(TIMESTAMPS.values()),
        BAD_TIMESTAMPS,
    )


def test_timestamp_tz_is_a_utc_instant(engine: Any) -> None:
    good, bad = cast_one(engine, TIMESTAMP_TZ, [*TIMESTAMPS, "2024-02-30 10:00"])
    assert good == [t.replace(tzinfo=UTC) for t in TIMESTAMPS.values()]
    assert bad == ["2024-02-30 10:00"]


def test_valid_column_types_and_order(engine: Any) -> None:
    columns = {
        "t": TIMESTAMP,
        "tz": TIMESTAMP_TZ,
        "d": DATE,
        "b": BOOLEAN,
        "f": FLOAT,
        "i": INTEGER,
        "n": dec(10, 3),
        "s": STRING,
    }
    data = {
        "s": [" x "],
        "i": ["1"],
        "f": ["2"],
        "b": ["t"],
        "d": ["2024-01-01"],
        "t": ["2024-01-01T00:00"],
        "tz": ["2024-01-01"],
        "n": ["1.5"],
    }
    table = engine.to_arrow(run(engine, text_frame(engine, **data), plan(columns)).valid)
    assert table.column_names == list(columns)  # contract order, not source order
    types = {f.name: f.type for f in table.schema}
    assert types["s"] in (pa.string(), pa.large_string(), pa.string_view())
    assert [str(types[c]) for c in columns if c != "s"] == [
        "timestamp[us]",
        "timestamp[us, tz=UTC]",
        "date32[day]",
        "bool",
        "double",
        "int64",
        "decimal128(10, 3)",
    ]
    assert table.column("s").to_pylist() == [" x "]  # strings are never trimmed


def test_string_kept_byte_for_byte_and_null_values(engine: Any) -> None:
    frame = text_frame(engine, s=[" a ", "", "NA"], n=["NA", "3", ""])
    split = run(engine, frame, plan({"s": STRING, "n": INTEGER}, null_values=("", "NA")))
    assert rows(engine, split.valid) == [
        {"s": " a ", "n": None},
        {"s": None, "n": 3},
        {"s": None, "n": None},
    ]
    kept = run(engine, text_frame(engine, s=[""]), plan({"s": STRING}, null_values=()))
    assert column(engine, kept.valid, "s") == [""]


def test_null_values_are_null_in_the_quarantine_and_its_reasons(engine: Any) -> None:
    p = plan({"x": INTEGER}, not_null(ir.Col("x", INTEGER)), null_values=("", "NA"))
    split = run(engine, text_frame(engine, x=["1", "", "NA"]), p)
    assert split.failures == {"x.required": 2}
    quarantine = rows(engine, split.quarantine)
    assert [r["x"] for r in quarantine] == [None, None]
    assert [r[REASONS][0]["value"] for r in quarantine] == [None, None]


def test_cast_failure_reason_keeps_the_raw_value(engine: Any) -> None:
    frame = text_frame(engine, id=["1", "2"], amount=["abc", "3.5"])
    split = run(engine, frame, plan({"id": INTEGER, "amount": FLOAT}))
    assert split.failures == {"amount.type": 1}
    [row] = rows(engine, split.quarantine)
    assert (row["id"], row["amount"]) == ("1", "abc")
    assert row[REASONS] == [
        {
            "rule_id": "amount.type",
            "rule": "type float",
            "column": "amount",
            "value": "abc",
            "message": "value of 'amount' cannot be read as float",
            "severity": "error",
        }
    ]
