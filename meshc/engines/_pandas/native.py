"""The shape of a native pandas expression, shared by the translator's modules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from meshc.diagnostics import Diagnostic
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


def unsupported(what: str) -> UnsupportedConstruct:
    """The named error for a construct this engine cannot express (never a silent fallback)."""
    return UnsupportedConstruct([Diagnostic("MC390", f"{what} is not supported on pandas")])
