"""What only the pandas engine does: exact decimal arithmetic in Python, its refusals."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest

from meshc.engines._pandas.translate import evaluate
from meshc.engines.registry import get_engine
from meshc.errors import UnsupportedConstruct
from meshc.rules import expr as ir
from meshc.types import INTEGER, Kind, LogicalType

from .helpers import DEC52, plan, rule, run, text_frame

WIDE = LogicalType(Kind.DECIMAL, 38, 2)


def test_decimal_arithmetic_stays_exact() -> None:
    engine = get_engine("pandas")
    d, i = ir.Col("d", WIDE), ir.Col("i", INTEGER)
    big = "12345678901234.25"  # its square needs 32 digits, the declared types 77
    frame = text_frame(engine, d=[big, "0.10"], i=["1", "-1"])
    valid = run(engine, frame, plan({"d": WIDE, "i": INTEGER})).valid

    def of(expr: ir.Expr) -> list[object]:
        return list(pa.array(evaluate(expr, valid)).to_pylist())

    # exact (Python's default 28-digit context would round it), past 38 declared digits
    assert of(ir.Arith("*", d, d, WIDE)) == [
        Decimal("152415787532380518366173373.0625"),
        Decimal("0.0100"),
    ]
    case = ir.Case(((ir.Compare(">", i, ir.Lit(0, INTEGER)), i),), d, WIDE)
    assert of(case) == [Decimal(1), Decimal("0.10")]
    total = ir.Arith("+", d, ir.Lit(Decimal("0.005"), LogicalType(Kind.DECIMAL, 4, 3)), WIDE)
    assert of(total)[1] == Decimal("0.105")


def test_decimal_remainder_is_refused_by_name() -> None:
    engine = get_engine("pandas")
    d = ir.Col("d", DEC52)
    bad = rule("r1", ir.Compare("=", ir.Arith("%", d, d, DEC52), ir.Lit(0, INTEGER)))
    with pytest.raises(UnsupportedConstruct, match="MC390.*not supported on pandas"):
        engine.validate(text_frame(engine, d=["1"]), plan({"d": DEC52}, bad))


def test_head_types_an_object_column_as_the_whole_frame_does() -> None:
    """A caller's object column keeps its Python values in the quarantine; Arrow infers its type
    from them, and the first rows alone (all None) would make it a null column."""
    import pandas as pd

    engine = get_engine("pandas")
    x = ir.Col("x", INTEGER)
    frame = pd.DataFrame(
        {
            "x": pd.Series(["-1", "-2", "-3"], dtype="string[pyarrow]"),
            "note": pd.Series([None, None, "late"], dtype=object),
        }
    )
    checks = (rule("x_positive", ir.Compare(">=", x, ir.Lit(0, INTEGER)), "x >= 0"),)
    quarantine = run(engine, frame, plan({"x": INTEGER}, *checks)).quarantine
    whole = engine.to_arrow(quarantine)
    assert whole.schema.field("note").type == pa.string()
    head = engine.head(quarantine, 2)
    assert head.schema == whole.schema
    assert head.to_pylist() == whole.slice(0, 2).to_pylist()
