"""The shape of a native pandas expression, shared by the translator's modules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from meshc.engines import spec
from meshc.errors import UnsupportedConstruct
from meshc.rules import expr as ir


@dataclass(frozen=True)
class Env:
    """What an expression is evaluated against. `length` is the result length: the frame's row
    count for row rules, 1 for dataset (aggregate) rules, whose Agg nodes read the whole frame."""

    frame: pd.DataFrame
    length: int


Native = Callable[[Env], pd.Series]
Translate = Callable[[ir.Expr], Native]


ENGINE = "pandas"


def unsupported(what: ir.Expr | str) -> UnsupportedConstruct:
    """The named error (MC390) for what pandas cannot express (never a silent fallback)."""
    return spec.unsupported(what, ENGINE)
