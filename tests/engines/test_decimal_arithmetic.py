"""Decimal arithmetic has SQL's result scale on every engine (docs/semantics.md "Decimal
arithmetic"): `*` adds the scales, `+` and `-` keep the larger one, `/` is float division. The
rules are compiled from SQL text, so the types are the compiler's, not written by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from meshc.rules import expr as ir
from meshc.rules.problems import RuleProblem
from meshc.rules.sql import compile_sql
from meshc.types import FLOAT, INTEGER, Kind, LogicalType

from .helpers import dec, plan, run, text_frame, values

COLUMNS = {"a": dec(5, 2), "b": dec(6, 3), "i": INTEGER}


def operand(sql: str, aggregate: bool = False) -> ir.Expr:
    """The compiled value of `sql` (the left side of `sql = 0`)."""
    compiled = compile_sql(f"{sql} = 0", COLUMNS, aggregate=aggregate)
    assert isinstance(compiled, ir.Compare)
    return compiled.left


# (expression, its value on the row a=0.25, b=0.125, i=3, its type's scale or None for float)
ROW_CASES = [
    ("a * a", Decimal("0.0625"), 4),
    ("a * b", Decimal("0.03125"), 5),
    ("a * i", Decimal("0.75"), 2),
    ("a * 0.5", 0.125, None),  # a number literal with a point is a float
    ("a + b", Decimal("0.375"), 3),
    ("a - b", Decimal("0.125"), 3),
    ("a * a + b", Decimal("0.1875"), 4),
    ("(a * a) * a", Decimal("0.015625"), 6),
    ("a / b", 2.0, None),
]
# over a = [1.50, 2.25], b = [0.125, 0.500]: SUM(a) = 3.75, SUM(b) = 0.625, MAX(b) = 0.5
AGGREGATE_CASES = [
    ("SUM(a) * SUM(a)", Decimal("14.0625"), 4),
    ("SUM(a) * SUM(b)", Decimal("2.34375"), 5),
    ("SUM(a) * COUNT(*)", Decimal("7.50"), 2),
    ("SUM(a) + SUM(b)", Decimal("4.375"), 3),
    ("SUM(a) - MAX(b)", Decimal("3.250"), 3),
    ("SUM(a) / SUM(b)", 6.0, None),
]


def _assert_exact(value: Any, expected: Decimal | float, scale: int | None) -> None:
    assert value == expected
    if scale is not None:  # the same digits everywhere: 0.0625, not 0.06 or 0.06250
        assert isinstance(value, Decimal)
        assert value.as_tuple().exponent == -scale


@pytest.mark.parametrize(("sql", "expected", "scale"), ROW_CASES)
def test_result_type_is_sqls(sql: str, expected: object, scale: int | None) -> None:
    ltype = operand(sql).type
    assert ltype == (FLOAT if scale is None else LogicalType(Kind.DECIMAL, 38, scale))


def test_decimal_arithmetic_over_rows(engine: Any) -> None:
    data = {"a": ["0.25"], "b": ["0.125"], "i": ["3"]}
    for sql, expected, scale in ROW_CASES:
        [value] = values(engine, operand(sql), COLUMNS, **data)
        _assert_exact(value, expected, scale)


def test_decimal_arithmetic_over_aggregates(engine: Any) -> None:
    frame = text_frame(engine, a=["1.50", "2.25"], b=["0.125", "0.500"], i=["1", "2"])
    typed = run(engine, frame, plan(COLUMNS)).valid
    results = engine.aggregate(typed, {sql: operand(sql, True) for sql, _, _ in AGGREGATE_CASES})
    for sql, expected, scale in AGGREGATE_CASES:
        _assert_exact(results[sql], expected, scale)


def test_a_verdict_depends_on_the_extra_digits(engine: Any) -> None:
    """The rule the issue was found with: the engines must agree on the verdict, too."""
    frame = text_frame(engine, a=["1.50", "2.25"], b=["0.125", "0.500"], i=["1", "2"])
    typed = run(engine, frame, plan(COLUMNS)).valid
    exact = compile_sql("SUM(a) * SUM(a) = 14.0625", COLUMNS, aggregate=True)
    assert engine.aggregate(typed, {"ok": exact}) == {"ok": True}


def test_a_product_beyond_38_fraction_digits_is_refused() -> None:
    wide = {"x": dec(38, 20), "y": dec(38, 19)}
    with pytest.raises(RuleProblem) as caught:
        compile_sql("x * y > 0", wide)
    assert caught.value.code == "MC306"
    assert "39" in caught.value.message
    assert compile_sql("x * CAST(y AS DOUBLE) > 0", wide).left.type == FLOAT
