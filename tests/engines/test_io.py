"""Reading, writing, masking and aggregating, the same on every engine."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from meshc.engines.base import REASON_FIELDS, REASONS
from meshc.errors import SourceError
from meshc.rules import expr as ir
from meshc.types import BOOLEAN, DATE, FLOAT, INTEGER, STRING, TIMESTAMP, TIMESTAMP_TZ
from tests.conftest import TEST_MASKING_KEY

from .helpers import DEC52, column, dec, parquet_codecs, plan, rows, rule, run, text_frame


# -- reading ---------------------------------------------------------------------------------------
def test_read_csv_keeps_text_across_several_files(engine: Any, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text('x;y\n 1.50 ;NA\n"a;b";\n', encoding="utf-8")
    (tmp_path / "b.csv").write_text("x;y\n007;null\n", encoding="utf-8")
    paths = [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]
    frame = engine.read(paths, "csv", delimiter=";", text_columns=["x", "y"])
    table = engine.to_arrow(frame)
    assert all(
        pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
        for t in table.schema.types
    )
    # nothing is trimmed, guessed or turned into NULL by the reader ('' only through null_values)
    assert sorted(table.to_pylist(), key=lambda r: r["x"]) == [
        {"x": " 1.50 ", "y": "NA"},
        {"x": "007", "y": "null"},
        {"x": "a;b", "y": ""},
    ]
    split = run(engine, frame, plan({"x": DEC52, "y": STRING}, text_source=True))
    assert sorted(column(engine, split.valid, "x")) == [Decimal("1.50"), Decimal("7.00")]
    assert rows(engine, split.quarantine)[0]["y"] is None  # '' is a null value by default


def test_read_csv_without_header(engine: Any, tmp_path: Path) -> None:
    (tmp_path / "semi.csv").write_text("1;2\n", encoding="utf-8")
    frame = engine.read([str(tmp_path / "semi.csv")], "csv", delimiter=";", header=False)
    assert list(rows(engine, frame)[0].values()) == ["1", "2"]


def test_csv_empty_cell_is_text_unless_a_null_value(engine: Any, tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text('s,n\n,1\n"",\nN/A,2\n')
    frame = engine.read([str(tmp_path / "in.csv")], "csv")
    columns = {"s": STRING, "n": INTEGER}
    custom = run(engine, frame, plan(columns, null_values=("N/A",), text_source=True))
    assert rows(engine, custom.valid) == [{"s": "", "n": 1}, {"s": None, "n": 2}]
    assert rows(engine, custom.quarantine)[0]["n"] == ""  # '' is not an integer here
    default = run(engine, frame, plan(columns, text_source=True))
    assert (default.rows_valid, default.failures) == (3, {})
    assert rows(engine, default.valid)[:2] == [{"s": None, "n": 1}, {"s": None, "n": None}]


def test_read_header_only_and_empty_files(engine: Any, tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("id\n")
    frame = engine.read([str(tmp_path / "h.csv")], "csv")
    split = run(engine, frame, plan({"id": INTEGER}, text_source=True))
    assert (split.rows_in, str(engine.to_arrow(split.valid).schema.field("id").type)) == (
        0,
        "int64",
    )
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(SourceError):
        engine.columns(engine.read([str(tmp_path / "e.csv")], "csv"))


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json", "xml"])
def test_read_refuses_no_files_and_unknown_formats(engine: Any, fmt: str) -> None:
    with pytest.raises(SourceError, match="no source files given"):
        engine.read([], fmt)
    if fmt == "xml":
        with pytest.raises(SourceError, match="unknown source format 'xml'"):
            engine.read(["in.xml"], fmt)


def test_read_json_array_and_ndjson_keep_number_text(engine: Any, tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('[{"x": 1.50, "b": true, "n": null}, {"x": "abc"}]')
    (tmp_path / "b.ndjson").write_text('{"x": 10}\n\n{"x": 1e3, "b": false}\n')
    array = engine.read([str(tmp_path / "a.json")], "json")
    assert engine.to_arrow(array).to_pydict() == {
        "x": ["1.50", "abc"],
        "b": ["true", None],
        "n": [None, None],
    }
    lines = engine.read([str(tmp_path / "b.ndjson")], "ndjson")
    assert engine.to_arrow(lines).to_pydict() == {"x": ["10", "1e3"], "b": [None, "false"]}
    split = run(engine, lines, plan({"x": INTEGER, "b": BOOLEAN}, text_source=True))
    assert split.failures == {"x.type": 1}  # 1e3 is not an integer form
    both = engine.read(
        [str(tmp_path / "a.json"), str(tmp_path / "b.ndjson")], "json", text_columns=["x", "b"]
    )
    mixed = run(engine, both, plan({"x": INTEGER, "b": BOOLEAN}, text_source=True))
    assert column(engine, mixed.valid, "x") == [10]
    assert column(engine, mixed.quarantine, "x") == ["1.50", "abc", "1e3"]


def test_ndjson_key_first_seen_late(engine: Any, tmp_path: Path) -> None:
    lines = [json.dumps({"a": i}) for i in range(120)] + [json.dumps({"a": 1, "id": 7})]
    (tmp_path / "late.ndjson").write_text("\n".join(lines))
    frame = engine.read([str(tmp_path / "late.ndjson")], "ndjson", text_columns=["id"])
    split = run(engine, frame, plan({"id": INTEGER}, text_source=True))
    assert [v for v in column(engine, split.valid, "id") if v is not None] == [7]


def test_read_parquet_keeps_stored_types(engine: Any, tmp_path: Path) -> None:
    table = pa.table(
        {
            "x": pa.array([1.0, 1.5, float("nan")]),
            "f": pa.array([0.5, 2.0, float("nan")]),
            "s": pa.array(["", "a", None]),
            "t": pa.array(["1", "x", None]),
        }
    )
    pq.write_table(table, tmp_path / "in.parquet")
    frame = engine.read([str(tmp_path / "in.parquet")], "parquet")
    split = run(
        engine,
        frame,
        plan({"x": INTEGER, "f": FLOAT, "s": STRING, "t": INTEGER}, text_source=False),
    )
    # 1.0 is integral, 1.5 is not; a stored NaN is NULL; a stored '' is data, not a null value;
    # a stored string is cast by the text forms
    assert rows(engine, split.valid) == [
        {"x": 1, "f": 0.5, "s": "", "t": 1},
        {"x": None, "f": None, "s": None, "t": None},
    ]
    [bad] = rows(engine, split.quarantine)
    assert (bad["x"], bad["s"], bad["t"]) == (1.5, "a", "x")
    assert [(r["rule_id"], r["value"]) for r in bad[REASONS]] == [
        ("x.type", "1.5"),
        ("t.type", "x"),
    ]
    assert split.failures == {"x.type": 1, "t.type": 1}


# -- writing ---------------------------------------------------------------------------------------
def _split_to_write(engine: Any) -> Any:
    check = rule("pos", ir.Compare(">", ir.Col("x", INTEGER), ir.Lit(0, INTEGER)), "x > 0")
    frame = text_frame(engine, x=["5", "-1", "bad"], d=["2024-01-01", "2024-01-02", "2024-02-30"])
    return run(
        engine, frame, plan({"x": INTEGER, "d": DATE}, check, lineage={"_meshc_run_id": "r1"})
    )


def test_parquet_outputs_are_zstd_on_every_engine(engine: Any, tmp_path: Path) -> None:
    # one codec whichever engine a domain runs: zstd, Polars' default (smaller than snappy, the
    # default of pyarrow, DuckDB and Spark; DuckDB's outputs were 1.6x Polars' size)
    split = _split_to_write(engine)
    for role in ("valid", "quarantine"):
        path = tmp_path / f"{role}.parquet"
        engine.write(getattr(split, role), path, "parquet")
        assert parquet_codecs(path) == {"ZSTD"}, role


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_write_one_file_each_and_read_back(engine: Any, tmp_path: Path, fmt: str) -> None:
    split = _split_to_write(engine)
    valid_path, quarantine_path = tmp_path / f"valid.{fmt}", tmp_path / f"q.{fmt}"
    engine.write(split.valid, valid_path, fmt)
    engine.write(split.quarantine, quarantine_path, fmt)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [valid_path.name, quarantine_path.name]
    )
    expected_reasons = [
        [
            {
                "rule_id": "pos",
                "rule": "x > 0",
                "column": "x",
                "value": "-1",
                "message": "violates x > 0",
                "severity": "error",
            }
        ],
        ["x.type", "d.type"],
    ]
    if fmt == "parquet":
        assert pq.read_table(valid_path).to_pylist() == [
            {"x": 5, "d": dt.date(2024, 1, 1), "_meshc_run_id": "r1"}
        ]
        quarantine = pq.read_table(quarantine_path).to_pylist()
        reasons = [q[REASONS] for q in quarantine]
    elif fmt == "csv":
        with valid_path.open(encoding="utf-8") as fh:
            assert list(csv.reader(fh)) == [["x", "d", "_meshc_run_id"], ["5", "2024-01-01", "r1"]]
        with quarantine_path.open(encoding="utf-8") as fh:
            quarantine = list(csv.DictReader(fh))
        reasons = [json.loads(q[REASONS]) for q in quarantine]
    else:
        valid_lines = valid_path.read_text(encoding="utf-8").splitlines()
        assert [json.loads(line) for line in valid_lines] == [
            {"x": 5, "d": "2024-01-01", "_meshc_run_id": "r1"}
        ]
        quarantine = [
            json.loads(line) for line in quarantine_path.read_text(encoding="utf-8").splitlines()
        ]
        reasons = [json.loads(q[REASONS]) for q in quarantine]
    assert [(q["x"], q["d"]) for q in quarantine] == [("-1", "2024-01-02"), ("bad", "2024-02-30")]
    assert reasons[0] == expected_reasons[0]
    assert [r["rule_id"] for r in reasons[1]] == expected_reasons[1]
    assert all(list(r) == list(REASON_FIELDS) for rs in reasons for r in rs)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_output_reads_back_through_meshc_unchanged(engine: Any, tmp_path: Path, fmt: str) -> None:
    columns = {"t": TIMESTAMP_TZ, "n": TIMESTAMP, "d": dec(6, 2), "b": BOOLEAN, "f": FLOAT}
    source = text_frame(
        engine,
        t=["2024-06-01T12:00:00.5+02:00"],
        n=["2024-06-01 12:00"],
        d=["1.50"],
        b=["yes"],
        f=["-0.25"],
    )
    first = run(engine, source, plan(columns))
    engine.write(first.valid, tmp_path / f"v.{fmt}", fmt)
    again = run(
        engine,
        engine.read([str(tmp_path / f"v.{fmt}")], fmt),
        plan(columns, text_source=fmt != "parquet"),
    )
    assert again.rows_quarantined == 0
    assert rows(engine, again.valid) == rows(engine, first.valid)


# The text of timestamps in CSV and JSON outputs: ISO with a 'T', six fraction digits, 'Z' for an
# instant (Polars' and Spark's form), so a file reads the same whichever engine wrote it.
WRITTEN_TIMESTAMPS = {
    "csv": "t,n\n2024-06-01T10:00:00.500000Z,2024-06-01T12:00:00.000000\n,\n",
    "json": '{"t":"2024-06-01T10:00:00.500000Z","n":"2024-06-01T12:00:00.000000"}\n'
    '{"t":null,"n":null}\n',
}


@pytest.mark.parametrize("fmt", sorted(WRITTEN_TIMESTAMPS))
def test_timestamps_are_written_as_the_same_text_on_every_engine(
    engine: Any, tmp_path: Path, fmt: str
) -> None:
    source = text_frame(
        engine, t=["2024-06-01T12:00:00.5+02:00", None], n=["2024-06-01 12:00", None]
    )
    valid = run(engine, source, plan({"t": TIMESTAMP_TZ, "n": TIMESTAMP})).valid
    engine.write(valid, tmp_path / f"v.{fmt}", fmt)
    assert (tmp_path / f"v.{fmt}").read_text() == WRITTEN_TIMESTAMPS[fmt]


# A value in a CSV output is quoted only when it must be (it is empty, or holds a comma, a quote,
# CR or LF), with a quote inside doubled; NULL is an empty cell; header names follow the same rule.
# Polars' and DuckDB's form, so a file is the same text whichever engine wrote it.
QUOTED_CELLS = {
    "plain": "plain",
    " padded ": " padded ",
    "a,b": '"a,b"',
    'say "hi"': '"say ""hi"""',
    "two\nlines": '"two\nlines"',
    "cr\rlf\r\n": '"cr\rlf\r\n"',
    "": '""',
    "ünï 'x' #": "ünï 'x' #",
}


def test_csv_quotes_only_what_needs_quotes(engine: Any, tmp_path: Path) -> None:
    texts = [*QUOTED_CELLS, None]
    frame = text_frame(engine, **{"s": texts, 'q"h,d': [str(i) for i in range(len(texts))]})
    engine.write(frame, tmp_path / "out.csv", "csv")
    cells = [*QUOTED_CELLS.values(), ""]
    expected = 's,"q""h,d"\n' + "".join(f"{c},{i}\n" for i, c in enumerate(cells))
    assert (tmp_path / "out.csv").read_bytes().decode("utf-8") == expected


# -- masking ---------------------------------------------------------------------------------------
def test_mask_columns_and_reason_values(engine: Any) -> None:
    email, n = ir.Col("email", STRING), ir.Col("n", INTEGER)
    p = plan(
        {"email": STRING, "n": INTEGER, "card": STRING},
        rule("dot_com", ir.RegexSearch(email, "[.]com$")),
        rule("n_pos", ir.Compare(">", n, ir.Lit(0, INTEGER))),
    )
    frame = text_frame(
        engine,
        email=["a@b.org", "x@y.com", None],
        n=["5", "-1", "2"],
        card=["1234567890", "abcd", None],
    )
    split = run(engine, frame, p)
    masks = {"email": "hash", "n": "nullify", "card": "partial"}
    valid, quarantine = engine.mask(split.valid, masks), engine.mask(split.quarantine, masks)
    assert rows(engine, valid) == [{"email": None, "n": None, "card": None}]  # NULL stays NULL
    assert str(engine.to_arrow(valid).schema.field("n").type) == "int64"  # keeps its type
    key = TEST_MASKING_KEY.encode()  # `hash` is HMAC-SHA256 under the tests' key (conftest)
    digest, other = (hmac.new(key, v, hashlib.sha256).hexdigest() for v in (b"a@b.org", b"x@y.com"))
    assert column(engine, quarantine, "email") == [digest, other]
    assert column(engine, quarantine, "card") == ["******7890", "****"]
    first, second = column(engine, quarantine, REASONS)
    assert first[0]["value"] == digest  # the reason's value is masked like its column
    assert second[0]["value"] is None  # n is nullified everywhere
    redacted = engine.mask(split.quarantine, {"email": "redact"})
    assert column(engine, redacted, "email") == ["[REDACTED]", "[REDACTED]"]
    assert column(engine, redacted, REASONS)[0][0]["value"] == "[REDACTED]"


# -- aggregates ------------------------------------------------------------------------------------
def test_aggregate(engine: Any) -> None:
    frame = text_frame(
        engine,
        x=["1", "2", None, "2"],
        f=["1.0", None, "3.0", "3.0"],
        d=["1.50", "2.25", None, None],
        s=["a", "b", None, "a"],
    )
    columns = {"x": INTEGER, "f": FLOAT, "d": DEC52, "s": STRING}
    typed = run(engine, frame, plan(columns)).valid
    x, f, d, s = (ir.Col(n, t) for n, t in columns.items())
    count_all = ir.Agg("count_all", None, INTEGER)
    result = engine.aggregate(
        typed,
        {
            "n": count_all,
            "nx": ir.Agg("count", x, INTEGER),
            "distinct": ir.Agg("count_distinct", s, INTEGER),
            "sum": ir.Agg("sum", x, INTEGER),
            "fsum": ir.Agg("sum", f, FLOAT),
            "dsum": ir.Agg("sum", d, dec(38, 2)),
            "avg": ir.Agg("avg", x, FLOAT),
            "davg": ir.Agg("avg", d, FLOAT),
            "lo": ir.Agg("min", f, FLOAT),
            "dlo": ir.Agg("min", d, DEC52),
            "hi": ir.Agg("max", x, INTEGER),
            "ok": ir.Compare(
                ">", ir.Arith("/", ir.Agg("sum", x, INTEGER), count_all, FLOAT), ir.Lit(1, INTEGER)
            ),
        },
    )
    assert result == {
        "n": 4,
        "nx": 3,
        "distinct": 2,
        "sum": 5,
        "fsum": 7.0,
        "dsum": Decimal("3.75"),
        "avg": 5 / 3,
        "davg": 1.875,
        "lo": 1.0,
        "dlo": Decimal("1.50"),
        "hi": 2,
        "ok": True,
    }
    empty = run(engine, text_frame(engine, x=[]), plan({"x": INTEGER})).valid
    assert engine.aggregate(
        empty, {"s": ir.Agg("sum", x, INTEGER), "c": ir.Agg("count", x, INTEGER)}
    ) == {
        "s": None,  # SQL: the SUM of nothing is NULL
        "c": 0,
    }


def test_integer_arithmetic_over_aggregates(engine: Any) -> None:
    typed = run(engine, text_frame(engine, f=["1.0", "3.0"]), plan({"f": FLOAT})).valid
    count_all = ir.Agg("count_all", None, INTEGER)
    doubled = ir.Arith("*", count_all, ir.Lit(2, INTEGER), INTEGER)
    share = ir.Compare(">", doubled, ir.Agg("sum", ir.Col("f", FLOAT), FLOAT))
    assert engine.aggregate(typed, {"share": share, "doubled": doubled}) == {
        "share": False,
        "doubled": 4,
    }


def test_decimal_arithmetic_over_aggregates(engine: Any) -> None:
    typed = run(engine, text_frame(engine, d=["1.50", "2.25"]), plan({"d": DEC52})).valid
    d, wide = ir.Col("d", DEC52), dec(38, 2)
    total, lo, hi = ir.Agg("sum", d, wide), ir.Agg("min", d, DEC52), ir.Agg("max", d, DEC52)
    plus = ir.Arith("+", total, ir.Lit(Decimal("1.00"), dec(3, 2)), wide)
    spread = ir.StrFn("abs", ir.Arith("-", lo, hi, wide))
    count_all = ir.Agg("count_all", None, INTEGER)
    both = ir.Arith("*", total, ir.Coalesce((count_all, ir.Lit(0, INTEGER)), INTEGER), wide)
    assert engine.aggregate(
        typed,
        {
            "plus": plus,
            "minus": ir.Neg(total),
            "spread": spread,
            "both": both,
            "ok": ir.Compare(">", plus, count_all),
        },
    ) == {
        "plus": Decimal("4.75"),
        "minus": Decimal("-3.75"),
        "spread": Decimal("0.75"),
        "both": Decimal("7.50"),
        "ok": True,
    }


def test_decimal_overflow_over_aggregates_is_null(engine: Any) -> None:
    # docs/semantics.md "Integer overflow": a decimal result needing more than 38 digits is NULL
    big = dec(38, 0)
    typed = run(engine, text_frame(engine, d=["9" * 38, "1"]), plan({"d": big})).valid
    top = ir.Agg("max", ir.Col("d", big), big)
    assert engine.aggregate(
        typed,
        {
            "times": ir.Arith("*", top, ir.Lit(10, INTEGER), big),
            "plus": ir.Arith("+", top, ir.Lit(1, INTEGER), big),
            "fits": ir.Arith("-", top, ir.Agg("count_all", None, INTEGER), big),
        },
    ) == {"times": None, "plus": None, "fits": Decimal("9" * 37 + "7")}


def test_integer_overflow_over_aggregates_is_null(engine: Any) -> None:
    # docs/semantics.md "Integer overflow": NULL, never an error, over aggregates too
    x = ir.Col("x", INTEGER)
    extremes = text_frame(engine, x=["9223372036854775807", "-9223372036854775808"])
    typed = run(engine, extremes, plan({"x": INTEGER})).valid
    top, bottom = ir.Agg("max", x, INTEGER), ir.Agg("min", x, INTEGER)
    count_all = ir.Agg("count_all", None, INTEGER)
    assert engine.aggregate(
        typed,
        {
            "times": ir.Arith("*", count_all, top, INTEGER),
            "plus": ir.Arith("+", top, ir.Lit(1, INTEGER), INTEGER),
            "minus": ir.Neg(bottom),
            "abs": ir.StrFn("abs", bottom),
            "fits": ir.Arith("-", top, count_all, INTEGER),
        },
    ) == {"times": None, "plus": None, "minus": None, "abs": None, "fits": 2**63 - 3}


def test_to_arrow_and_columns(engine: Any) -> None:
    frame = text_frame(engine, a=["1"], b=["2"])
    assert engine.columns(frame) == ["a", "b"]
    assert engine.to_arrow(frame).num_rows == 1
