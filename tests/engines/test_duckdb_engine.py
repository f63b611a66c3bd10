"""Behaviour of the DuckDB engine on tiny inputs (docs/semantics.md is the spec)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

duckdb = pytest.importorskip("duckdb")

from meshc.engines._duckdb import sqlbuild as sb  # noqa: E402
from meshc.engines._duckdb.engine import DuckDBEngine, create  # noqa: E402
from meshc.engines._duckdb.translate import translate  # noqa: E402
from meshc.engines.base import REASONS, ColumnSpec, Split, ValidationPlan  # noqa: E402
from meshc.errors import SourceError, UnsupportedConstruct  # noqa: E402
from meshc.rules import expr as ir  # noqa: E402
from meshc.rules.checks import NotNull, Origin, RowCheck, SqlRule, Unique  # noqa: E402
from meshc.rules.regex import like_to_regex  # noqa: E402
from meshc.types import (  # noqa: E402
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

ORIGIN = Origin("contract.yaml", 1, 1)
UTC = dt.timezone.utc


def dec(p: int, s: int) -> LogicalType:
    return LogicalType(Kind.DECIMAL, p, s)


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    eng = create()
    yield eng
    eng.close()


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def rule(
    rid: str,
    expr: ir.Expr,
    severity: str = "error",
    description: str | None = None,
    text: str | None = None,
) -> SqlRule:
    return SqlRule(
        id=rid,
        severity=severity,
        rule=text or rid,
        origin=ORIGIN,  # type: ignore[arg-type]
        description=description,
        expr=expr,
        sql=text or rid,
    )


def run(
    engine: DuckDBEngine,
    tmp_path: Path,
    columns: Sequence[tuple[str, LogicalType]],
    rows: Sequence[Sequence[str]],
    checks: Sequence[RowCheck] = (),
    **plan_args: Any,
) -> Split:
    header = [name for name, _ in columns] + list(plan_args.pop("extra_header", []))
    path = write_csv(tmp_path / "in.csv", header, rows)
    plan = ValidationPlan(
        columns=tuple(ColumnSpec(n, t) for n, t in columns), checks=tuple(checks), **plan_args
    )
    result = engine.validate(engine.read([path], "csv"), plan)
    assert result.rows_in == result.rows_valid + result.rows_quarantined
    assert result.rows_valid == engine.to_arrow(result.valid).num_rows
    assert result.rows_quarantined == engine.to_arrow(result.quarantine).num_rows
    return result


def rows(engine: DuckDBEngine, frame: Any) -> list[dict[str, Any]]:
    return list(engine.to_arrow(frame).to_pylist())


def cast_column(
    engine: DuckDBEngine, tmp_path: Path, ltype: LogicalType, values: Sequence[str]
) -> tuple[list[Any], list[str]]:
    """Cast one text column; returns (typed valid values, raw quarantined values)."""
    result = run(engine, tmp_path, [("v", ltype)], [[v] for v in values])
    return (
        [r["v"] for r in rows(engine, result.valid)],
        [r["v"] for r in rows(engine, result.quarantine)],
    )


def value(engine: DuckDBEngine, expr: ir.Expr) -> Any:
    """Evaluate a column-free expression."""
    query = sb.select(sb.alias(translate(expr), "v"))
    return engine.con.execute(sb.render(query)).fetchall()[0][0]


def lit(v: Any, t: LogicalType | None) -> ir.Lit:
    return ir.Lit(v, t)


# -- casting text -------------------------------------------------------------------------------
def test_integer_forms(engine: DuckDBEngine, tmp_path: Path) -> None:
    good, bad = cast_column(
        engine,
        tmp_path,
        INTEGER,
        [
            "+5",
            " 7 ",
            "-0012",
            "9223372036854775807",
            "1.0",
            "1e3",
            "9223372036854775808",
            "abc",
        ],
    )
    assert good == [5, 7, -12, 9223372036854775807]
    assert bad == ["1.0", "1e3", "9223372036854775808", "abc"]


def test_float_forms_and_nan(engine: DuckDBEngine, tmp_path: Path) -> None:
    good, bad = cast_column(
        engine,
        tmp_path,
        FLOAT,
        [
            "1.5",
            "-2e3",
            ".5",
            "inf",
            "-Infinity",
            "NaN",
            "abc",
            "1,5",
            "-nan",
        ],
    )
    # NaN, signed or not, is read as NULL (meshc/engines/textcast.py)
    assert good == [1.5, -2000.0, 0.5, float("inf"), float("-inf"), None, None]
    assert bad == ["abc", "1,5"]


def test_decimal_is_never_rounded(engine: DuckDBEngine, tmp_path: Path) -> None:
    good, bad = cast_column(
        engine,
        tmp_path,
        dec(5, 2),
        [
            "123.45",
            "-0.5",
            "007.5",
            "12",
            "1.234",
            "1234.5",
            "1e2",
            ".5",
        ],
    )
    assert good == [Decimal("123.45"), Decimal("-0.50"), Decimal("7.50"), Decimal("12.00")]
    assert bad == ["1.234", "1234.5", "1e2", ".5"]


def test_decimal_with_only_fraction_digits(engine: DuckDBEngine, tmp_path: Path) -> None:
    good, bad = cast_column(engine, tmp_path, dec(2, 2), ["0.5", "0.12", "1.0"])
    assert good == [Decimal("0.50"), Decimal("0.12")]
    assert bad == ["1.0"]


def test_boolean_forms(engine: DuckDBEngine, tmp_path: Path) -> None:
    good, bad = cast_column(
        engine, tmp_path, BOOLEAN, ["yes", "NO", "t", "F", "1", "0", " True ", "maybe", "2"]
    )
    assert good == [True, False, True, False, True, False, True]
    assert bad == ["maybe", "2"]


def test_dates_must_be_real_calendar_dates(engine: DuckDBEngine, tmp_path: Path) -> None:
    good, bad = cast_column(
        engine, tmp_path, DATE, ["2024-02-29", "2023-02-29", "2024-13-45", "2024-1-5", "2024-02-30"]
    )
    assert good == [dt.date(2024, 2, 29)]
    assert bad == ["2023-02-29", "2024-13-45", "2024-1-5", "2024-02-30"]


def test_timestamp_offsets_become_utc_and_are_dropped(engine: DuckDBEngine, tmp_path: Path) -> None:
    good, bad = cast_column(
        engine,
        tmp_path,
        TIMESTAMP,
        [
            "2024-01-01T10:00:00+02:00",
            "2024-01-01 10:00",
            "2024-01-01",
            "2024-01-01T10:00:00.123456Z",
            "2024-01-01 24:00:00",
            "2024-01-01T10:00:00.1234567",
            "2024-01-01Z",
            "yesterday",
        ],
    )
    assert good == [
        dt.datetime(2024, 1, 1, 8, 0),
        dt.datetime(2024, 1, 1, 10, 0),
        dt.datetime(2024, 1, 1),
        dt.datetime(2024, 1, 1, 10, 0, 0, 123456),
        dt.datetime(2024, 1, 1),  # an offset right after a date: midnight there
    ]
    assert bad == ["2024-01-01 24:00:00", "2024-01-01T10:00:00.1234567", "yesterday"]


def test_timestamp_tz_is_a_utc_instant(engine: DuckDBEngine, tmp_path: Path) -> None:
    good, bad = cast_column(
        engine,
        tmp_path,
        TIMESTAMP_TZ,
        ["2024-06-30T23:30:00-01:00", "2024-01-01 10:00", "2024-02-30 10:00"],
    )
    assert [v.astimezone(UTC) for v in good] == [
        dt.datetime(2024, 7, 1, 0, 30, tzinfo=UTC),
        dt.datetime(2024, 1, 1, 10, 0, tzinfo=UTC),
    ]
    assert bad == ["2024-02-30 10:00"]
    result = run(engine, tmp_path, [("v", TIMESTAMP_TZ)], [["2024-01-01 10:00"]])
    assert str(engine.to_arrow(result.valid).schema.field("v").type) == "timestamp[us, tz=UTC]"


def test_string_kept_byte_for_byte_and_null_values(engine: DuckDBEngine, tmp_path: Path) -> None:
    result = run(
        engine,
        tmp_path,
        [("s", STRING), ("n", INTEGER)],
        [["  padded ", "NA"], ["", "3"]],
        null_values=("", "NA"),
    )
    assert rows(engine, result.valid) == [{"s": "  padded ", "n": None}, {"s": None, "n": 3}]


def test_valid_column_types(engine: DuckDBEngine, tmp_path: Path) -> None:
    columns = [
        ("i", INTEGER),
        ("f", FLOAT),
        ("d", dec(10, 2)),
        ("b", BOOLEAN),
        ("dt", DATE),
        ("ts", TIMESTAMP),
        ("tz", TIMESTAMP_TZ),
        ("s", STRING),
    ]
    result = run(
        engine,
        tmp_path,
        columns,
        [["1", "1.5", "2.25", "yes", "2024-01-01", "2024-01-01 10:00", "2024-01-01", "x"]],
    )
    schema = engine.to_arrow(result.valid).schema
    assert [str(schema.field(n).type) for n, _ in columns] == [
        "int64",
        "double",
        "decimal128(10, 2)",
        "bool",
        "date32[day]",
        "timestamp[us]",
        "timestamp[us, tz=UTC]",
        "string",
    ]


# -- checks ---------------------------------------------------------------------------------------
def test_null_is_not_a_violation(engine: DuckDBEngine, tmp_path: Path) -> None:
    check = rule("pos", ir.Compare(">=", ir.Col("x", FLOAT), lit(0, INTEGER)))
    result = run(engine, tmp_path, [("x", FLOAT)], [["1"], [""], ["-1"], ["nan"]], [check])
    assert [r["x"] for r in rows(engine, result.valid)] == [1.0, None, None]
    assert [r["x"] for r in rows(engine, result.quarantine)] == ["-1"]
    assert result.failures == {"pos": 1}


def test_cast_failure_is_not_blamed_again_by_rules_on_that_column(
    engine: DuckDBEngine, tmp_path: Path
) -> None:
    required = NotNull(
        id="x.required",
        severity="error",
        rule="required",
        origin=ORIGIN,
        description=None,
        column=ir.Col("x", INTEGER),
    )
    result = run(engine, tmp_path, [("x", INTEGER)], [["abc"], [""]], [required])
    reasons = [[r["rule_id"] for r in row[REASONS]] for row in rows(engine, result.quarantine)]
    assert reasons == [["x.type"], ["x.required"]]
    assert result.failures == {"x.type": 1, "x.required": 1}


def test_regex_search_is_unanchored_and_case_flag(engine: DuckDBEngine, tmp_path: Path) -> None:
    col = ir.Col("s", STRING)
    checks = [
        rule("digits", ir.RegexSearch(col, r"\d{2}")),
        rule("abc_ci", ir.RegexSearch(col, "abc", case_insensitive=True), severity="warn"),
    ]
    result = run(engine, tmp_path, [("s", STRING)], [["xx12ABCyy"], ["x1y"], ["99"]], checks)
    assert [r["s"] for r in rows(engine, result.valid)] == ["xx12ABCyy", "99"]
    assert result.failures == {"digits": 1, "abc_ci": 2}


def test_like_derived_regex_is_anchored_and_crosses_newlines(engine: DuckDBEngine) -> None:
    pattern = like_to_regex("a%c_")
    assert value(engine, ir.RegexSearch(lit("ab\nxcd", STRING), pattern)) is True
    assert value(engine, ir.RegexSearch(lit("zab cd", STRING), pattern)) is False
    assert value(engine, ir.RegexSearch(lit("a.c", STRING), like_to_regex("a.c"))) is True
    assert value(engine, ir.RegexSearch(lit("abc", STRING), like_to_regex("a.c"))) is False
    ci = ir.RegexSearch(lit("ABCD", STRING), like_to_regex("abc%"), case_insensitive=True)
    assert value(engine, ci) is True


def test_arithmetic_precedence_division_and_modulo(engine: DuckDBEngine) -> None:
    one, two, three = lit(1, INTEGER), lit(2, INTEGER), lit(3, INTEGER)
    sum_ = ir.Arith("+", one, two, INTEGER)
    assert value(engine, ir.Arith("*", sum_, three, INTEGER)) == 9  # (1 + 2) * 3, not 1 + 6
    assert value(engine, ir.Arith("/", one, two, FLOAT)) == 0.5
    assert value(engine, ir.Arith("/", one, lit(0, INTEGER), FLOAT)) is None
    assert value(engine, ir.Arith("/", one, lit(0.0, FLOAT), FLOAT)) is None
    assert value(engine, ir.Arith("%", three, lit(0, INTEGER), INTEGER)) is None
    assert value(engine, ir.Arith("-", one, ir.Arith("-", two, three, INTEGER), INTEGER)) == 2
    assert value(engine, ir.Neg(ir.Arith("-", one, two, INTEGER))) == 1
    big = ir.Arith("+", lit(2147483647, INTEGER), one, INTEGER)  # 64-bit, not INT32 overflow
    assert value(engine, big) == 2147483648


def test_division_by_zero_in_a_rule_is_null_not_a_violation(
    engine: DuckDBEngine, tmp_path: Path
) -> None:
    ratio = ir.Arith("/", ir.Col("a", INTEGER), ir.Col("b", INTEGER), FLOAT)
    check = rule("ratio", ir.Compare("<", ratio, lit(1.0, FLOAT)))
    result = run(
        engine,
        tmp_path,
        [("a", INTEGER), ("b", INTEGER)],
        [["1", "0"], ["1", "2"], ["4", "2"]],
        [check],
    )
    assert [r["a"] for r in rows(engine, result.valid)] == [1, 1]
    assert result.failures == {"ratio": 1}


def test_case_and_coalesce(engine: DuckDBEngine) -> None:
    null = lit(None, None)
    case = ir.Case(((ir.IsNull(null), lit("none", STRING)),), lit("some", STRING), STRING)
    assert value(engine, case) == "none"
    case2 = ir.Case(
        ((ir.Compare(">", lit(1, INTEGER), lit(2, INTEGER)), lit(1, INTEGER)),), null, INTEGER
    )
    assert value(engine, case2) is None
    assert value(engine, ir.Coalesce((null, lit(None, INTEGER), lit(7, INTEGER)), INTEGER)) == 7


def test_in_between_and_three_valued_logic(engine: DuckDBEngine) -> None:
    x, null = lit(5, INTEGER), lit(None, INTEGER)
    assert value(engine, ir.InList(x, (lit(1, INTEGER), lit(5, INTEGER)))) is True
    assert value(engine, ir.InList(x, (lit(1, INTEGER),), negated=True)) is True
    assert value(engine, ir.Between(x, lit(1, INTEGER), lit(4, INTEGER), negated=True)) is True
    false = ir.Compare("=", x, lit(6, INTEGER))
    unknown = ir.Compare("=", x, null)
    assert value(engine, ir.And(false, unknown)) is False
    assert value(engine, ir.Or(false, unknown)) is None
    assert value(engine, ir.Not(unknown)) is None
    # integer vs decimal vs float compare numerically
    assert value(engine, ir.Compare("=", lit(2, INTEGER), lit(Decimal("2.00"), dec(3, 2)))) is True
    assert value(engine, ir.Compare("<", lit(Decimal("0.1"), dec(2, 1)), lit(0.2, FLOAT))) is True


def test_date_add_clamps_to_month_end_and_date_diff(engine: DuckDBEngine) -> None:
    jan31, leap = lit(dt.date(2024, 1, 31), DATE), lit(dt.date(2024, 2, 29), DATE)
    assert value(engine, ir.DateAdd(jan31, 1, "month")) == dt.date(2024, 2, 29)
    assert value(engine, ir.DateAdd(leap, 1, "year")) == dt.date(2025, 2, 28)
    assert value(engine, ir.DateAdd(leap, -1, "day")) == dt.date(2024, 2, 28)
    ts = lit(dt.datetime(2024, 3, 31, 23, 0, tzinfo=UTC), TIMESTAMP_TZ)
    assert value(engine, ir.DateAdd(ts, -1, "month")) == dt.datetime(2024, 2, 29, 23, 0, tzinfo=UTC)
    assert value(engine, ir.DateAdd(ts, 2, "hour")) == dt.datetime(2024, 4, 1, 1, 0, tzinfo=UTC)
    assert value(engine, ir.DateDiffDays(lit(dt.date(2024, 3, 1), DATE), jan31)) == 30


def test_casts_truncate_and_fail_to_null(engine: DuckDBEngine) -> None:
    assert value(engine, ir.Cast(lit(-2.7, FLOAT), INTEGER)) == -2
    assert value(engine, ir.Cast(lit(10.7, FLOAT), INTEGER)) == 10
    assert value(engine, ir.Cast(lit(Decimal("9.99"), dec(3, 2)), INTEGER)) == 9
    assert value(engine, ir.Cast(lit("abc", STRING), INTEGER)) is None
    assert value(engine, ir.Cast(lit("1.0", STRING), INTEGER)) is None  # the documented form
    assert value(engine, ir.Cast(lit(" 42 ", STRING), INTEGER)) == 42
    assert value(engine, ir.Cast(lit(1e300, FLOAT), INTEGER)) is None
    assert value(engine, ir.Cast(lit(12, INTEGER), STRING)) == "12"


def test_string_functions(engine: DuckDBEngine) -> None:
    s = lit("  héllo ", STRING)
    assert value(engine, ir.StrFn("length", s)) == 8  # characters, not bytes
    assert value(engine, ir.StrFn("trim", lit(" \tx  ", STRING))) == "\tx"  # spaces only
    assert value(engine, ir.StrFn("upper", s)) == "  HÉLLO "
    assert value(engine, ir.StrFn("abs", lit(-3, INTEGER))) == 3
    assert value(engine, ir.Substring(lit("héllo", STRING), 2, 3)) == "éll"
    assert value(engine, ir.Substring(lit("héllo", STRING), 3, None)) == "llo"
    assert value(engine, ir.Concat((lit("a", STRING), lit("b", STRING)))) == "ab"
    assert value(engine, ir.Concat((lit("a", STRING), lit(None, STRING)))) is None


def test_duplicates_quarantine_every_copy_but_never_null_keys(
    engine: DuckDBEngine, tmp_path: Path
) -> None:
    key = (ir.Col("a", INTEGER), ir.Col("b", STRING))
    unique = Unique(
        id="ab.unique",
        severity="error",
        rule="unique(a, b)",
        origin=ORIGIN,
        description=None,
        key=key,
    )
    data = [["1", "x"], ["1", "x"], ["1", "y"], ["2", ""], ["2", ""], ["01", "x"]]
    result = run(engine, tmp_path, [("a", INTEGER), ("b", STRING)], data, [unique])
    valid = [(r["a"], r["b"]) for r in rows(engine, result.valid)]
    assert valid == [(1, "y"), (2, None), (2, None)]
    # '01' and '1' are the same integer key: all three copies go, in input order
    assert [r["a"] for r in rows(engine, result.quarantine)] == ["1", "1", "01"]
    assert result.failures == {"ab.unique": 3}


def test_reasons_order_content_and_warn_vs_error(engine: DuckDBEngine, tmp_path: Path) -> None:
    x, y = ir.Col("x", INTEGER), ir.Col("y", INTEGER)
    checks = [
        rule("small", ir.Compare("<", y, lit(10, INTEGER)), severity="warn", text="y < 10"),
        rule(
            "pos",
            ir.Compare(">", y, lit(0, INTEGER)),
            description="y must be positive",
            text="y > 0",
        ),
        rule("x_vs_y", ir.Compare(">=", x, y), severity="warn", text="x >= y"),
    ]
    data = [["oops", "-5"], ["1", "50"], ["100", "20"]]
    result = run(engine, tmp_path, [("x", INTEGER), ("y", INTEGER)], data, checks)
    # row 2 only breaks warn rules: counted, kept; row 3 breaks a warn rule only: kept
    assert [r["x"] for r in rows(engine, result.valid)] == [1, 100]
    [quarantined] = rows(engine, result.quarantine)
    assert quarantined["x"] == "oops"
    assert quarantined[REASONS] == [
        {
            "rule_id": "x.type",
            "rule": "type integer",
            "column": "x",
            "value": "oops",
            "message": "value of 'x' cannot be read as integer",
            "severity": "error",
        },
        {
            "rule_id": "pos",
            "rule": "y > 0",
            "column": "y",
            "value": "-5",
            "message": "y must be positive",
            "severity": "error",
        },
    ]
    assert result.failures == {"x.type": 1, "small": 2, "pos": 1, "x_vs_y": 1}


def test_warn_failures_of_a_quarantined_row_are_recorded(
    engine: DuckDBEngine, tmp_path: Path
) -> None:
    y = ir.Col("y", INTEGER)
    checks = [
        rule(
            "even",
            ir.Compare("=", ir.Arith("%", y, lit(2, INTEGER), INTEGER), lit(0, INTEGER)),
            severity="warn",
            text="y % 2 = 0",
        ),
        rule("pos", ir.Compare(">", y, lit(0, INTEGER)), text="y > 0"),
    ]
    result = run(engine, tmp_path, [("y", INTEGER)], [["-3"]], checks)
    [row] = rows(engine, result.quarantine)
    assert [(r["rule_id"], r["severity"], r["message"]) for r in row[REASONS]] == [
        ("even", "warn", "violates y % 2 = 0"),
        ("pos", "error", "violates y > 0"),
    ]


def test_include_reasons_false_and_lineage(engine: DuckDBEngine, tmp_path: Path) -> None:
    at = dt.datetime(2024, 5, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    lineage = {"_meshc_run_id": "run-1", "_meshc_source": "in.csv", "_meshc_processed_at": at}
    check = rule("pos", ir.Compare(">", ir.Col("y", INTEGER), lit(0, INTEGER)))
    result = run(
        engine,
        tmp_path,
        [("y", INTEGER)],
        [["1"], ["-1"]],
        [check],
        include_reasons=False,
        lineage=lineage,
    )
    assert engine.columns(result.quarantine) == ["y", *lineage]
    assert engine.columns(result.valid) == ["y", *lineage]
    [valid] = rows(engine, result.valid)
    assert valid["_meshc_run_id"] == "run-1"
    assert valid["_meshc_processed_at"] == dt.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_extra_columns_keep_drop_error_and_missing(engine: DuckDBEngine, tmp_path: Path) -> None:
    data = [["1", "note"], ["x", "other"]]
    cols = [("a", INTEGER)]
    kept = run(engine, tmp_path, cols, data, extra_header=["extra"], extra_columns="keep")
    assert rows(engine, kept.valid) == [{"a": 1, "extra": "note"}]
    dropped = run(engine, tmp_path, cols, data, extra_header=["extra"])
    assert engine.columns(dropped.valid) == ["a"]
    # the quarantine keeps every source column as read, extras too
    assert rows(engine, dropped.quarantine)[0] == {
        "a": "x",
        "extra": "other",
        REASONS: rows(engine, dropped.quarantine)[0][REASONS],
    }
    with pytest.raises(SourceError, match="extra"):
        run(engine, tmp_path, cols, data, extra_header=["extra"], extra_columns="error")
    only_a = engine.read([write_csv(tmp_path / "a.csv", ["a"], [["1"]])], "csv")
    plan = ValidationPlan(
        columns=(ColumnSpec("a", INTEGER), ColumnSpec("missing_col", STRING)), checks=()
    )
    with pytest.raises(SourceError, match="missing_col"):
        engine.validate(only_a, plan)


def test_malicious_literal_and_column_names_are_data(engine: DuckDBEngine, tmp_path: Path) -> None:
    engine.con.execute("CREATE TABLE victim AS SELECT 1 AS x")
    evil = "x'; DROP TABLE victim; --"
    name = "we\"ird'; col"
    check = rule(
        "evil",
        ir.Compare("!=", ir.Col(name, STRING), lit(evil, STRING)),
        description='it\'s "quoted"; DROP TABLE victim; --',
    )
    result = run(engine, tmp_path, [(name, STRING)], [[evil], ["fine"]], [check])
    assert [r[name] for r in rows(engine, result.valid)] == ["fine"]
    [row] = rows(engine, result.quarantine)
    assert row[REASONS][0]["value"] == evil
    assert row[REASONS][0]["message"] == 'it\'s "quoted"; DROP TABLE victim; --'
    assert engine.con.execute("SELECT x FROM victim").fetchall() == [(1,)]


def test_unsupported_node_is_a_named_error(engine: DuckDBEngine) -> None:
    with pytest.raises(UnsupportedConstruct, match="CurrentDate.*duckdb"):
        translate(ir.CurrentDate())


# -- aggregates -----------------------------------------------------------------------------------
def test_aggregate(engine: DuckDBEngine, tmp_path: Path) -> None:
    result = run(
        engine,
        tmp_path,
        [("g", STRING), ("v", dec(6, 2))],
        [["a", "1.50"], ["a", "2.50"], ["b", ""]],
    )
    v, g = ir.Col("v", dec(6, 2)), ir.Col("g", STRING)
    out = engine.aggregate(
        result.valid,
        {
            "n": ir.Agg("count_all", None, INTEGER),
            "nv": ir.Agg("count", v, INTEGER),
            "groups": ir.Agg("count_distinct", g, INTEGER),
            "total": ir.Agg("sum", v, dec(38, 2)),
            "mean": ir.Agg("avg", v, FLOAT),
            "lo": ir.Agg("min", v, dec(6, 2)),
            "share_ok": ir.Compare(
                ">",
                ir.Arith(
                    "/", ir.Agg("count", v, INTEGER), ir.Agg("count_all", None, INTEGER), FLOAT
                ),
                lit(0.5, FLOAT),
            ),
        },
    )
    assert out == {
        "n": 3,
        "nv": 2,
        "groups": 2,
        "total": Decimal("4.00"),
        "mean": 2.0,
        "lo": Decimal("1.50"),
        "share_ok": True,
    }


# -- reading and writing --------------------------------------------------------------------------
def test_read_several_csv_files_all_text(engine: DuckDBEngine, tmp_path: Path) -> None:
    a = write_csv(tmp_path / "a.csv", ["x", "y"], [["1", " 2"]])
    b = write_csv(tmp_path / "b.csv", ["x", "y"], [["3", "4.0"]])
    frame = engine.read([a, b], "csv")
    assert [str(t) for t in frame.types] == ["VARCHAR", "VARCHAR"]
    assert rows(engine, frame) == [{"x": "1", "y": " 2"}, {"x": "3", "y": "4.0"}]
    semi = tmp_path / "semi.csv"
    semi.write_text("1;2\n", encoding="utf-8")
    no_header = engine.read([str(semi)], "csv", delimiter=";", header=False)
    assert list(no_header.fetchall()[0]) == ["1", "2"]


def test_read_json_array_and_ndjson_as_text(engine: DuckDBEngine, tmp_path: Path) -> None:
    arr = tmp_path / "a.json"
    arr.write_text(json.dumps([{"id": 1, "amount": "1.5", "ok": True}]), encoding="utf-8")
    nd = tmp_path / "b.ndjson"
    nd.write_text('{"id": "x", "amount": null, "ok": false}\n', encoding="utf-8")
    frame = engine.read([str(arr), str(nd)], "json")
    assert rows(engine, frame) == [
        {"id": "1", "amount": "1.5", "ok": "true"},
        {"id": "x", "amount": None, "ok": "false"},
    ]
    plan = ValidationPlan(columns=(ColumnSpec("id", INTEGER), ColumnSpec("ok", BOOLEAN)), checks=())
    result = engine.validate(frame, plan)
    assert (result.rows_valid, result.rows_quarantined) == (1, 1)


def test_parquet_keeps_stored_types_and_casts_losslessly(
    engine: DuckDBEngine, tmp_path: Path
) -> None:
    path = tmp_path / "in.parquet"
    engine.con.sql(
        "SELECT * FROM (VALUES (1::INTEGER, 'NaN'::DOUBLE, 1.0::DOUBLE), "
        "(2::INTEGER, 2.5::DOUBLE, 1.5::DOUBLE)) t(i, f, n)"
    ).to_parquet(str(path))
    frame = engine.read([str(path)], "parquet")
    plan = ValidationPlan(
        columns=(ColumnSpec("i", INTEGER), ColumnSpec("f", FLOAT), ColumnSpec("n", INTEGER)),
        checks=(),
    )
    result = engine.validate(frame, plan)
    assert rows(engine, result.valid) == [{"i": 1, "f": None, "n": 1}]
    [bad] = rows(engine, result.quarantine)
    reason = bad[REASONS][0]
    assert (bad["n"], reason["rule_id"], reason["value"]) == (1.5, "n.type", "1.5")


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_write_each_format_and_read_back(engine: DuckDBEngine, tmp_path: Path, fmt: str) -> None:
    check = rule("pos", ir.Compare(">", ir.Col("y", INTEGER), lit(0, INTEGER)))
    result = run(
        engine,
        tmp_path,
        [("y", INTEGER), ("d", DATE)],
        [["1", "2024-01-01"], ["-1", "2024-02-30"]],
        [check],
        lineage={"_meshc_run_id": "r1"},
    )
    valid_path, quarantine_path = tmp_path / f"valid.{fmt}", tmp_path / f"q.{fmt}"
    engine.write(result.valid, valid_path, fmt)
    engine.write(result.quarantine, quarantine_path, fmt)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("valid", "q."))) == [
        f"q.{fmt}",
        f"valid.{fmt}",
    ]
    reader = duckdb.connect()
    if fmt == "parquet":
        valid = reader.read_parquet(str(valid_path)).fetchall()
        assert valid == [(1, dt.date(2024, 1, 1), "r1")]
        quarantine = reader.read_parquet(str(quarantine_path)).fetchall()
        assert quarantine[0][2][0]["rule_id"] == "d.type"
        return
    if fmt == "csv":
        with valid_path.open(encoding="utf-8") as fh:
            assert list(csv.reader(fh)) == [["y", "d", "_meshc_run_id"], ["1", "2024-01-01", "r1"]]
        with quarantine_path.open(encoding="utf-8") as fh:
            [q_row] = list(csv.DictReader(fh))
    else:
        lines = valid_path.read_text(encoding="utf-8").splitlines()
        assert [json.loads(line) for line in lines] == [
            {"y": 1, "d": "2024-01-01", "_meshc_run_id": "r1"}
        ]
        [q_line] = quarantine_path.read_text(encoding="utf-8").splitlines()
        q_row = json.loads(q_line)
    assert (q_row["y"], q_row["d"]) == ("-1", "2024-02-30")
    reasons = json.loads(q_row[REASONS])
    assert [r["rule_id"] for r in reasons] == ["d.type", "pos"]
    assert set(reasons[0]) == {"rule_id", "rule", "column", "value", "message", "severity"}


def test_registry_creates_the_engine() -> None:
    from meshc.engines.registry import get_engine

    eng = get_engine("duckdb")
    try:
        assert eng.name == "duckdb"
        assert eng.con.execute("SELECT current_setting('TimeZone')").fetchall() == [("UTC",)]
    finally:
        assert isinstance(eng, DuckDBEngine)
        eng.close()
