"""The Polars engine against docs/semantics.md, on tiny inputs built from the IR directly."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from meshc.engines._polars.engine import PolarsEngine, create
from meshc.engines.base import REASONS, ColumnSpec, Engine, Split, ValidationPlan
from meshc.errors import SourceError, UnsupportedConstruct
from meshc.rules import expr as ir
from meshc.rules.checks import NotNull, Origin, Range, RowCheck, SqlRule, Unique
from meshc.rules.regex import like_to_regex
from meshc.types import (
    BOOLEAN,
    DATE,
    FLOAT,
    INTEGER,
    STRING,
    TIMESTAMP,
    TIMESTAMP_TZ,
    Kind,
    LogicalType,
)
from tests.conftest import TEST_MASKING_KEY

ORIGIN = Origin("t.yaml", 1, 1)
UTC = dt.timezone.utc


@pytest.fixture
def engine() -> PolarsEngine:
    return create()


def rule(
    rule_id: str,
    expr: ir.Expr,
    sql: str = "",
    severity: str = "error",
    description: str | None = None,
) -> SqlRule:
    return SqlRule(
        id=rule_id,
        severity=severity,
        rule=sql or rule_id,  # type: ignore[arg-type]
        origin=ORIGIN,
        description=description,
        expr=expr,
        sql=sql or rule_id,
    )


def plan(columns: dict[str, LogicalType], *checks: RowCheck, **options: Any) -> ValidationPlan:
    specs = tuple(ColumnSpec(n, t) for n, t in columns.items())
    return ValidationPlan(columns=specs, checks=checks, **options)


def text_frame(**columns: Sequence[str | None]) -> pl.LazyFrame:
    return pl.LazyFrame(columns, schema={c: pl.String for c in columns})


def run(engine: Engine, frame: pl.LazyFrame | pl.DataFrame, p: ValidationPlan) -> Split:
    split = engine.validate(frame, p)
    assert split.rows_in == split.rows_valid + split.rows_quarantined
    return split


def cast_one(
    engine: Engine, ltype: LogicalType, values: list[str | None]
) -> tuple[list[Any], list[str | None]]:
    """Values that cast (valid, in order) and raw texts that failed (quarantined)."""
    split = run(engine, text_frame(x=values), plan({"x": ltype}))
    return split.valid["x"].to_list(), split.quarantine["x"].to_list()


def dec(p: int, s: int) -> LogicalType:
    return LogicalType(Kind.DECIMAL, p, s)


def predicate_values(
    engine: PolarsEngine,
    expr: ir.Expr,
    columns: dict[str, LogicalType],
    **data: Sequence[str | None],
) -> list[bool]:
    """Which rows pass `expr` (True = kept: TRUE or NULL)."""
    split = run(engine, text_frame(**data), plan(columns, rule("r", expr)))
    failing = set(split.quarantine["row"].to_list()) if "row" in data else set()
    return [row not in failing for row in data["row"]]


# -- casting ---------------------------------------------------------------------------------


def test_integer_forms(engine: PolarsEngine) -> None:
    good, bad = cast_one(
        engine,
        INTEGER,
        [
            "1",
            " -5 ",
            "+7",
            "9223372036854775807",
            None,
            "1.0",
            "1e3",
            "9223372036854775808",
            "abc",
            "-",
        ],
    )
    assert good == [1, -5, 7, 9223372036854775807, None]
    assert bad == ["1.0", "1e3", "9223372036854775808", "abc", "-"]


def test_float_forms_nan_and_inf(engine: PolarsEngine) -> None:
    good, bad = cast_one(
        engine,
        FLOAT,
        ["1.5", "1e3", "-2.5E-1", "inf", "-INF", "Infinity", "nan", "NaN", "abc", "1,5", "1e"],
    )
    assert good[:6] == [1.5, 1000.0, -0.25, float("inf"), float("-inf"), float("inf")]
    assert good[6:] == [None, None]  # NaN is read as NULL, not a failure
    assert bad == ["abc", "1,5", "1e"]


def test_decimal_never_rounds(engine: PolarsEngine) -> None:
    good, bad = cast_one(
        engine, dec(5, 2), ["123.45", "-0.5", "+7", "007.10", "1.234", "1234.5", "1e2", ".5", "abc"]
    )
    assert good == [Decimal("123.45"), Decimal("-0.50"), Decimal("7.00"), Decimal("7.10")]
    assert bad == ["1.234", "1234.5", "1e2", ".5", "abc"]


def test_decimal_type_is_native(engine: PolarsEngine) -> None:
    split = run(engine, text_frame(x=["1.5"]), plan({"x": dec(10, 3)}))
    assert split.valid.schema["x"] == pl.Decimal(10, 3)


def test_boolean_forms(engine: PolarsEngine) -> None:
    good, bad = cast_one(
        engine, BOOLEAN, ["true", "F", "Yes", "no", "1", "0", " t ", "y", "2", "truthy"]
    )
    assert good == [True, False, True, False, True, False, True]
    assert bad == ["y", "2", "truthy"]


def test_date_forms_and_calendar(engine: PolarsEngine) -> None:
    good, bad = cast_one(
        engine,
        DATE,
        [
            "2024-02-29",
            " 2024-01-31 ",
            "2023-02-29",
            "2024-13-45",
            "2024-02-30",
            "2024/01/01",
            "24-01-01",
        ],
    )
    assert good == [dt.date(2024, 2, 29), dt.date(2024, 1, 31)]
    assert bad == ["2023-02-29", "2024-13-45", "2024-02-30", "2024/01/01", "24-01-01"]


def test_timestamp_offsets_normalised_to_utc(engine: PolarsEngine) -> None:
    good, bad = cast_one(
        engine,
        TIMESTAMP,
        [
            "2024-01-01",
            "2024-01-01 10:30",
            "2024-01-01T10:30:15.5",
            "2024-01-01T10:00:00+02:00",
            "2024-01-01T23:00:00-05:30",
            "2024-01-01T10:00:00Z",
            "2024-01-01 10:30Z",
            "2024-01-01+02:00",
            "2024-01-01T10:00:00.123456-01:00",
            "2024-01-01T25:00:00",
            "2024-02-30T10:00",
            "2024-01-01T10:00+25:00",
            "2024-12-31T23:59:60",
            "2024-01-01T10:00:00.1234567",
            "2024-01-01 10",
            "nope",
        ],
    )
    assert good == [
        dt.datetime(2024, 1, 1),
        dt.datetime(2024, 1, 1, 10, 30),
        dt.datetime(2024, 1, 1, 10, 30, 15, 500000),
        dt.datetime(2024, 1, 1, 8),
        dt.datetime(2024, 1, 2, 4, 30),
        dt.datetime(2024, 1, 1, 10),
        dt.datetime(2024, 1, 1, 10, 30),
        dt.datetime(2023, 12, 31, 22),
        dt.datetime(2024, 1, 1, 11, 0, 0, 123456),
    ]
    assert bad == [
        "2024-01-01T25:00:00",
        "2024-02-30T10:00",
        "2024-01-01T10:00+25:00",
        "2024-12-31T23:59:60",
        "2024-01-01T10:00:00.1234567",
        "2024-01-01 10",
        "nope",
    ]


def test_timestamp_tz_is_utc_instant(engine: PolarsEngine) -> None:
    split = run(
        engine,
        text_frame(x=["2024-06-01T12:00:00+02:00", "2024-06-01 12:00"]),
        plan({"x": TIMESTAMP_TZ}),
    )
    assert split.valid.schema["x"] == pl.Datetime("us", "UTC")
    assert split.valid["x"].to_list() == [
        dt.datetime(2024, 6, 1, 10, tzinfo=UTC),
        dt.datetime(2024, 6, 1, 12, tzinfo=UTC),
    ]


def test_string_kept_byte_for_byte_and_null_values(engine: PolarsEngine) -> None:
    split = run(
        engine, text_frame(s=[" a ", "", "NA"]), plan({"s": STRING}, null_values=("", "NA"))
    )
    assert split.valid["s"].to_list() == [" a ", None, None]
    kept = run(engine, text_frame(s=[""]), plan({"s": STRING}, null_values=()))
    assert kept.valid["s"].to_list() == [""]


def test_cast_failure_reason_and_raw_value(engine: PolarsEngine) -> None:
    split = run(
        engine,
        text_frame(id=["1", "2"], amount=["abc", "3.5"]),
        plan({"id": INTEGER, "amount": FLOAT}),
    )
    assert split.failures == {"amount.type": 1}
    row = split.quarantine.row(0, named=True)
    assert row["amount"] == "abc"
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


def test_cast_failed_column_is_null_for_checks(engine: PolarsEngine) -> None:
    x = ir.Col("x", INTEGER)
    p = plan(
        {"x": INTEGER},
        NotNull("x.required", "error", "required", ORIGIN, None, x),
        rule("pos", ir.Compare(">", x, ir.Lit(0, INTEGER))),
    )
    split = run(engine, text_frame(x=["oops", None, "-1"]), p)
    assert split.failures == {"x.type": 1, "x.required": 1, "pos": 1}
    reasons = [[r["rule_id"] for r in rs] for rs in split.quarantine[REASONS].to_list()]
    assert reasons == [["x.type"], ["x.required"], ["pos"]]


# -- checks and expressions --------------------------------------------------------------------


def test_null_is_not_a_violation(engine: PolarsEngine) -> None:
    x = ir.Col("x", FLOAT)
    split = run(
        engine,
        text_frame(x=[None, "1", "-1"]),
        plan({"x": FLOAT}, rule("pos", ir.Compare(">=", x, ir.Lit(0, INTEGER)))),
    )
    assert split.valid["x"].to_list() == [None, 1.0]
    assert split.quarantine["x"].to_list() == ["-1"]
    assert split.failures == {"pos": 1}


def test_three_valued_logic(engine: PolarsEngine) -> None:
    a, b = ir.Col("a", BOOLEAN), ir.Col("b", BOOLEAN)
    cols = {"row": STRING, "a": BOOLEAN, "b": BOOLEAN}
    data: dict[str, Sequence[str | None]] = {
        "row": ["1", "2", "3", "4"],
        "a": [None, None, "false", "true"],
        "b": ["false", "true", "true", None],
    }
    assert predicate_values(engine, ir.And(a, b), cols, **data) == [False, True, False, True]
    assert predicate_values(engine, ir.Or(a, b), cols, **data) == [True, True, True, True]
    assert predicate_values(engine, ir.Not(a), cols, **data) == [True, True, True, False]


def test_like_derived_regex_and_search(engine: PolarsEngine) -> None:
    s = ir.Col("s", STRING)
    cols = {"row": STRING, "s": STRING}
    data = {"row": ["1", "2", "3", "4"], "s": ["AB-1", "ab-22", "xAB-1", "AB\n-"]}
    like = ir.RegexSearch(s, like_to_regex("AB-_"))
    assert predicate_values(engine, like, cols, **data) == [True, False, False, False]
    ilike = ir.RegexSearch(s, like_to_regex("ab-%"), case_insensitive=True)
    assert predicate_values(engine, ilike, cols, **data) == [True, True, False, False]
    percent_spans_newline = ir.RegexSearch(s, like_to_regex("AB%"))
    assert predicate_values(engine, percent_spans_newline, cols, **data) == [
        True,
        False,
        False,
        True,
    ]
    search = ir.RegexSearch(s, "[0-9]{2}")  # unanchored
    assert predicate_values(engine, search, cols, **data) == [False, True, False, False]


def test_arithmetic_division_by_zero_and_modulo(engine: PolarsEngine) -> None:
    a, b = ir.Col("a", INTEGER), ir.Col("b", INTEGER)
    cols = {"row": STRING, "a": INTEGER, "b": INTEGER}
    data = {"row": ["1", "2", "3"], "a": ["7", "7", "-7"], "b": ["2", "0", "3"]}
    half = ir.Compare("=", ir.Arith("/", a, b, FLOAT), ir.Lit(3.5, FLOAT))
    assert predicate_values(engine, half, cols, **data) == [True, True, False]  # 7/0 -> NULL
    rem = ir.Compare("=", ir.Arith("%", a, b, INTEGER), ir.Lit(-1, INTEGER))
    assert predicate_values(engine, rem, cols, **data) == [False, True, True]  # SQL sign
    total = ir.Compare(
        ">",
        ir.Arith("*", ir.Arith("+", a, b, INTEGER), ir.Lit(2, INTEGER), INTEGER),
        ir.Lit(10, INTEGER),
    )
    assert predicate_values(engine, total, cols, **data) == [True, True, False]


def test_decimal_division_by_zero_is_null(engine: PolarsEngine) -> None:
    d = ir.Col("d", dec(10, 2))
    expr = ir.IsNull(ir.Arith("/", d, ir.Lit(Decimal("0"), dec(10, 2)), FLOAT))
    split = run(engine, text_frame(d=["1.50"]), plan({"d": dec(10, 2)}, rule("r", expr)))
    assert split.rows_valid == 1


def test_numeric_comparisons_across_types(engine: PolarsEngine) -> None:
    d, i = ir.Col("d", dec(10, 2)), ir.Col("i", INTEGER)
    cols = {"row": STRING, "d": dec(10, 2), "i": INTEGER}
    data = {"row": ["1", "2"], "d": ["1.00", "1.01"], "i": ["1", "1"]}
    assert predicate_values(engine, ir.Compare("=", d, i), cols, **data) == [True, False]
    assert predicate_values(
        engine, ir.Compare("<=", d, ir.Lit(Decimal("1.005"), dec(10, 3))), cols, **data
    ) == [True, False]
    assert predicate_values(engine, ir.Compare("<", i, ir.Lit(1.5, FLOAT)), cols, **data) == [
        True,
        True,
    ]


def test_case_and_coalesce(engine: PolarsEngine) -> None:
    x = ir.Col("x", INTEGER)
    cols = {"row": STRING, "x": INTEGER}
    data: dict[str, Sequence[str | None]] = {"row": ["1", "2", "3"], "x": ["5", "-5", None]}
    sign = ir.Case(
        ((ir.Compare(">", x, ir.Lit(0, INTEGER)), ir.Lit("pos", STRING)),),
        ir.Lit("other", STRING),
        STRING,
    )
    assert predicate_values(engine, ir.Compare("=", sign, ir.Lit("pos", STRING)), cols, **data) == [
        True,
        False,
        False,
    ]  # NULL condition -> ELSE
    filled = ir.Coalesce((x, ir.Lit(0, INTEGER)), INTEGER)
    assert predicate_values(engine, ir.Compare(">=", filled, ir.Lit(0, INTEGER)), cols, **data) == [
        True,
        False,
        True,
    ]


def test_string_functions(engine: PolarsEngine) -> None:
    s = ir.Col("s", STRING)
    cols = {"row": STRING, "s": STRING}
    data = {"row": ["1", "2"], "s": ["  héllo ", "ab"]}
    length = ir.Compare("=", ir.StrFn("length", ir.StrFn("trim", s)), ir.Lit(5, INTEGER))
    assert predicate_values(engine, length, cols, **data) == [True, False]
    sub = ir.Compare("=", ir.Substring(ir.StrFn("upper", s), 4, 2), ir.Lit("ÉL", STRING))
    assert predicate_values(engine, sub, cols, **data) == [True, False]
    concat = ir.Compare("=", ir.Concat((s, ir.Lit("!", STRING))), ir.Lit("ab!", STRING))
    assert predicate_values(engine, concat, cols, **data) == [False, True]


def test_concat_with_null_is_null(engine: PolarsEngine) -> None:
    s = ir.Col("s", STRING)
    expr = ir.IsNull(ir.Concat((s, ir.Lit("x", STRING))))
    split = run(engine, text_frame(s=[None, "a"]), plan({"s": STRING}, rule("r", expr)))
    assert split.valid["s"].to_list() == [None]


def test_cast_node_semantics(engine: PolarsEngine) -> None:
    f, s = ir.Col("f", FLOAT), ir.Col("s", STRING)
    cols = {"row": STRING, "f": FLOAT, "s": STRING}
    data = {"row": ["1", "2", "3"], "f": ["-1.9", "2.9", "1"], "s": ["1.0", "12", " 3 "]}
    trunc = ir.Compare("=", ir.Cast(f, INTEGER), ir.Lit(-1, INTEGER))
    assert predicate_values(engine, trunc, cols, **data) == [True, False, False]
    failed_is_null = ir.IsNull(ir.Cast(s, INTEGER), negated=True)  # '1.0' is not an integer
    assert predicate_values(engine, failed_is_null, cols, **data) == [False, True, True]


def test_date_add_month_end_and_leap_day(engine: PolarsEngine) -> None:
    d = ir.Col("d", DATE)
    cols = {"row": STRING, "d": DATE}
    data = {"row": ["1", "2", "3"], "d": ["2024-01-31", "2024-02-29", "2023-03-31"]}

    def equals(node: ir.Expr, *expected: dt.date) -> list[bool]:
        lits = tuple(ir.Lit(e, DATE) for e in expected)
        return predicate_values(engine, ir.InList(node, lits), cols, **data)

    assert equals(
        ir.DateAdd(d, 1, "month"), dt.date(2024, 2, 29), dt.date(2024, 3, 29), dt.date(2023, 4, 30)
    ) == [True, True, True]
    assert equals(
        ir.DateAdd(d, 1, "year"), dt.date(2025, 1, 31), dt.date(2025, 2, 28), dt.date(2024, 3, 31)
    ) == [True, True, True]
    assert equals(
        ir.DateAdd(d, -1, "month"),
        dt.date(2023, 12, 31),
        dt.date(2024, 1, 29),
        dt.date(2023, 2, 28),
    ) == [True, True, True]
    diff = ir.Compare(
        "=", ir.DateDiffDays(d, ir.Lit(dt.date(2024, 1, 1), DATE)), ir.Lit(59, INTEGER)
    )
    assert predicate_values(engine, diff, cols, **data) == [False, True, False]


def test_timestamp_add_hours(engine: PolarsEngine) -> None:
    t = ir.Col("t", TIMESTAMP_TZ)
    expr = ir.Compare(
        "=", ir.DateAdd(t, 2, "hour"), ir.Lit(dt.datetime(2024, 1, 1, 1, tzinfo=UTC), TIMESTAMP_TZ)
    )
    split = run(
        engine,
        text_frame(t=["2023-12-31T23:00:00Z", "2024-01-01"]),
        plan({"t": TIMESTAMP_TZ}, rule("r", expr)),
    )
    assert split.rows_valid == 1 and split.rows_quarantined == 1


def test_in_list_with_null_and_between(engine: PolarsEngine) -> None:
    x = ir.Col("x", INTEGER)
    cols = {"row": STRING, "x": INTEGER}
    data = {"row": ["1", "2"], "x": ["1", "5"]}
    not_in = ir.InList(x, (ir.Lit(1, INTEGER), ir.Lit(None, None)), negated=True)
    assert predicate_values(engine, not_in, cols, **data) == [False, True]  # 5: NULL
    between = ir.Between(x, ir.Lit(0, INTEGER), ir.Lit(3, INTEGER))
    assert predicate_values(engine, between, cols, **data) == [True, False]


def test_duplicates_quarantine_every_copy_and_skip_nulls(engine: PolarsEngine) -> None:
    a, b = ir.Col("a", INTEGER), ir.Col("b", STRING)
    unique = Unique("ab.unique", "error", "unique(a, b)", ORIGIN, None, (a, b))
    split = run(
        engine,
        text_frame(a=["1", "1", "1", None, None, "2"], b=["x", "x", "y", "z", "z", "x"]),
        plan({"a": INTEGER, "b": STRING}, unique),
    )
    assert split.quarantine["a"].to_list() == ["1", "1"]
    assert split.failures == {"ab.unique": 2}
    assert split.rows_valid == 4


def test_reasons_order_content_and_warn(engine: PolarsEngine) -> None:
    a, b = ir.Col("a", INTEGER), ir.Col("b", INTEGER)
    checks = (
        Range(
            "b.range", "warn", "range 0..9", ORIGIN, None, b, ir.Lit(0, INTEGER), ir.Lit(9, INTEGER)
        ),
        rule(
            "a_pos",
            ir.Compare(">", a, ir.Lit(0, INTEGER)),
            sql="a > 0",
            description="a must be positive",
        ),
        rule("sql_1234abcd", ir.Compare("<", b, a), sql="b < a"),
    )
    split = run(
        engine,
        text_frame(a=["-1", "50", "x"], b=["10", "10", "1"]),
        plan({"a": INTEGER, "b": INTEGER}, *checks),
    )
    # row 2 fails only warn checks: counted, not quarantined
    assert split.valid["a"].to_list() == [50]
    assert split.failures == {"a.type": 1, "b.range": 2, "a_pos": 1, "sql_1234abcd": 1}
    first, second = split.quarantine[REASONS].to_list()
    assert first == [
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
    assert split.quarantine.columns == ["a", "b", REASONS]


def test_include_reasons_false_extra_columns_and_lineage(engine: PolarsEngine) -> None:
    x = ir.Col("x", INTEGER)
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    p = plan(
        {"x": INTEGER},
        rule("pos", ir.Compare(">", x, ir.Lit(0, INTEGER))),
        include_reasons=False,
        extra_columns="keep",
        lineage={"_meshc_run_id": "run-1", "_meshc_processed_at": now},
    )
    split = run(engine, text_frame(note=["n1", "n2"], x=["1", "-1"]), p)
    assert split.valid.columns == ["x", "note", "_meshc_run_id", "_meshc_processed_at"]
    assert split.valid.row(0) == (1, "n1", "run-1", now)
    assert split.valid.schema["_meshc_processed_at"] == pl.Datetime("us", "UTC")
    assert split.quarantine.columns == ["note", "x", "_meshc_run_id", "_meshc_processed_at"]
    dropped = run(engine, text_frame(note=["n1"], x=["1"]), plan({"x": INTEGER}))
    assert dropped.valid.columns == ["x"]


def test_missing_and_forbidden_columns(engine: PolarsEngine) -> None:
    with pytest.raises(SourceError, match="y"):
        engine.validate(text_frame(x=["1"]), plan({"x": INTEGER, "y": INTEGER}))
    with pytest.raises(SourceError, match="extra"):
        engine.validate(
            text_frame(x=["1"], extra=["2"]), plan({"x": INTEGER}, extra_columns="error")
        )


def test_unsupported_node_raises_named_error(engine: PolarsEngine) -> None:
    p = plan({"x": DATE}, rule("r", ir.Compare("<", ir.Col("x", DATE), ir.CurrentDate())))
    with pytest.raises(UnsupportedConstruct, match="MC390 CurrentDate is not supported on polars"):
        engine.validate(text_frame(x=["2024-01-01"]), p)


def test_failures_counts_every_check(engine: PolarsEngine) -> None:
    x = ir.Col("x", INTEGER)
    split = run(
        engine,
        text_frame(x=["1", "2"]),
        plan({"x": INTEGER}, rule("pos", ir.Compare(">", x, ir.Lit(0, INTEGER)))),
    )
    assert split.failures == {"pos": 0}
    assert (split.rows_in, split.rows_valid, split.rows_quarantined) == (2, 2, 0)


# -- aggregates ---------------------------------------------------------------------------------


def test_aggregate(engine: PolarsEngine) -> None:
    frame = pl.DataFrame({"x": [1.0, None, 3.0, 3.0], "s": ["a", "b", None, "a"]})
    x, s = ir.Col("x", FLOAT), ir.Col("s", STRING)
    result = engine.aggregate(
        frame,
        {
            "n": ir.Agg("count_all", None, INTEGER),
            "nx": ir.Agg("count", x, INTEGER),
            "sum": ir.Agg("sum", x, FLOAT),
            "avg": ir.Agg("avg", x, FLOAT),
            "lo": ir.Agg("min", x, FLOAT),
            "hi": ir.Agg("max", x, FLOAT),
            "distinct": ir.Agg("count_distinct", s, INTEGER),
            "ok": ir.Compare(
                ">",
                ir.Agg("sum", x, FLOAT),
                ir.Arith("*", ir.Agg("count_all", None, INTEGER), ir.Lit(1, INTEGER), INTEGER),
            ),
        },
    )
    assert result == {
        "n": 4,
        "nx": 3,
        "sum": 7.0,
        "avg": 7 / 3,
        "lo": 1.0,
        "hi": 3.0,
        "distinct": 2,
        "ok": True,
    }
    empty = engine.aggregate(frame.clear(), {"sum": ir.Agg("sum", x, FLOAT)})
    assert empty == {"sum": None}


# -- reading and writing ------------------------------------------------------------------------


def test_read_csv_all_text_and_several_files(engine: PolarsEngine, tmp_path: Path) -> None:
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("id;amount\n1;2.50\n;x\n")
    frame = engine.read(
        [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")],
        "csv",
        delimiter=";",
        text_columns=["id", "amount"],
    )
    assert isinstance(frame, pl.LazyFrame)
    data = frame.collect()
    assert data.schema == pl.Schema({"id": pl.String, "amount": pl.String})
    assert data["amount"].to_list() == ["2.50", "x", "2.50", "x"]
    assert data["id"].to_list() == ["1", "", "1", ""]  # '' becomes NULL only via null_values
    split = run(engine, frame, plan({"id": INTEGER, "amount": dec(5, 2)}))
    assert split.valid["amount"].to_list() == [Decimal("2.50")] * 2
    assert split.quarantine["id"].to_list() == [None, None]


def test_read_json_array_and_ndjson(engine: PolarsEngine, tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('[{"id": 1, "v": "x"}, {"id": 2.5, "v": null}]')
    (tmp_path / "b.ndjson").write_text('{"id": 3, "v": "y"}\n')
    array = engine.read([str(tmp_path / "a.json")], "json", text_columns=["id", "v"]).collect()
    assert array["id"].to_list() == ["1", "2.5"]
    both = engine.read(
        [str(tmp_path / "a.json"), str(tmp_path / "b.ndjson")], "json", text_columns=["id", "v"]
    )
    split = run(engine, both, plan({"id": INTEGER, "v": STRING}))
    assert split.valid["id"].to_list() == [1, 3]
    assert split.quarantine["id"].to_list() == ["2.5"]


def test_read_parquet_keeps_stored_types(engine: PolarsEngine, tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    pl.DataFrame({"x": [1.0, 1.5, float("nan")], "s": ["", "a", None]}).write_parquet(path)
    frame = engine.read([str(path)], "parquet")
    split = run(engine, frame, plan({"x": INTEGER, "s": STRING}))
    assert split.valid["x"].to_list() == [1, None]  # 1.0 is integral; NaN is NULL
    assert split.valid["s"].to_list() == ["", None]  # stored '' is data, not a null value
    assert split.quarantine["x"].to_list() == [1.5]


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_write_and_read_back(engine: PolarsEngine, tmp_path: Path, fmt: str) -> None:
    x = ir.Col("x", INTEGER)
    split = run(
        engine,
        text_frame(x=["5", "-1", "bad"]),
        plan({"x": INTEGER}, rule("pos", ir.Compare(">", x, ir.Lit(0, INTEGER)))),
    )
    valid_path, quarantine_path = tmp_path / f"valid.{fmt}", tmp_path / f"q.{fmt}"
    engine.write(split.valid, valid_path, fmt)
    engine.write(split.quarantine, quarantine_path, fmt)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [valid_path.name, quarantine_path.name]
    )
    if fmt == "parquet":
        assert pl.read_parquet(valid_path)["x"].to_list() == [5]
        back = pl.read_parquet(quarantine_path)
        assert back[REASONS].to_list()[1][0]["rule_id"] == "x.type"
        return
    if fmt == "csv":
        valid_back, back = pl.read_csv(valid_path), pl.read_csv(quarantine_path, infer_schema=False)
    else:
        valid_back, back = pl.read_ndjson(valid_path), pl.read_ndjson(quarantine_path)
    assert valid_back["x"].to_list() == [5]
    reasons = [json.loads(text) for text in back[REASONS].to_list()]
    assert reasons[0] == [
        {
            "rule_id": "pos",
            "rule": "pos",
            "column": "x",
            "value": "-1",
            "message": "violates pos",
            "severity": "error",
        }
    ]
    assert reasons[1][0]["value"] == "bad"


def test_csv_output_reads_back_through_meshc(engine: PolarsEngine, tmp_path: Path) -> None:
    columns = {"t": TIMESTAMP_TZ, "n": TIMESTAMP, "d": dec(6, 2)}
    source = text_frame(t=["2024-06-01T12:00:00.5+02:00"], n=["2024-06-01 12:00"], d=["1.50"])
    first = run(engine, source, plan(columns))
    engine.write(first.valid, tmp_path / "v.csv", "csv")
    again = run(engine, engine.read([str(tmp_path / "v.csv")], "csv"), plan(columns))
    assert again.rows_quarantined == 0
    assert again.valid.equals(first.valid)


def test_read_header_only_and_empty_files(engine: PolarsEngine, tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("id\n")
    split = run(engine, engine.read([str(tmp_path / "h.csv")], "csv"), plan({"id": INTEGER}))
    assert (split.rows_in, split.valid.schema["id"]) == (0, pl.Int64)
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(SourceError):
        engine.columns(engine.read([str(tmp_path / "e.csv")], "csv"))


def test_ndjson_key_first_seen_late(engine: PolarsEngine, tmp_path: Path) -> None:
    lines = [json.dumps({"a": i}) for i in range(120)] + [json.dumps({"a": 1, "id": 7})]
    (tmp_path / "late.ndjson").write_text("\n".join(lines))
    frame = engine.read([str(tmp_path / "late.ndjson")], "ndjson", text_columns=["id"])
    split = run(engine, frame, plan({"id": INTEGER}))
    assert split.valid["id"].drop_nulls().to_list() == [7]


def test_eager_frame_and_registry(engine: PolarsEngine) -> None:
    from meshc.engines.registry import get_engine

    registered = get_engine("polars")
    split = run(registered, pl.DataFrame({"x": ["1", ""]}), plan({"x": INTEGER}))
    assert split.valid["x"].to_list() == [1, None]


def test_mask_columns_and_reason_values(engine: PolarsEngine) -> None:
    email, n = ir.Col("email", STRING), ir.Col("n", INTEGER)
    p = plan(
        {"email": STRING, "n": INTEGER, "card": STRING},
        rule("dot_com", ir.RegexSearch(email, "[.]com$")),
        rule("n_pos", ir.Compare(">", n, ir.Lit(0, INTEGER))),
    )
    split = run(
        engine,
        text_frame(
            email=["a@b.org", "x@y.com", None],
            n=["5", "-1", "2"],
            card=["1234567890", "abcd", None],
        ),
        p,
    )
    masks = {"email": "hash", "n": "nullify", "card": "partial"}
    valid, quarantine = engine.mask(split.valid, masks), engine.mask(split.quarantine, masks)
    assert valid["card"].to_list() == [None]  # NULL stays NULL
    assert valid.schema["n"] == pl.Int64 and valid["n"].to_list() == [None]  # keeps its type
    key = TEST_MASKING_KEY.encode()  # `hash` is HMAC-SHA256 under the tests' key (conftest)
    digest, other = (hmac.new(key, v, hashlib.sha256).hexdigest() for v in (b"a@b.org", b"x@y.com"))
    assert quarantine["email"].to_list() == [digest, other]
    assert quarantine["card"].to_list() == ["******7890", "****"]
    first, second = quarantine[REASONS].to_list()
    assert first[0]["value"] == digest  # the reason's value is masked like its column
    assert second[0]["value"] is None  # n is nullified everywhere
    redacted = engine.mask(split.quarantine, {"email": "redact"})
    assert redacted["email"].to_list() == ["[REDACTED]", "[REDACTED]"]
    assert redacted[REASONS].to_list()[0][0]["value"] == "[REDACTED]"


def test_to_arrow_and_columns(engine: PolarsEngine) -> None:
    frame = text_frame(a=["1"], b=["2"])
    assert engine.columns(frame) == ["a", "b"]
    assert engine.to_arrow(frame).num_rows == 1
    assert engine.name == "polars"
