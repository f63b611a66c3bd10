"""Rule expressions (docs/rule-dialect.md): the same values and verdicts on every engine."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from meshc.engines import spec
from meshc.errors import UnsupportedConstruct
from meshc.rules import expr as ir
from meshc.rules.regex import like_to_regex
from meshc.types import BOOLEAN, DATE, FLOAT, INTEGER, STRING, TIMESTAMP, TIMESTAMP_TZ

from .helpers import (
    DEC52,
    UTC,
    column,
    dec,
    not_null,
    plan,
    predicate_values,
    rows,
    rule,
    run,
    scalar,
    text_frame,
    unique,
    values,
)


def lit(value: Any, ltype: Any = INTEGER) -> ir.Lit:
    return ir.Lit(value, ltype)


# -- verdicts ----------------------------------------------------------------------------------
def test_null_is_not_a_violation(engine: Any) -> None:
    x = ir.Col("x", FLOAT)
    frame = text_frame(engine, x=["1", None, "", "nan", "-1"])
    split = run(engine, frame, plan({"x": FLOAT}, rule("pos", ir.Compare(">=", x, lit(0)))))
    assert column(engine, split.valid, "x") == [1.0, None, None, None]
    assert column(engine, split.quarantine, "x") == ["-1"]
    assert split.failures == {"pos": 1}


def test_a_value_that_failed_its_cast_is_not_judged_again(engine: Any) -> None:
    x = ir.Col("x", INTEGER)
    p = plan({"x": INTEGER}, not_null(x), rule("pos", ir.Compare(">", x, lit(0))))
    split = run(engine, text_frame(engine, x=["oops", None, "-1", "abc"]), p)
    assert split.failures == {"x.type": 2, "x.required": 1, "pos": 1}
    reasons = [
        [r["rule_id"] for r in row["_meshc_reasons"]] for row in rows(engine, split.quarantine)
    ]
    assert reasons == [["x.type"], ["x.required"], ["pos"], ["x.type"]]


def test_failures_count_every_check_and_warn_never_quarantines(engine: Any) -> None:
    x = ir.Col("x", INTEGER)
    p = plan(
        {"x": INTEGER},
        rule("pos", ir.Compare(">", x, lit(0))),
        rule("small", ir.Compare("<", x, lit(10)), severity="warn"),
    )
    split = run(engine, text_frame(engine, x=["1", "50", "60"]), p)
    assert split.failures == {"pos": 0, "small": 2}
    assert (split.rows_in, split.rows_valid, split.rows_quarantined) == (3, 3, 0)


def test_duplicates_quarantine_every_copy_and_never_null_keys(engine: Any) -> None:
    a, b = ir.Col("a", INTEGER), ir.Col("b", STRING)
    frame = text_frame(
        engine,
        a=["1", "1", "1", None, None, "2", "2", "2", "01", "3"],
        b=["x", "x", "y", "z", "z", "", "", "q", "x", "z"],
    )
    split = run(engine, frame, plan({"a": INTEGER, "b": STRING}, unique("ab.unique", a, b)))
    # '01' and '1' are the same integer key; '' is NULL here, and NULL keys never repeat
    assert column(engine, split.quarantine, "a") == ["1", "1", "01"]
    assert split.failures == {"ab.unique": 3}
    assert split.rows_valid == 7


def test_duplicates_compare_typed_values(engine: Any) -> None:
    d = ir.Col("d", DEC52)
    frame = text_frame(engine, d=["1.50", " 1.5", "2"])
    split = run(engine, frame, plan({"d": DEC52}, unique("u", d, severity="warn")))
    assert split.failures == {"u": 2}  # 1.50 and 1.5 are the same decimal


def test_rows_in_is_valid_plus_quarantined(engine: Any) -> None:
    x = ir.Col("x", INTEGER)
    p = plan({"x": INTEGER}, rule("pos", ir.Compare(">", x, lit(0))), unique("u", x))
    split = run(engine, text_frame(engine, x=["1", "x", "-3", None, "4", "4"]), p)
    assert (split.rows_in, split.rows_valid, split.rows_quarantined) == (6, 2, 4)


def test_unsupported_node_is_a_named_error(engine: Any) -> None:
    p = plan({"x": DATE}, rule("r", ir.Compare("<", ir.Col("x", DATE), ir.CurrentDate())))
    with pytest.raises(UnsupportedConstruct) as refused:
        engine.validate(text_frame(engine, x=["2024-01-01"]), p)
    [diagnostic] = refused.value.diagnostics
    because = spec.REFUSED[engine.name][ir.CurrentDate]
    assert diagnostic.code == "MC390"  # and the message reads alike on every engine
    assert diagnostic.message == f"rule r: CurrentDate is not supported on {engine.name}: {because}"


def test_unsupported_node_is_located_at_its_check(engine: Any) -> None:
    p = plan({"x": DATE}, rule("r", ir.Compare("<", ir.Col("x", DATE), ir.CurrentDate())))
    with pytest.raises(UnsupportedConstruct, match="^t.yaml:1:1: MC390 rule r: "):
        engine.validate(text_frame(engine, x=["2024-01-01"]), p)


# -- logic -------------------------------------------------------------------------------------
def test_three_valued_logic(engine: Any) -> None:
    a, b = ir.Col("a", BOOLEAN), ir.Col("b", BOOLEAN)
    columns = {"a": BOOLEAN, "b": BOOLEAN}
    data = {"a": [None, None, "false", "true"], "b": ["false", "true", "true", None]}
    assert values(engine, ir.And(a, b), columns, **data) == [False, None, False, None]
    assert values(engine, ir.Or(a, b), columns, **data) == [None, True, True, True]
    assert values(engine, ir.Not(a), columns, **data) == [None, None, True, False]
    assert values(engine, ir.IsNull(a), columns, **data) == [True, True, False, False]
    assert values(engine, ir.IsNull(a, negated=True), columns, **data) == [False, False, True, True]
    # a rule is violated only when FALSE: NULL passes
    verdicts = predicate_values(
        engine, ir.And(a, b), {"row": STRING, **columns}, row=list("1234"), **data
    )
    assert verdicts == [False, True, False, True]


def test_in_list_with_null_and_between(engine: Any) -> None:
    x = ir.Col("x", INTEGER)
    data = {"x": ["1", "5", None]}
    one_or_null = (lit(1), lit(None, None))
    assert values(engine, ir.InList(x, one_or_null), {"x": INTEGER}, **data) == [True, None, None]
    not_in = ir.InList(x, one_or_null, negated=True)
    assert values(engine, not_in, {"x": INTEGER}, **data) == [False, None, None]
    assert values(engine, ir.InList(x, (lit(1), lit(5))), {"x": INTEGER}, **data) == [
        True,
        True,
        None,
    ]
    between = ir.Between(x, lit(0), lit(3))
    assert values(engine, between, {"x": INTEGER}, **data) == [True, False, None]
    outside = ir.Between(x, lit(0), lit(3), negated=True)
    assert values(engine, outside, {"x": INTEGER}, **data) == [False, True, None]


def test_numeric_comparisons_across_types(engine: Any) -> None:
    d, i = ir.Col("d", dec(10, 2)), ir.Col("i", INTEGER)
    columns = {"d": dec(10, 2), "i": INTEGER}
    data = {"d": ["1.00", "1.01", "0.50"], "i": ["1", "1", "1"]}
    assert values(engine, ir.Compare("=", d, i), columns, **data) == [True, False, False]
    at_most = ir.Compare("<=", d, lit(Decimal("1.005"), dec(10, 3)))  # the literal keeps its scale
    assert values(engine, at_most, columns, **data) == [True, False, True]
    assert values(engine, ir.Compare("<", i, lit(1.5, FLOAT)), columns, **data) == [True] * 3
    half = ir.Compare("!=", d, lit(Decimal("0.5"), dec(2, 1)))
    assert values(engine, half, columns, **data) == [True, True, False]
    f = ir.Col("f", FLOAT)
    below_max = ir.Compare("<", f, lit(1e308, FLOAT))  # infinity is a float like any other
    assert values(engine, below_max, {"f": FLOAT}, f=["inf", "-inf", "5"]) == [False, True, True]
    assert scalar(engine, ir.Compare("=", lit(2), lit(Decimal("2.00"), dec(3, 2)))) is True
    assert scalar(engine, ir.Compare("<", lit(Decimal("0.1"), dec(2, 1)), lit(0.2, FLOAT))) is True


# -- regular expressions -------------------------------------------------------------------------
def test_regex_search_like_and_case_insensitive(engine: Any) -> None:
    s = ir.Col("s", STRING)
    data = {"s": ["AB-1", "ab-22", "xAB-1", "AB\n-", "xab-1\n", "x\n", None]}

    def found(pattern: str, case_insensitive: bool = False) -> list[Any]:
        return values(engine, ir.RegexSearch(s, pattern, case_insensitive), {"s": STRING}, **data)

    assert found(like_to_regex("AB-_")) == [True, False, False, False, False, False, None]
    assert found(like_to_regex("ab-%"), True) == [True, True, False, False, False, False, None]
    # '%' spans a newline; a LIKE is anchored at both ends
    assert found(like_to_regex("AB%")) == [True, False, False, True, False, False, None]
    assert found("[0-9]{2}") == [False, True, False, False, False, False, None]  # a search
    assert found("ab", True) == [True, True, True, True, True, False, None]
    # '$' is the end of the text, never before a final newline (Java's and Python's would be)
    assert found("-1$") == [True, False, True, False, False, False, None]
    assert found("^x$") == [False] * 6 + [None]


def test_like_escapes_and_newlines(engine: Any) -> None:
    def matches(text: str, like: str, case_insensitive: bool = False) -> Any:
        return scalar(
            engine, ir.RegexSearch(lit(text, STRING), like_to_regex(like), case_insensitive)
        )

    assert matches("ab\nxcd", "a%c_") is True
    assert matches("zab cd", "a%c_") is False
    assert matches("a.c", "a.c") is True
    assert matches("abc", "a.c") is False  # '.' is a literal in LIKE
    assert matches("ABCD", "abc%", case_insensitive=True) is True
    assert scalar(engine, ir.RegexSearch(lit("ab-12", STRING), r"\d-?\d")) is True


# -- arithmetic ----------------------------------------------------------------------------------
def test_arithmetic_division_by_zero_and_modulo(engine: Any) -> None:
    a, b = ir.Col("a", INTEGER), ir.Col("b", INTEGER)
    columns = {"a": INTEGER, "b": INTEGER}
    data = {"a": ["7", "7", "-7", None, "-7"], "b": ["2", "0", "2", "1", "3"]}
    assert values(engine, ir.Arith("/", a, b, FLOAT), columns, **data) == [
        3.5,
        None,  # x / 0 is NULL, not infinity or an error
        -3.5,
        None,
        -7 / 3,
    ]
    # SQL's remainder has the dividend's sign; x % 0 is NULL
    assert values(engine, ir.Arith("%", a, b, INTEGER), columns, **data) == [1, None, -1, None, -1]
    # in a rule, a NULL from x / 0 is a pass, not a violation
    below_one = ir.Compare("<", ir.Arith("/", a, b, FLOAT), lit(1.0, FLOAT))
    rows_ = {"row": ["1", "2", "3", "4", "5"], **data}
    assert predicate_values(engine, below_one, {"row": STRING, **columns}, **rows_) == [
        False,
        True,
        True,
        True,
        True,
    ]
    doubled = ir.Arith("*", ir.Arith("+", a, b, INTEGER), lit(2), INTEGER)
    assert values(engine, doubled, columns, **data) == [18, 14, -10, None, -8]


def test_arithmetic_precedence_overflow_and_negation(engine: Any) -> None:
    one, two, three = lit(1), lit(2), lit(3)
    assert scalar(engine, ir.Arith("*", ir.Arith("+", one, two, INTEGER), three, INTEGER)) == 9
    assert scalar(engine, ir.Arith("-", one, ir.Arith("-", two, three, INTEGER), INTEGER)) == 2
    assert scalar(engine, ir.Neg(ir.Arith("-", one, two, INTEGER))) == 1
    assert scalar(engine, ir.Arith("/", one, two, FLOAT)) == 0.5
    assert scalar(engine, ir.Arith("/", one, lit(0.0, FLOAT), FLOAT)) is None
    assert scalar(engine, ir.Arith("+", lit(2147483647), one, INTEGER)) == 2147483648  # 64-bit
    assert scalar(engine, ir.Arith("+", lit(2**63 - 1), one, INTEGER)) is None  # overflow: NULL


def test_decimal_division_by_zero_is_null(engine: Any) -> None:
    d = ir.Col("d", dec(10, 2))
    ratio = ir.Arith("/", d, lit(Decimal("0"), dec(10, 2)), FLOAT)
    assert values(engine, ratio, {"d": dec(10, 2)}, d=["1.50"]) == [None]


def test_case_and_coalesce(engine: Any) -> None:
    x, y = ir.Col("x", INTEGER), ir.Col("y", FLOAT)
    columns = {"x": INTEGER, "y": FLOAT}
    data = {"x": ["50", "5", None, "-1"], "y": [None, "2.5", None, "-3"]}
    size = ir.Case(
        (
            (ir.Compare(">", x, lit(10)), lit("big", STRING)),
            (ir.Compare(">", x, lit(0)), lit("small", STRING)),
        ),
        lit("none", STRING),
        STRING,
    )
    # the first true branch wins; a NULL condition falls through to ELSE
    assert values(engine, size, columns, **data) == ["big", "small", "none", "none"]
    nothing = ir.Case(((ir.Compare(">", x, lit(100)), lit(1)),), lit(None, None), INTEGER)
    assert values(engine, nothing, columns, **data) == [None] * 4
    filled = ir.Coalesce((y, x, lit(0)), FLOAT)
    assert values(engine, filled, columns, **data) == [50.0, 2.5, 0.0, -3.0]
    nulls_first = ir.Coalesce((lit(None, None), lit(None, INTEGER), lit(7)), INTEGER)
    assert scalar(engine, nulls_first) == 7


def test_cast_node_semantics(engine: Any) -> None:
    f = ir.Col("f", FLOAT)
    truncated = values(engine, ir.Cast(f, INTEGER), {"f": FLOAT}, f=["2.9", "-2.9", "1e30", "nan"])
    assert truncated == [2, -2, None, None]  # toward zero; what does not fit is NULL
    assert scalar(engine, ir.Cast(lit(10.7, FLOAT), INTEGER)) == 10
    assert scalar(engine, ir.Cast(lit(1e300, FLOAT), INTEGER)) is None
    assert scalar(engine, ir.Cast(lit(Decimal("9.99"), dec(3, 2)), INTEGER)) == 9
    # text is cast by the documented forms, as columns are
    assert scalar(engine, ir.Cast(lit("abc", STRING), INTEGER)) is None
    assert scalar(engine, ir.Cast(lit("1.0", STRING), INTEGER)) is None
    assert scalar(engine, ir.Cast(lit(" 42 ", STRING), INTEGER)) == 42
    assert scalar(engine, ir.Cast(lit(12), STRING)) == "12"


# -- strings -------------------------------------------------------------------------------------
def test_string_functions(engine: Any) -> None:
    s = ir.Col("s", STRING)
    data = {"s": ["  héllo ", "ab", None]}

    def of(expr: ir.Expr) -> list[Any]:
        return values(engine, expr, {"s": STRING}, **data)

    assert of(ir.StrFn("length", s)) == [8, 2, None]  # characters, not bytes
    assert of(ir.StrFn("trim", s)) == ["héllo", "ab", None]
    assert of(ir.StrFn("upper", s)) == ["  HÉLLO ", "AB", None]
    assert of(ir.StrFn("lower", ir.StrFn("upper", s))) == ["  héllo ", "ab", None]
    assert of(ir.Substring(s, 3, 3)) == ["hél", "", None]
    assert of(ir.Substring(s, 2, None)) == [" héllo ", "b", None]
    assert of(ir.Concat((s, lit("!", STRING)))) == ["  héllo !", "ab!", None]  # NULL in, NULL out
    assert scalar(engine, ir.StrFn("trim", lit(" \tx  ", STRING))) == "\tx"  # spaces only
    assert scalar(engine, ir.StrFn("abs", lit(-3))) == 3
    assert scalar(engine, ir.Concat((lit("a", STRING), lit(None, STRING)))) is None


# -- dates ---------------------------------------------------------------------------------------
def test_date_add_clamps_to_month_end_and_date_diff(engine: Any) -> None:
    d = ir.Col("d", DATE)
    data = {"d": ["2024-01-31", "2024-02-29", "2023-03-31", None]}

    def of(expr: ir.Expr) -> list[Any]:
        return values(engine, expr, {"d": DATE}, **data)

    day = dt.date
    assert of(ir.DateAdd(d, 1, "month")) == [
        day(2024, 2, 29),
        day(2024, 3, 29),
        day(2023, 4, 30),
        None,
    ]
    assert of(ir.DateAdd(d, -1, "month")) == [
        day(2023, 12, 31),
        day(2024, 1, 29),
        day(2023, 2, 28),
        None,
    ]
    assert of(ir.DateAdd(d, 1, "year")) == [
        day(2025, 1, 31),
        day(2025, 2, 28),
        day(2024, 3, 31),
        None,
    ]
    assert of(ir.DateAdd(d, -1, "day")) == [
        day(2024, 1, 30),
        day(2024, 2, 28),
        day(2023, 3, 30),
        None,
    ]
    assert of(ir.DateDiffDays(d, lit(day(2024, 1, 1), DATE))) == [30, 59, -276, None]
    assert of(ir.DateDiffDays(ir.DateAdd(d, 1, "month"), d)) == [29, 29, 30, None]


def test_timestamp_add_keeps_the_time_of_day(engine: Any) -> None:
    t = ir.Col("t", TIMESTAMP)
    data = {"t": ["2024-01-31 10:30"]}
    assert values(engine, ir.DateAdd(t, 1, "month"), {"t": TIMESTAMP}, **data) == [
        dt.datetime(2024, 2, 29, 10, 30)
    ]
    assert values(engine, ir.DateAdd(t, -11, "hour"), {"t": TIMESTAMP}, **data) == [
        dt.datetime(2024, 1, 30, 23, 30)
    ]
    tz = ir.Col("tz", TIMESTAMP_TZ)
    instants = {"tz": ["2023-12-31T23:00:00Z", "2024-03-31T23:00:00Z"]}
    assert values(engine, ir.DateAdd(tz, 2, "hour"), {"tz": TIMESTAMP_TZ}, **instants) == [
        dt.datetime(2024, 1, 1, 1, tzinfo=UTC),
        dt.datetime(2024, 4, 1, 1, tzinfo=UTC),
    ]
    assert values(engine, ir.DateAdd(tz, -1, "month"), {"tz": TIMESTAMP_TZ}, **instants) == [
        dt.datetime(2023, 11, 30, 23, tzinfo=UTC),
        dt.datetime(2024, 2, 29, 23, tzinfo=UTC),
    ]
