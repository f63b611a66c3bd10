"""The pandas engine against docs/semantics.md, on tiny inputs."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from meshc.engines._pandas.engine import PandasEngine, create
from meshc.engines._pandas.translate import evaluate
from meshc.engines.base import REASONS, ColumnSpec, Split, ValidationPlan
from meshc.errors import SourceError, UnsupportedConstruct
from meshc.rules import expr as ir
from meshc.rules.checks import NotNull, Origin, RowCheck, SqlRule, Unique
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

ORIGIN = Origin("t.yaml", 1, 1)
DEC52 = LogicalType(Kind.DECIMAL, 5, 2)


@pytest.fixture
def engine() -> PandasEngine:
    return create()


def text_frame(**columns: list[str | None]) -> pd.DataFrame:
    frame = pd.DataFrame({k: pd.Series(v, dtype="string[pyarrow]") for k, v in columns.items()})
    frame.attrs["meshc_text_source"] = True
    return frame


def rule(
    expr: ir.Expr,
    rid: str = "r1",
    severity: str = "error",
    text: str = "rule",
    description: str | None = None,
) -> SqlRule:
    return SqlRule(
        id=rid,
        severity=severity,
        rule=text,
        origin=ORIGIN,  # type: ignore[arg-type]
        description=description,
        expr=expr,
        sql=text,
    )


def plan(columns: dict[str, LogicalType], *checks: RowCheck, **kw: Any) -> ValidationPlan:
    return ValidationPlan(
        columns=tuple(ColumnSpec(n, t) for n, t in columns.items()), checks=checks, **kw
    )


def valid_rows(engine: PandasEngine, split: Split) -> list[dict[str, Any]]:
    return engine.to_arrow(split.valid).to_pylist()


def reasons(engine: PandasEngine, split: Split) -> list[list[dict[str, Any]]]:
    return engine.to_arrow(split.quarantine).column(REASONS).to_pylist()


# -- casting ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ltype", "good", "bad"),
    [
        (
            INTEGER,
            ["1", " -42 ", "+7", "9223372036854775807", "-9223372036854775808"],
            ["1.0", "1e3", "abc", "9223372036854775808", "-9223372036854775809"],
        ),
        (FLOAT, ["1.5", "-2", "1e-3", "inf", "-Infinity", "INF"], ["abc", "1,5", "e5", "--1"]),
        (DEC52, ["123.45", "-0.1", "+001.5", "0", "999.99"], ["1234.5", "1.234", "1.", ".5", "x"]),
        (BOOLEAN, ["true", "F", "Yes", "no", "1", "0", " t "], ["2", "y", "truthy"]),
        (
            DATE,
            ["2024-02-29", "2024-01-31", "0001-01-01", "9999-12-31"],
            ["2023-02-29", "2024-13-45", "2024-02-30", "2024-1-01", "2024/01/01"],
        ),
        (
            TIMESTAMP,
            ["2024-01-01", "2024-01-01T10:00", "2024-01-01 10:00:05.123456"],
            ["2024-01-01T24:00", "2024-01-01T10:00:00.1234567", "2024-02-30T00:00", "10:00"],
        ),
    ],
)
def test_cast_forms(
    engine: PandasEngine, ltype: LogicalType, good: list[str], bad: list[str]
) -> None:
    split = engine.validate(text_frame(x=good + bad), plan({"x": ltype}))
    assert split.rows_valid == len(good)
    assert split.failures == {"x.type": len(bad)}
    assert engine.to_arrow(split.quarantine).column("x").to_pylist() == bad  # raw text kept
    assert (
        engine.to_arrow(split.valid).schema.field("x").type
        == {
            INTEGER: pa.int64(),
            FLOAT: pa.float64(),
            DEC52: pa.decimal128(5, 2),
            BOOLEAN: pa.bool_(),
            DATE: pa.date32(),
            TIMESTAMP: pa.timestamp("us"),
        }[ltype]
    )


def test_cast_values(engine: PandasEngine) -> None:
    split = engine.validate(
        text_frame(i=["+7"], f=[" 1e3 "], d=["+001.5"], b=["YES"], day=["2024-02-29"], s=["  a "]),
        plan({"i": INTEGER, "f": FLOAT, "d": DEC52, "b": BOOLEAN, "day": DATE, "s": STRING}),
    )
    assert valid_rows(engine, split) == [
        {
            "i": 7,
            "f": 1000.0,
            "d": Decimal("1.50"),
            "b": True,
            "day": dt.date(2024, 2, 29),
            "s": "  a ",
        }
    ]


def test_nan_is_null_not_failure(engine: PandasEngine) -> None:
    split = engine.validate(
        text_frame(x=["nan", "NaN", "1.5"]),
        plan({"x": FLOAT}, rule(ir.IsNull(ir.Col("x", FLOAT), negated=True))),
    )
    assert "x.type" not in split.failures
    assert split.failures == {"r1": 2}  # NaN was read as NULL, so IS NOT NULL fails
    assert split.rows_valid == 1


def test_offsets_normalised_to_utc(engine: PandasEngine) -> None:
    raw = ["2024-01-01T10:00:00+02:00", "2024-01-01T01:00-01:30", "2024-06-30 23:30Z", "2024-03-01"]
    split = engine.validate(text_frame(ts=raw, tz=raw), plan({"ts": TIMESTAMP, "tz": TIMESTAMP_TZ}))
    table = engine.to_arrow(split.valid)
    assert table.schema.field("tz").type == pa.timestamp("us", tz="UTC")
    naive = [
        dt.datetime(2024, 1, 1, 8),
        dt.datetime(2024, 1, 1, 2, 30),
        dt.datetime(2024, 6, 30, 23, 30),
        dt.datetime(2024, 3, 1),
    ]
    assert table.column("ts").to_pylist() == naive
    assert table.column("tz").to_pylist() == [d.replace(tzinfo=dt.timezone.utc) for d in naive]


def test_null_values_and_missing_value_is_null_in_reasons(engine: PandasEngine) -> None:
    check = NotNull(
        id="x.required",
        severity="error",
        rule="required",
        origin=ORIGIN,
        description=None,
        column=ir.Col("x", INTEGER),
    )
    split = engine.validate(
        text_frame(x=["1", "", "NA"]), plan({"x": INTEGER}, check, null_values=("", "NA"))
    )
    assert split.failures == {"x.required": 2}
    table = engine.to_arrow(split.quarantine)
    assert table.column("x").to_pylist() == [
        None,
        None,
    ]  # null_values are NULL everywhere, quarantine too
    assert [r[0]["value"] for r in table.column(REASONS).to_pylist()] == [None, None]


# -- checks ----------------------------------------------------------------------------------------
def test_null_is_not_a_violation(engine: PandasEngine) -> None:
    check = rule(ir.Compare(">=", ir.Col("x", FLOAT), ir.Lit(0, INTEGER)))
    split = engine.validate(text_frame(x=["1", None, "", "-1"]), plan({"x": FLOAT}, check))
    assert split.failures == {"r1": 1}
    assert (split.rows_in, split.rows_valid, split.rows_quarantined) == (4, 3, 1)


def test_cast_failure_is_not_also_a_rule_failure(engine: PandasEngine) -> None:
    check = rule(ir.Compare(">=", ir.Col("x", FLOAT), ir.Lit(0, INTEGER)))
    split = engine.validate(text_frame(x=["abc"]), plan({"x": FLOAT}, check))
    assert split.failures == {"r1": 0, "x.type": 1}
    assert [r["rule_id"] for r in reasons(engine, split)[0]] == ["x.type"]


def test_inf_is_a_float(engine: PandasEngine) -> None:
    check = rule(ir.Compare("<", ir.Col("x", FLOAT), ir.Lit(1e308, FLOAT)))
    split = engine.validate(text_frame(x=["inf", "-inf", "5"]), plan({"x": FLOAT}, check))
    assert split.failures == {"r1": 1}
    assert engine.to_arrow(split.quarantine).column("x").to_pylist() == ["inf"]


def test_decimal_compares_with_integer_and_decimal(engine: PandasEngine) -> None:
    x = ir.Col("x", DEC52)
    split = engine.validate(
        text_frame(x=["0.50", "1.00", "1.01"]),
        plan(
            {"x": DEC52},
            rule(ir.Compare("<=", x, ir.Lit(1, INTEGER)), "le_int"),
            rule(
                ir.Compare("!=", x, ir.Lit(Decimal("0.5"), LogicalType(Kind.DECIMAL, 2, 1))), "ne"
            ),
        ),
    )
    assert split.failures == {"le_int": 1, "ne": 1}


def test_decimal_arithmetic_stays_exact(engine: PandasEngine) -> None:
    wide = LogicalType(Kind.DECIMAL, 38, 2)
    d, i = ir.Col("d", wide), ir.Col("i", INTEGER)
    big = "12345678901234.25"  # its square needs 32 digits, the declared types 77
    split = engine.validate(
        text_frame(d=[big, "0.10"], i=["1", "-1"]), plan({"d": wide, "i": INTEGER})
    )
    square = pa.array(evaluate(ir.Arith("*", d, d, wide), split.valid)).to_pylist()
    # exact (Python's default 28-digit context would round it); past 38 digits of declared precision
    assert square == [Decimal("152415787532380518366173373.0625"), Decimal("0.0100")]
    case = ir.Case(((ir.Compare(">", i, ir.Lit(0, INTEGER)), i),), d, wide)
    assert pa.array(evaluate(case, split.valid)).to_pylist() == [Decimal(1), Decimal("0.10")]
    total = ir.Arith("+", d, ir.Lit(Decimal("0.005"), LogicalType(Kind.DECIMAL, 4, 3)), wide)
    assert pa.array(evaluate(total, split.valid)).to_pylist()[1] == Decimal("0.105")


def test_like_derived_regex_and_search(engine: PandasEngine) -> None:
    from meshc.rules.regex import like_to_regex

    s = ir.Col("s", STRING)
    split = engine.validate(
        text_frame(s=["ab-12", "AB-1", "xab-1\n", "b-1", None]),
        plan(
            {"s": STRING},
            rule(ir.RegexSearch(s, like_to_regex("ab%")), "like"),
            rule(ir.RegexSearch(s, like_to_regex("ab%"), case_insensitive=True), "ilike"),
            rule(ir.RegexSearch(s, r"\d-?\d"), "search", severity="warn"),
            rule(ir.RegexSearch(s, "b-1$"), "dollar", severity="warn"),
        ),
    )
    # LIKE is anchored, the search is not; RE2's '$' (unlike Python's) does not match before a
    # final newline, so "xab-1\n" fails 'dollar'. NULL fails nothing.
    assert split.failures == {"like": 3, "ilike": 2, "search": 3, "dollar": 3}


def test_arithmetic_division_by_zero_is_null(engine: PandasEngine) -> None:
    a, b = ir.Col("a", INTEGER), ir.Col("b", INTEGER)
    ratio = ir.Arith("/", a, b, FLOAT)
    split = engine.validate(
        text_frame(a=["7", "1", "-7", "4"], b=["2", "0", "2", "0"]),
        plan(
            {"a": INTEGER, "b": INTEGER},
            rule(ir.Compare("=", ratio, ir.Lit(3.5, FLOAT)), "div"),  # 1/0 NULL, not inf
            rule(ir.Compare("=", ir.Arith("%", a, b, INTEGER), ir.Lit(1, INTEGER)), "mod"),
            rule(
                ir.Compare(">", ir.Arith("*", a, ir.Lit(2, INTEGER), INTEGER), ir.Lit(0, INTEGER)),
                "mul",
                severity="warn",
            ),
        ),
    )
    # div: -7/2 = -3.5 fails. mod: SQL remainder keeps the dividend's sign, -7 % 2 = -1 fails;
    # x % 0 is NULL. mul: -14 > 0 fails.
    assert split.failures == {"div": 1, "mod": 1, "mul": 1}


def test_cast_float_to_integer_truncates(engine: PandasEngine) -> None:
    x = ir.Col("x", FLOAT)
    split = engine.validate(
        text_frame(x=["2.9", "-2.9", "1e30"]),
        plan(
            {"x": FLOAT},
            rule(
                ir.InList(ir.Cast(x, INTEGER), (ir.Lit(2, INTEGER), ir.Lit(-2, INTEGER))), "trunc"
            ),
            rule(ir.IsNull(ir.Cast(x, INTEGER), negated=True), "fits", severity="warn"),
        ),
    )
    assert split.failures == {"trunc": 0, "fits": 1}  # 1e30 does not fit: NULL, not a violation


def test_case_and_coalesce(engine: PandasEngine) -> None:
    x, y = ir.Col("x", INTEGER), ir.Col("y", FLOAT)
    case = ir.Case(
        (
            (ir.Compare(">", x, ir.Lit(10, INTEGER)), ir.Lit("big", STRING)),
            (ir.Compare(">", x, ir.Lit(0, INTEGER)), ir.Lit("small", STRING)),
        ),
        ir.Lit("none", STRING),
        STRING,
    )
    coalesce = ir.Coalesce((y, x, ir.Lit(0, INTEGER)), FLOAT)
    frame = text_frame(x=["50", "5", None, "-1"], y=[None, "2.5", None, "-3"])
    split = engine.validate(
        frame,
        plan(
            {"x": INTEGER, "y": FLOAT},
            rule(ir.Compare("=", case, ir.Lit("small", STRING)), "case", severity="warn"),
            rule(ir.Compare(">=", coalesce, ir.Lit(1, INTEGER)), "coalesce", severity="warn"),
        ),
    )
    # case: big, small, none (NULL x falls to ELSE), none -> 3 fail.
    # coalesce: 50, 2.5, 0 (all NULL but the literal), -3 -> 2 fail.
    assert split.failures == {"case": 3, "coalesce": 2}


def test_date_add_month_end_and_leap_day(engine: PandasEngine) -> None:
    d = ir.Col("d", DATE)
    frame = text_frame(d=["2024-01-31", "2024-02-29", "2023-12-31", None])
    split = engine.validate(frame, plan({"d": DATE}))

    def shifted(amount: int, unit: str) -> list[Any]:
        result = evaluate(ir.DateAdd(d, amount, unit), split.valid)  # type: ignore[arg-type]
        return pa.array(result).to_pylist()

    assert shifted(1, "month") == [
        dt.date(2024, 2, 29),
        dt.date(2024, 3, 29),
        dt.date(2024, 1, 31),
        None,
    ]
    assert shifted(1, "year") == [
        dt.date(2025, 1, 31),
        dt.date(2025, 2, 28),
        dt.date(2024, 12, 31),
        None,
    ]
    assert shifted(-1, "day") == [
        dt.date(2024, 1, 30),
        dt.date(2024, 2, 28),
        dt.date(2023, 12, 30),
        None,
    ]
    diff = evaluate(ir.DateDiffDays(ir.DateAdd(d, 1, "month"), d), split.valid)
    assert pa.array(diff).to_pylist() == [29, 29, 31, None]


def test_timestamp_add_keeps_time_of_day(engine: PandasEngine) -> None:
    ts = ir.Col("t", TIMESTAMP)
    split = engine.validate(text_frame(t=["2024-01-31 10:30"]), plan({"t": TIMESTAMP}))
    month = pa.array(evaluate(ir.DateAdd(ts, 1, "month"), split.valid)).to_pylist()
    hours = pa.array(evaluate(ir.DateAdd(ts, -11, "hour"), split.valid)).to_pylist()
    assert month == [dt.datetime(2024, 2, 29, 10, 30)]
    assert hours == [dt.datetime(2024, 1, 30, 23, 30)]


def test_string_functions(engine: PandasEngine) -> None:
    s = ir.Col("s", STRING)
    split = engine.validate(text_frame(s=[" héllo ", "ab", None]), plan({"s": STRING}))

    def run(e: ir.Expr) -> list[Any]:
        return pa.array(evaluate(e, split.valid)).to_pylist()

    assert run(ir.StrFn("length", s)) == [7, 2, None]  # characters, not bytes
    assert run(ir.StrFn("trim", s)) == ["héllo", "ab", None]
    assert run(ir.StrFn("upper", s)) == [" HÉLLO ", "AB", None]
    assert run(ir.Substring(s, 2, 3)) == ["hél", "b", None]
    assert run(ir.Concat((s, ir.Lit("!", STRING)))) == [" héllo !", "ab!", None]


def test_duplicates_all_rows_and_null_keys_never(engine: PandasEngine) -> None:
    key = (ir.Col("a", INTEGER), ir.Col("b", STRING))
    check = Unique(
        id="pk", severity="error", rule="unique", origin=ORIGIN, description=None, key=key
    )
    frame = text_frame(a=["1", "1", "2", "1", None, None], b=["x", "x", "x", "y", "z", "z"])
    split = engine.validate(frame, plan({"a": INTEGER, "b": STRING}, check))
    assert split.failures == {"pk": 2}
    assert engine.to_arrow(split.quarantine).column("a").to_pylist() == ["1", "1"]


def test_duplicates_compare_typed_values(engine: PandasEngine) -> None:
    d = ir.Col("d", DEC52)
    check = Unique(
        id="u", severity="warn", rule="unique", origin=ORIGIN, description=None, key=(d,)
    )
    split = engine.validate(text_frame(d=["1.50", " 1.5", "2"]), plan({"d": DEC52}, check))
    assert split.failures == {"u": 2}  # 1.50 and 1.5 are the same decimal


def test_empty_input(engine: PandasEngine, tmp_path: Path) -> None:
    check = rule(ir.Compare(">", ir.Col("x", INTEGER), ir.Lit(1, INTEGER)))
    split = engine.validate(text_frame(x=[]), plan({"x": INTEGER}, check))
    assert (split.rows_in, split.rows_valid, split.rows_quarantined) == (0, 0, 0)
    assert split.failures == {"r1": 0}
    engine.write(split.quarantine, tmp_path / "q.parquet", "parquet")
    schema = pq.read_schema(tmp_path / "q.parquet")
    assert schema.field(REASONS).type.value_type.names == [
        "rule_id",
        "rule",
        "column",
        "value",
        "message",
        "severity",
    ]


def test_reasons_order_and_content(engine: PandasEngine) -> None:
    x = ir.Col("x", INTEGER)
    split = engine.validate(
        text_frame(x=["-1", "5"], y=["bad", "oops"]),
        plan(
            {"x": INTEGER, "y": FLOAT},
            rule(
                ir.Compare(">=", x, ir.Lit(0, INTEGER)),
                "x_pos",
                text="x >= 0",
                description="x must not be negative",
            ),
            rule(ir.Compare("<", x, ir.Lit(0, INTEGER)), "x_warn", severity="warn", text="x < 0"),
        ),
    )
    assert reasons(engine, split) == [
        [
            {
                "rule_id": "y.type",
                "rule": "type float",
                "column": "y",
                "value": "bad",
                "message": "value of 'y' cannot be read as float",
                "severity": "error",
            },
            {
                "rule_id": "x_pos",
                "rule": "x >= 0",
                "column": "x",
                "value": "-1",
                "message": "x must not be negative",
                "severity": "error",
            },
        ],
        [
            {
                "rule_id": "y.type",
                "rule": "type float",
                "column": "y",
                "value": "oops",
                "message": "value of 'y' cannot be read as float",
                "severity": "error",
            },
            {
                "rule_id": "x_warn",
                "rule": "x < 0",
                "column": "x",
                "value": "5",
                "message": "violates x < 0",
                "severity": "warn",
            },
        ],
    ]


def test_warn_counts_but_does_not_quarantine(engine: PandasEngine) -> None:
    check = rule(ir.Compare(">", ir.Col("x", INTEGER), ir.Lit(1, INTEGER)), severity="warn")
    split = engine.validate(text_frame(x=["1", "2"]), plan({"x": INTEGER}, check))
    assert (split.rows_valid, split.rows_quarantined, split.failures) == (2, 0, {"r1": 1})


def test_include_reasons_false_and_lineage(engine: PandasEngine) -> None:
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    check = rule(ir.Compare(">", ir.Col("x", INTEGER), ir.Lit(1, INTEGER)))
    split = engine.validate(
        text_frame(x=["1", "2"], extra=["e1", "e2"]),
        plan(
            {"x": INTEGER},
            check,
            include_reasons=False,
            lineage={"_meshc_run_id": "run-1", "_meshc_processed_at": now},
        ),
    )
    valid, quarantine = engine.to_arrow(split.valid), engine.to_arrow(split.quarantine)
    assert valid.column_names == ["x", "_meshc_run_id", "_meshc_processed_at"]
    assert quarantine.column_names == ["x", "extra", "_meshc_run_id", "_meshc_processed_at"]
    assert valid.schema.field("_meshc_processed_at").type == pa.timestamp("us", tz="UTC")
    assert valid.to_pylist() == [{"x": 2, "_meshc_run_id": "run-1", "_meshc_processed_at": now}]


def test_extra_columns_keep_and_error(engine: PandasEngine) -> None:
    frame = text_frame(x=["1"], extra=["007"])
    kept = engine.validate(frame, plan({"x": INTEGER}, extra_columns="keep"))
    assert valid_rows(engine, kept) == [{"x": 1, "extra": "007"}]
    with pytest.raises(SourceError, match="extra"):
        engine.validate(frame, plan({"x": INTEGER}, extra_columns="error"))
    with pytest.raises(SourceError, match="missing_col"):
        engine.validate(frame, plan({"missing_col": INTEGER}))


def test_unsupported_construct_is_named(engine: PandasEngine) -> None:
    d = ir.Col("d", DEC52)
    bad = rule(ir.Compare("=", ir.Arith("%", d, d, DEC52), ir.Lit(0, INTEGER)))
    with pytest.raises(UnsupportedConstruct, match="MC390.*not supported on pandas"):
        engine.validate(text_frame(d=["1"]), plan({"d": DEC52}, bad))


def test_aggregate(engine: PandasEngine) -> None:
    split = engine.validate(
        text_frame(x=["1", "2", None, "2"], d=["1.50", "2.25", None, None]),
        plan({"x": INTEGER, "d": DEC52}),
    )
    x, d = ir.Col("x", INTEGER), ir.Col("d", DEC52)
    result = engine.aggregate(
        split.valid,
        {
            "n": ir.Agg("count_all", None, INTEGER),
            "cnt": ir.Agg("count", x, INTEGER),
            "distinct": ir.Agg("count_distinct", x, INTEGER),
            "sum": ir.Agg("sum", x, INTEGER),
            "avg": ir.Agg("avg", x, FLOAT),
            "dsum": ir.Agg("sum", d, DEC52),
            "max": ir.Agg("max", x, INTEGER),
            "ok": ir.Compare(
                ">",
                ir.Arith("/", ir.Agg("sum", x, INTEGER), ir.Agg("count_all", None, INTEGER), FLOAT),
                ir.Lit(1, INTEGER),
            ),
        },
    )
    assert result == {
        "n": 4,
        "cnt": 3,
        "distinct": 2,
        "sum": 5,
        "avg": 5 / 3,
        "dsum": Decimal("3.75"),
        "max": 2,
        "ok": True,
    }
    empty = engine.validate(text_frame(x=[]), plan({"x": INTEGER}))
    assert engine.aggregate(
        empty.valid, {"s": ir.Agg("sum", x, INTEGER), "c": ir.Agg("count", x, INTEGER)}
    ) == {"s": None, "c": 0}


# -- reading and writing ---------------------------------------------------------------------------
def test_read_csv_keeps_text(engine: PandasEngine, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text('x;y\n 1.50 ;NA\n"a;b";\n', encoding="utf-8")
    (tmp_path / "b.csv").write_text("x;y\n007;null\n", encoding="utf-8")
    frame = engine.read([str(tmp_path / "a.csv"), str(tmp_path / "b.csv")], "csv", delimiter=";")
    assert engine.to_arrow(frame).to_pydict() == {
        "x": [" 1.50 ", "a;b", "007"],
        "y": ["NA", "", "null"],
    }


def test_read_json_array_and_ndjson(engine: PandasEngine, tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('[{"x": 1.50, "b": true, "n": null}, {"x": "abc"}]')
    (tmp_path / "b.ndjson").write_text('{"x": 10}\n\n{"x": 1e3, "b": false}\n')
    arr = engine.read([str(tmp_path / "a.json")], "json")
    nd = engine.read([str(tmp_path / "b.ndjson")], "json")
    assert engine.to_arrow(arr).to_pydict() == {
        "x": ["1.50", "abc"],
        "b": ["true", None],
        "n": [None, None],
    }
    assert engine.to_arrow(nd).to_pydict() == {"x": ["10", "1e3"], "b": [None, "false"]}
    split = engine.validate(nd, plan({"x": INTEGER, "b": BOOLEAN}))
    assert split.failures == {"x.type": 1}  # 1e3 is not an integer form


def test_read_parquet_keeps_stored_types(engine: PandasEngine, tmp_path: Path) -> None:
    table = pa.table({"x": pa.array([1.0, 1.5, float("nan")]), "s": pa.array(["1", "x", None])})
    pq.write_table(table, tmp_path / "in.parquet")
    frame = engine.read([str(tmp_path / "in.parquet")], "parquet")
    split = engine.validate(frame, plan({"x": INTEGER, "s": INTEGER}))
    # a stored 1.5 is not an integer; a stored NaN is NULL; a stored string is cast as text.
    assert split.failures == {"x.type": 1, "s.type": 1}
    assert valid_rows(engine, split) == [{"x": 1, "s": 1}, {"x": None, "s": None}]
    assert [[(r["rule_id"], r["value"]) for r in row] for row in reasons(engine, split)] == [
        [("x.type", "1.5"), ("s.type", "x")]
    ]


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_write_and_read_back(engine: PandasEngine, tmp_path: Path, fmt: str) -> None:
    check = rule(ir.Compare(">", ir.Col("x", INTEGER), ir.Lit(1, INTEGER)), text="x > 1")
    split = engine.validate(
        text_frame(x=["1", "2"], d=["2024-01-01", "2024-01-02"]),
        plan({"x": INTEGER, "d": DATE}, check),
    )
    valid_path, quarantine_path = tmp_path / f"valid.{fmt}", tmp_path / f"q.{fmt}"
    engine.write(split.valid, valid_path, fmt)
    engine.write(split.quarantine, quarantine_path, fmt)
    valid = engine.to_arrow(engine.read([str(valid_path)], fmt)).to_pylist()
    quarantine = engine.to_arrow(engine.read([str(quarantine_path)], fmt)).to_pylist()
    if fmt == "parquet":
        assert valid == [{"x": 2, "d": dt.date(2024, 1, 2)}]
        assert quarantine[0][REASONS][0]["rule_id"] == "r1"
    else:
        assert valid == [{"x": "2", "d": "2024-01-02"}]
        assert json.loads(quarantine[0][REASONS]) == [
            {
                "rule_id": "r1",
                "rule": "x > 1",
                "column": "x",
                "value": "1",
                "message": "violates x > 1",
                "severity": "error",
            }
        ]
    assert quarantine[0]["x"] == "1"
    assert len(list(tmp_path.iterdir())) == 2  # exactly one file per output


def test_rows_in_equals_valid_plus_quarantined(engine: PandasEngine) -> None:
    x = ir.Col("x", INTEGER)
    split = engine.validate(
        text_frame(x=["1", "x", "-3", None, "4", "4"]),
        plan(
            {"x": INTEGER},
            rule(ir.Compare(">", x, ir.Lit(0, INTEGER))),
            Unique(
                id="u", severity="error", rule="unique", origin=ORIGIN, description=None, key=(x,)
            ),
        ),
    )
    assert split.rows_in == split.rows_valid + split.rows_quarantined == 6
    assert (split.rows_valid, split.rows_quarantined) == (2, 4)
    assert len(split.valid) == split.rows_valid and len(split.quarantine) == split.rows_quarantined


def test_registry_finds_the_engine() -> None:
    from meshc.engines.registry import get_engine

    assert get_engine("pandas").name == "pandas"
