"""Every IR node class is translated by every engine, or refused by it on purpose.

The node classes are enumerated from meshc/rules/expr.py itself (every subclass of `ir.Expr`), so
a node added to the IR fails here until each engine's translator has a handler for it or the
engine declares it refused (`meshc.engines.spec.REFUSED`, with a reason) and raises MC390 for it.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from importlib import import_module
from typing import Any

import pytest

from meshc.engines import spec
from meshc.errors import UnsupportedConstruct
from meshc.rules import expr as ir
from meshc.types import DATE, FLOAT, INTEGER, STRING

X, S, D = ir.Col("x", INTEGER), ir.Col("s", STRING), ir.Col("d", DATE)
ONE = ir.Lit(1, INTEGER)
# One small, well-typed instance of every node class, to translate for real.
SAMPLES: dict[type[ir.Expr], ir.Expr] = {
    ir.Col: X,
    ir.Lit: ONE,
    ir.Compare: ir.Compare("<", X, ONE),
    ir.And: ir.And(ir.IsNull(X), ir.IsNull(S)),
    ir.Or: ir.Or(ir.IsNull(X), ir.IsNull(S)),
    ir.Not: ir.Not(ir.IsNull(X)),
    ir.IsNull: ir.IsNull(X, negated=True),
    ir.InList: ir.InList(X, (ONE, ir.Lit(2, INTEGER))),
    ir.Between: ir.Between(X, ONE, ir.Lit(9, INTEGER)),
    ir.RegexSearch: ir.RegexSearch(S, "^a"),
    ir.Arith: ir.Arith("+", X, ONE, INTEGER),
    ir.Neg: ir.Neg(X),
    ir.Case: ir.Case(((ir.IsNull(X), ONE),), X, INTEGER),
    ir.Coalesce: ir.Coalesce((X, ONE), INTEGER),
    ir.Cast: ir.Cast(X, FLOAT),
    ir.StrFn: ir.StrFn("length", S),
    ir.Substring: ir.Substring(S, 1, 2),
    ir.Concat: ir.Concat((S, ir.Lit("!", STRING))),
    ir.DateAdd: ir.DateAdd(D, 1, "month"),
    ir.DateDiffDays: ir.DateDiffDays(D, ir.Lit(dt.date(2024, 1, 1), DATE)),
    ir.CurrentDate: ir.CurrentDate(),
    ir.CurrentTimestamp: ir.CurrentTimestamp(),
    ir.IsDuplicate: ir.IsDuplicate((X, S)),
    ir.Agg: ir.Agg("sum", X, INTEGER),
}


def _translator(name: str) -> tuple[set[type[ir.Expr]], Callable[[ir.Expr], Any]]:
    """(the node classes the engine's translator dispatches on, its translate function)."""
    module = import_module(f"meshc.engines._{name}.translate")
    if name == "duckdb":  # the shared SQL generator's table, less DuckDB's declared gaps
        translator = module.Translator()
        return set(translator.handlers) - set(translator.dialect.gaps), module.translate
    if name == "spark":  # building a Column needs the session's JVM
        from meshc.engines._spark.session import get_session

        get_session()
    return set(module._HANDLERS), module.translate


def _ir_classes() -> set[type[ir.Expr]]:
    """Every node class of meshc/rules/expr.py, found independently of the engines' tables."""
    found: set[type[ir.Expr]] = set()
    pending = [ir.Expr]
    while pending:
        for sub in pending.pop().__subclasses__():
            found.add(sub)
            pending.append(sub)
    declared = {
        cls
        for _, cls in inspect.getmembers(ir, inspect.isclass)
        if issubclass(cls, ir.Expr) and cls is not ir.Expr
    }
    return found | declared


def test_the_spec_enumerates_every_node_class() -> None:
    assert set(spec.node_classes()) == _ir_classes()


def test_every_node_class_has_a_sample() -> None:
    missing = sorted(c.__name__ for c in _ir_classes() - set(SAMPLES))
    assert not missing, f"add a sample of {missing} to SAMPLES"


def test_every_node_is_handled_or_refused(engine_name: str) -> None:
    handled, _ = _translator(engine_name)
    refused = set(spec.REFUSED[engine_name])
    neither = sorted(c.__name__ for c in _ir_classes() - handled - refused)
    both = sorted(c.__name__ for c in handled & refused)
    assert not neither, f"{engine_name}: no handler and not declared refused: {neither}"
    assert not both, f"{engine_name}: declared refused but handled: {both}"


def test_handled_nodes_translate_and_refused_ones_raise_mc390(engine_name: str) -> None:
    handled, translate = _translator(engine_name)
    for node_class in sorted(_ir_classes(), key=lambda c: c.__name__):
        sample = SAMPLES.get(node_class)
        if sample is None:  # test_every_node_class_has_a_sample says so
            continue
        if node_class in handled:
            assert translate(sample) is not None, node_class.__name__
            continue
        with pytest.raises(UnsupportedConstruct) as refused:
            translate(sample)
        rendered = str(refused.value)
        assert "MC390" in rendered and f"not supported on {engine_name}" in rendered
        assert node_class.__name__ in rendered
