"""The Spark engine on tiny inputs: casts, checks, reasons, lineage, IO, aggregates.

One local SparkSession serves the whole module (start-up takes seconds on two cores)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

pytest.importorskip("pyspark")

from pyspark.sql import DataFrame  # noqa: E402
from pyspark.sql import types as T  # noqa: E402

from meshc.engines._spark.engine import SparkEngine, create  # noqa: E402
from meshc.engines._spark.session import get_session  # noqa: E402
from meshc.engines._spark.translate import java_pattern, translate  # noqa: E402
from meshc.engines.base import REASONS, ColumnSpec, ValidationPlan  # noqa: E402
from meshc.errors import SourceError, UnsupportedConstruct  # noqa: E402
from meshc.rules import expr as ir  # noqa: E402
from meshc.rules.checks import NotNull, Origin, Severity, SqlRule, Unique  # noqa: E402
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

pytestmark = pytest.mark.spark

ORIGIN = Origin("t.yaml", 1, 1)
UTC = dt.timezone.utc
DEC52 = LogicalType(Kind.DECIMAL, 5, 2)


@pytest.fixture(scope="module")
def engine() -> Iterator[SparkEngine]:
    yield create(session=get_session())


def test_registry_builds_the_engine_on_a_given_session(engine: SparkEngine) -> None:
    from meshc.engines.registry import get_engine

    built = get_engine("spark", session=engine.session)
    assert isinstance(built, SparkEngine) and built.session is engine.session


def text_frame(
    engine: SparkEngine, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> DataFrame:
    schema = T.StructType([T.StructField(c, T.StringType()) for c in columns])
    return engine.session.createDataFrame(rows, schema)


def rule(
    id_: str, expr: ir.Expr, text: str, severity: Severity = "error", description: str | None = None
) -> SqlRule:
    return SqlRule(
        id=id_,
        severity=severity,
        rule=text,
        origin=ORIGIN,
        description=description,
        expr=expr,
        sql=text,
    )


def plan(columns: dict[str, LogicalType], *checks: Any, **options: Any) -> ValidationPlan:
    specs = tuple(ColumnSpec(n, t) for n, t in columns.items())
    return ValidationPlan(columns=specs, checks=tuple(checks), **options)


def rows(engine: SparkEngine, frame: DataFrame) -> list[dict[str, Any]]:
    return engine.to_arrow(frame).to_pylist()


def cast_split(
    engine: SparkEngine, ltype: LogicalType, values: list[str | None]
) -> tuple[list[Any], list[Any]]:
    """(typed values of valid rows, raw values of quarantined rows), in input order."""
    frame = text_frame(engine, ["i", "v"], [(str(k), v) for k, v in enumerate(values)])
    split = engine.validate(frame, plan({"i": INTEGER, "v": ltype}))
    assert split.rows_in == split.rows_valid + split.rows_quarantined == len(values)
    valid = sorted(rows(engine, split.valid), key=lambda r: r["i"])
    bad = sorted(rows(engine, split.quarantine), key=lambda r: int(r["i"]))
    return [r["v"] for r in valid], [r["v"] for r in bad]


# --- casts ---------------------------------------------------------------------------------


def test_integer_forms(engine: SparkEngine) -> None:
    good, bad = cast_split(
        engine,
        INTEGER,
        [
            "1",
            " 7 ",
            "+5",
            "-3",
            "9223372036854775807",
            "",
            None,
            "1.0",
            "1e3",
            "9223372036854775808",
            "abc",
            "5\n",
        ],
    )
    assert good == [1, 7, 5, -3, 9223372036854775807, None, None]
    assert bad == ["1.0", "1e3", "9223372036854775808", "abc", "5\n"]


def test_float_forms_nan_is_null_and_inf_kept(engine: SparkEngine) -> None:
    good, bad = cast_split(
        engine, FLOAT, ["1.5", "-2e3", ".5", "NaN", "+nan", "inf", "-Infinity", "abc", "1.2.3"]
    )
    assert good[:3] == [1.5, -2000.0, 0.5]
    assert good[3:5] == [None, None]
    assert good[5] == float("inf") and good[6] == float("-inf")
    assert bad == ["abc", "1.2.3"]


def test_decimal_never_rounds(engine: SparkEngine) -> None:
    good, bad = cast_split(engine, DEC52, ["123.45", "-0.5", "007", "1.234", "1234.5", "1e2"])
    assert good == [Decimal("123.45"), Decimal("-0.50"), Decimal("7.00")]
    assert bad == ["1.234", "1234.5", "1e2"]
    split = engine.validate(text_frame(engine, ["v"], [("1.5",)]), plan({"v": DEC52}))
    assert str(engine.to_arrow(split.valid).schema.field("v").type) == "decimal128(5, 2)"


def test_boolean_forms(engine: SparkEngine) -> None:
    good, bad = cast_split(engine, BOOLEAN, ["true", "F", "Yes", "no", "1", "0", "maybe", "2"])
    assert good == [True, False, True, False, True, False]
    assert bad == ["maybe", "2"]


def test_date_forms_reject_impossible_dates(engine: SparkEngine) -> None:
    good, bad = cast_split(
        engine,
        DATE,
        ["2024-02-29", " 2024-01-05 ", "2023-02-29", "2024-13-45", "2024-02-30", "2024-1-1"],
    )
    assert good == [dt.date(2024, 2, 29), dt.date(2024, 1, 5)]
    assert bad == ["2023-02-29", "2024-13-45", "2024-02-30", "2024-1-1"]


def test_timestamp_offsets_normalised_to_utc(engine: SparkEngine) -> None:
    good, bad = cast_split(
        engine,
        TIMESTAMP,
        [
            "2024-03-01T10:00:00+02:00",
            "2024-03-01 10:00",
            "2024-03-01",
            "2024-03-01T10:00:00.5Z",
            "2024-03-01T23:30:00-01:00",
            "2024-03-01T25:00",
            "2024-03-01T10",
            "yesterday",
        ],
    )
    assert good == [
        dt.datetime(2024, 3, 1, 8),
        dt.datetime(2024, 3, 1, 10),
        dt.datetime(2024, 3, 1),
        dt.datetime(2024, 3, 1, 10, 0, 0, 500000),
        dt.datetime(2024, 3, 2, 0, 30),
    ]
    assert bad == ["2024-03-01T25:00", "2024-03-01T10", "yesterday"]


def test_timestamp_tz_is_a_utc_instant(engine: SparkEngine) -> None:
    frame = text_frame(engine, ["ts"], [("2024-03-01T10:00:00+02:00",), ("2024-03-01 10:00",)])
    split = engine.validate(frame, plan({"ts": TIMESTAMP_TZ}))
    table = engine.to_arrow(split.valid)
    assert str(table.schema.field("ts").type) == "timestamp[us, tz=UTC]"
    assert table.column("ts").to_pylist() == [
        dt.datetime(2024, 3, 1, 8, tzinfo=UTC),
        dt.datetime(2024, 3, 1, 10, tzinfo=UTC),
    ]


def test_valid_frame_types_and_order(engine: SparkEngine) -> None:
    frame = text_frame(
        engine,
        ["s", "i", "f", "b", "d", "t"],
        [(" x ", "1", "2", "t", "2024-01-01", "2024-01-01T00:00")],
    )
    columns = {"t": TIMESTAMP, "d": DATE, "b": BOOLEAN, "f": FLOAT, "i": INTEGER, "s": STRING}
    table = engine.to_arrow(engine.validate(frame, plan(columns)).valid)
    assert [(f.name, str(f.type)) for f in table.schema] == [
        ("t", "timestamp[us]"),
        ("d", "date32[day]"),
        ("b", "bool"),
        ("f", "double"),
        ("i", "int64"),
        ("s", "string"),
    ]
    assert table.column("s").to_pylist() == [" x "]  # strings are never trimmed


# --- checks, reasons, split ----------------------------------------------------------------


def test_null_is_not_a_violation(engine: SparkEngine) -> None:
    check = rule("r1", ir.Compare(">=", ir.Col("x", FLOAT), ir.Lit(0, INTEGER)), "x >= 0")
    frame = text_frame(engine, ["x"], [("1",), (None,), ("",), ("-1",)])
    split = engine.validate(frame, plan({"x": FLOAT}, check))
    assert (split.rows_valid, split.rows_quarantined) == (3, 1)
    assert split.failures == {"r1": 1}
    assert rows(engine, split.quarantine)[0]["x"] == "-1"


def test_cast_failure_not_also_reported_by_rules(engine: SparkEngine) -> None:
    check = rule("pos", ir.Compare(">", ir.Col("x", INTEGER), ir.Lit(0, INTEGER)), "x > 0")
    split = engine.validate(text_frame(engine, ["x"], [("abc",)]), plan({"x": INTEGER}, check))
    reasons = rows(engine, split.quarantine)[0][REASONS]
    assert [r["rule_id"] for r in reasons] == ["x.type"]
    assert split.failures == {"x.type": 1, "pos": 0}


def test_reasons_order_and_content(engine: SparkEngine) -> None:
    amount, code = ir.Col("amount", INTEGER), ir.Col("code", STRING)
    checks = [
        NotNull(
            id="code.required",
            severity="error",
            rule="required",
            origin=ORIGIN,
            description=None,
            column=code,
        ),
        rule(
            "amount_small",
            ir.Compare("<", amount, ir.Lit(100, INTEGER)),
            "amount < 100",
            severity="warn",
            description="amount should be small",
        ),
        rule(
            "code_short",
            ir.Compare("<=", ir.StrFn("length", code), ir.Lit(2, INTEGER)),
            "LENGTH(code) <= 2",
        ),
    ]
    frame = text_frame(
        engine,
        ["when", "amount", "code"],
        [("x", "500", "abcd"), ("2024-01-01", "5", None), ("2024-01-02", "7", "ok")],
    )
    split = engine.validate(frame, plan({"when": DATE, "amount": INTEGER, "code": STRING}, *checks))
    assert (split.rows_in, split.rows_valid, split.rows_quarantined) == (3, 1, 2)
    assert split.failures == {
        "when.type": 1,
        "code.required": 1,
        "amount_small": 1,
        "code_short": 1,
    }
    bad = {r["amount"]: r for r in rows(engine, split.quarantine)}
    assert bad["500"][REASONS] == [
        {
            "rule_id": "when.type",
            "rule": "type date",
            "column": "when",
            "value": "x",
            "message": "value of 'when' cannot be read as date",
            "severity": "error",
        },
        {
            "rule_id": "amount_small",
            "rule": "amount < 100",
            "column": "amount",
            "value": "500",
            "message": "amount should be small",
            "severity": "warn",
        },
        {
            "rule_id": "code_short",
            "rule": "LENGTH(code) <= 2",
            "column": "code",
            "value": "abcd",
            "message": "violates LENGTH(code) <= 2",
            "severity": "error",
        },
    ]
    assert bad["5"][REASONS] == [
        {
            "rule_id": "code.required",
            "rule": "required",
            "column": "code",
            "value": None,
            "message": "violates required",
            "severity": "error",
        }
    ]
    assert engine.columns(split.quarantine) == ["when", "amount", "code", REASONS]


def test_warn_counts_but_never_quarantines(engine: SparkEngine) -> None:
    check = rule(
        "w", ir.Compare("<", ir.Col("x", INTEGER), ir.Lit(10, INTEGER)), "x < 10", severity="warn"
    )
    split = engine.validate(
        text_frame(engine, ["x"], [("50",), ("60",), ("1",)]), plan({"x": INTEGER}, check)
    )
    assert (split.rows_valid, split.rows_quarantined, split.failures) == (3, 0, {"w": 2})


def test_include_reasons_false_and_extra_columns_in_quarantine(engine: SparkEngine) -> None:
    frame = text_frame(engine, ["x", "note"], [("bad", "n1"), ("2", "n2")])
    split = engine.validate(frame, plan({"x": INTEGER}, include_reasons=False))
    assert engine.columns(split.quarantine) == ["x", "note"]
    assert rows(engine, split.quarantine) == [{"x": "bad", "note": "n1"}]
    assert engine.columns(split.valid) == ["x"]  # extra_columns defaults to drop


def test_extra_columns_keep_error_and_missing(engine: SparkEngine) -> None:
    frame = text_frame(engine, ["note", "x"], [("n", "1")])
    kept = engine.validate(frame, plan({"x": INTEGER}, extra_columns="keep")).valid
    assert rows(engine, kept) == [{"x": 1, "note": "n"}]
    with pytest.raises(SourceError, match="note"):
        engine.validate(frame, plan({"x": INTEGER}, extra_columns="error"))
    with pytest.raises(SourceError, match="y"):
        engine.validate(frame, plan({"x": INTEGER, "y": STRING}))


def test_lineage_columns(engine: SparkEngine) -> None:
    now = dt.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    lineage = {"_meshc_run_id": "run-1", "_meshc_source": "in.csv", "_meshc_processed_at": now}
    split = engine.validate(
        text_frame(engine, ["x"], [("1",), ("no",)]), plan({"x": INTEGER}, lineage=lineage)
    )
    valid, bad = engine.to_arrow(split.valid), engine.to_arrow(split.quarantine)
    assert valid.column_names == ["x", *lineage]
    assert bad.column_names == ["x", REASONS, *lineage]
    assert valid.to_pylist() == [
        {"x": 1, "_meshc_run_id": "run-1", "_meshc_source": "in.csv", "_meshc_processed_at": now}
    ]
    assert str(valid.schema.field("_meshc_processed_at").type) == "timestamp[us, tz=UTC]"


def test_duplicates_all_quarantined_and_null_keys_never_duplicate(engine: SparkEngine) -> None:
    a, b = ir.Col("a", INTEGER), ir.Col("b", STRING)
    check = Unique(
        id="ab.unique",
        severity="error",
        rule="unique(a, b)",
        origin=ORIGIN,
        description=None,
        key=(a, b),
    )
    frame = text_frame(
        engine,
        ["a", "b"],
        [("1", "x"), ("01", "x"), ("1", "y"), ("2", None), ("2", None), ("3", "z")],
    )
    split = engine.validate(frame, plan({"a": INTEGER, "b": STRING}, check))
    assert split.failures == {"ab.unique": 2}
    assert sorted(r["a"] for r in rows(engine, split.quarantine)) == ["01", "1"]
    assert split.rows_valid == 4


def test_parquet_typed_source_fails_lossy_casts(engine: SparkEngine, tmp_path: Path) -> None:
    source = engine.session.createDataFrame([(1.5, "a"), (2.0, "")], "n double, s string")
    engine.write(source, tmp_path / "in.parquet", "parquet")
    frame = engine.read([str(tmp_path / "in.parquet")], "parquet")
    split = engine.validate(frame, plan({"n": INTEGER, "s": STRING}))
    assert rows(engine, split.valid) == [{"n": 2, "s": ""}]  # parquet '' is not a null value
    assert split.failures == {"n.type": 1}


# --- expressions ---------------------------------------------------------------------------


def evaluate(
    engine: SparkEngine,
    expr: ir.Expr,
    columns: Mapping[str, T.DataType],
    data: list[tuple[Any, ...]],
) -> list[Any]:
    schema = T.StructType([T.StructField(n, t) for n, t in columns.items()])
    frame = engine.session.createDataFrame(data, schema)
    return [r["r"] for r in rows(engine, frame.select(translate(expr).alias("r")))]


def test_arithmetic_and_division_by_zero(engine: SparkEngine) -> None:
    x, y = ir.Col("x", INTEGER), ir.Col("y", INTEGER)
    long = T.LongType()
    data = [(7, 2), (7, 0), (-7, 2), (None, 1)]
    assert evaluate(engine, ir.Arith("/", x, y, FLOAT), {"x": long, "y": long}, data) == [
        3.5,
        None,
        -3.5,
        None,
    ]
    assert evaluate(engine, ir.Arith("%", x, y, INTEGER), {"x": long, "y": long}, data) == [
        1,
        None,
        -1,
        None,
    ]
    big = [(9223372036854775807, 1)]
    assert evaluate(engine, ir.Arith("+", x, y, INTEGER), {"x": long, "y": long}, big) == [None]
    assert evaluate(
        engine,
        ir.Cast(ir.Col("f", FLOAT), INTEGER),
        {"f": T.DoubleType()},
        [(2.9,), (-2.9,), (float("nan"),)],
    ) == [2, -2, None]


def test_case_and_coalesce(engine: SparkEngine) -> None:
    x = ir.Col("x", INTEGER)
    case = ir.Case(
        ((ir.Compare(">", x, ir.Lit(0, INTEGER)), ir.Lit("pos", STRING)),),
        ir.Lit("other", STRING),
        STRING,
    )
    long = {"x": T.LongType()}
    assert evaluate(engine, case, long, [(5,), (-1,), (None,)]) == ["pos", "other", "other"]
    coalesce = ir.Coalesce((x, ir.Lit(0, INTEGER)), INTEGER)
    assert evaluate(engine, coalesce, long, [(5,), (None,)]) == [5, 0]


def test_three_valued_logic_and_in_list(engine: SparkEngine) -> None:
    x = ir.Col("x", INTEGER)
    in_null = ir.InList(x, (ir.Lit(1, INTEGER), ir.Lit(None, INTEGER)))
    long = {"x": T.LongType()}
    assert evaluate(engine, in_null, long, [(1,), (2,), (None,)]) == [True, None, None]
    either = ir.Or(ir.IsNull(x), ir.Compare(">", x, ir.Lit(3, INTEGER)))
    assert evaluate(engine, either, long, [(None,), (1,), (5,)]) == [True, False, True]


def test_date_add_clamps_and_diff(engine: SparkEngine) -> None:
    d = ir.Col("d", DATE)
    dates = [(dt.date(2024, 1, 31),), (dt.date(2024, 2, 29),)]
    date = {"d": T.DateType()}
    assert evaluate(engine, ir.DateAdd(d, 1, "month"), date, dates) == [
        dt.date(2024, 2, 29),
        dt.date(2024, 3, 29),
    ]
    assert evaluate(engine, ir.DateAdd(d, 1, "year"), date, dates) == [
        dt.date(2025, 1, 31),
        dt.date(2025, 2, 28),
    ]
    assert evaluate(engine, ir.DateAdd(d, -1, "day"), date, dates) == [
        dt.date(2024, 1, 30),
        dt.date(2024, 2, 28),
    ]
    diff = ir.DateDiffDays(d, ir.Lit(dt.date(2024, 1, 1), DATE))
    assert evaluate(engine, diff, date, dates) == [30, 59]


def test_timestamp_add_month_clamps(engine: SparkEngine) -> None:
    ts = ir.Col("t", TIMESTAMP)
    data = [(dt.datetime(2024, 1, 31, 10, 30),)]
    result = evaluate(engine, ir.DateAdd(ts, 1, "month"), {"t": T.TimestampNTZType()}, data)
    assert result == [dt.datetime(2024, 2, 29, 10, 30)]


def test_regex_search_like_and_case_insensitive(engine: SparkEngine) -> None:
    s = ir.Col("s", STRING)
    text = {"s": T.StringType()}
    data = [("abc-123",), ("ABC",), ("x\n",), (None,)]
    assert evaluate(engine, ir.RegexSearch(s, "[0-9]+"), text, data) == [True, False, False, None]
    assert evaluate(engine, ir.RegexSearch(s, "abc", case_insensitive=True), text, data) == [
        True,
        True,
        False,
        None,
    ]
    # Java's '$' would match before a final newline; the portable meaning does not
    assert evaluate(engine, ir.RegexSearch(s, "^x$"), text, data) == [False, False, False, None]
    like = ir.RegexSearch(s, like_to_regex("a_c%"))
    assert evaluate(engine, like, text, data) == [True, False, False, None]
    assert java_pattern("[$]$") == "(?d)[$]\\z"


def test_string_functions(engine: SparkEngine) -> None:
    s = ir.Col("s", STRING)
    text = {"s": T.StringType()}
    data = [("  héllo ",), (None,)]
    assert evaluate(engine, ir.StrFn("length", s), text, data) == [8, None]
    assert evaluate(engine, ir.StrFn("trim", s), text, data) == ["héllo", None]
    assert evaluate(engine, ir.Substring(s, 3, 3), text, data) == ["hél", None]
    concat = ir.Concat((s, ir.Lit("!", STRING)))
    assert evaluate(engine, concat, text, data) == ["  héllo !", None]


def test_decimal_literal_keeps_its_scale(engine: SparkEngine) -> None:
    check = ir.Compare(">=", ir.Col("v", DEC52), ir.Lit(Decimal("1.005"), DEC52))
    data = [(Decimal("1.00"),), (Decimal("1.01"),)]
    assert evaluate(engine, check, {"v": T.DecimalType(5, 2)}, data) == [False, True]


def test_unsupported_node_raises(engine: SparkEngine) -> None:
    with pytest.raises(UnsupportedConstruct, match="CurrentDate is not supported on spark"):
        translate(ir.CurrentDate())


# --- aggregate -----------------------------------------------------------------------------


def test_aggregate(engine: SparkEngine) -> None:
    frame = engine.session.createDataFrame([(1, "a"), (2, "a"), (None, "b")], "x bigint, s string")
    x, s = ir.Col("x", INTEGER), ir.Col("s", STRING)
    result = engine.aggregate(
        frame,
        {
            "n": ir.Agg("count_all", None, INTEGER),
            "nx": ir.Agg("count", x, INTEGER),
            "total": ir.Agg("sum", x, INTEGER),
            "mean": ir.Agg("avg", x, FLOAT),
            "kinds": ir.Agg("count_distinct", s, INTEGER),
            "ok": ir.Compare(">", ir.Agg("max", x, INTEGER), ir.Lit(1, INTEGER)),
        },
    )
    assert result == {"n": 3, "nx": 2, "total": 3, "mean": 1.5, "kinds": 2, "ok": True}


# --- reading and writing -------------------------------------------------------------------


def test_read_csv_all_text_several_files(engine: SparkEngine, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text('id;amount\n1;"1.50"\n2;007\n')
    (tmp_path / "b.csv").write_text('id;amount\n3;"x;y"\n')
    frame = engine.read([str(tmp_path / "a.csv"), str(tmp_path / "b.csv")], "csv", delimiter=";")
    assert all(isinstance(f.dataType, T.StringType) for f in frame.schema.fields)
    assert sorted(rows(engine, frame), key=lambda r: r["id"]) == [
        {"id": "1", "amount": "1.50"},
        {"id": "2", "amount": "007"},
        {"id": "3", "amount": "x;y"},
    ]


@pytest.mark.parametrize("layout", ["array", "ndjson"])
def test_read_json_keeps_number_text(engine: SparkEngine, tmp_path: Path, layout: str) -> None:
    records = [{"id": 1, "amount": 1.50, "ok": True}, {"id": 2, "amount": "abc"}]
    path = tmp_path / "in.json"
    if layout == "array":
        path.write_text('[{"id": 1, "amount": 1.50, "ok": true}, {"id": 2, "amount": "abc"}]')
    else:
        path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    frame = engine.read([str(path)], "json")
    assert all(isinstance(f.dataType, T.StringType) for f in frame.schema.fields)
    data = sorted(rows(engine, frame), key=lambda r: r["id"])
    assert [(r["id"], r["amount"], r["ok"]) for r in data] == [
        ("1", "1.50" if layout == "array" else "1.5", "true"),
        ("2", "abc", None),
    ]


def _split_for_writing(engine: SparkEngine) -> Any:
    check = rule("r1", ir.Compare(">=", ir.Col("x", INTEGER), ir.Lit(0, INTEGER)), "x >= 0")
    frame = text_frame(
        engine,
        ["x", "ts"],
        [("1", "2024-01-01T10:00:00.123456Z"), ("-1", None), ("zz", "2024-01-01")],
    )
    return engine.validate(frame, plan({"x": INTEGER, "ts": TIMESTAMP_TZ}, check))


def test_write_parquet_one_file(engine: SparkEngine, tmp_path: Path) -> None:
    split = _split_for_writing(engine)
    engine.write(split.valid, tmp_path / "valid.parquet", "parquet")
    engine.write(split.quarantine, tmp_path / "bad.parquet", "parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.parquet", "valid.parquet"]
    valid = pq.read_table(tmp_path / "valid.parquet")
    assert valid.to_pylist() == [
        {"x": 1, "ts": dt.datetime(2024, 1, 1, 10, 0, 0, 123456, tzinfo=UTC)}
    ]
    bad = pq.read_table(tmp_path / "bad.parquet").to_pylist()
    assert sorted(r[REASONS][0]["rule_id"] for r in bad) == ["r1", "x.type"]


def test_write_csv_and_json_encode_reasons(engine: SparkEngine, tmp_path: Path) -> None:
    split = _split_for_writing(engine)
    engine.write(split.quarantine, tmp_path / "bad.csv", "csv")
    back = rows(engine, engine.read([str(tmp_path / "bad.csv")], "csv"))
    by_x = {r["x"]: json.loads(r[REASONS]) for r in back}
    assert by_x["zz"] == [
        {
            "rule_id": "x.type",
            "rule": "type integer",
            "column": "x",
            "value": "zz",
            "message": "value of 'x' cannot be read as integer",
            "severity": "error",
        }
    ]
    engine.write(split.quarantine, tmp_path / "bad.json", "json")
    lines = [json.loads(line) for line in (tmp_path / "bad.json").read_text().splitlines()]
    assert sorted(line["x"] for line in lines) == ["-1", "zz"]
    minus = next(line for line in lines if line["x"] == "-1")
    assert minus["ts"] is None and json.loads(minus[REASONS])[0]["value"] == "-1"
    engine.write(split.valid, tmp_path / "valid.csv", "csv")
    assert (tmp_path / "valid.csv").read_text().splitlines() == [
        "x,ts",
        "1,2024-01-01T10:00:00.123456Z",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "bad.json", "valid.csv"]


def test_write_empty_frame_still_one_file(engine: SparkEngine, tmp_path: Path) -> None:
    split = engine.validate(text_frame(engine, ["x"], [("1",)]), plan({"x": INTEGER}))
    engine.write(split.quarantine, tmp_path / "bad.parquet", "parquet")
    table = pq.read_table(tmp_path / "bad.parquet")
    assert table.num_rows == 0 and table.column_names == ["x", REASONS]


def test_csv_empty_cell_is_text_unless_a_null_value(engine: SparkEngine, tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text('s,n\n,1\n"",\nN/A,2\n')
    frame = engine.read([str(tmp_path / "in.csv")], "csv")
    columns = {"s": STRING, "n": INTEGER}
    custom = engine.validate(frame, plan(columns, null_values=("N/A",)))
    assert rows(engine, custom.valid) == [{"s": "", "n": 1}, {"s": None, "n": 2}]
    assert rows(engine, custom.quarantine)[0]["n"] == ""  # '' is not an integer here
    default = engine.validate(frame, plan(columns))
    assert (default.rows_valid, default.failures) == (3, {})
    assert rows(engine, default.valid)[:2] == [{"s": None, "n": 1}, {"s": None, "n": None}]


def test_validating_a_rewritten_file_sees_the_new_rows(engine: SparkEngine, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    for value, expected in (("1", 1), ("2", 2)):
        path.write_text(f"x\n{value}\n")
        split = engine.validate(engine.read([str(path)], "csv"), plan({"x": INTEGER}))
        assert rows(engine, split.valid) == [{"x": expected}]
