"""What the Python-source translators of the rule IR share (meshc.emit.polars_source,
meshc.emit.pandas_source): literal text and the record of inline helpers a module needs.

A translator turns an IR tree into the text of one Python expression over the engine's library
(`pl.col("amount") >= pl.lit(0.0, pl.Float64)`), so a compiled Pandera module holds its checks as
code a reader can follow and runs with pandera and the engine alone, never meshc. Semantics the
library lacks (SQL's division by zero, text casts, month-end clamping...) are small helper
functions whose source the translator asks for by name; the emitter writes each one once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from meshc.diagnostics import Diagnostic
from meshc.errors import UnsupportedConstruct
from meshc.rules import expr as ir


def literal_code(value: Any) -> str:
    """A Python literal for a rule value (dates and decimals through their constructors, which
    the generated module imports)."""
    if isinstance(value, dt.datetime):
        return f"datetime.datetime.fromisoformat({value.isoformat()!r})"
    if isinstance(value, dt.date):
        return f"datetime.date.fromisoformat({value.isoformat()!r})"
    if isinstance(value, Decimal):
        return f"decimal.Decimal({str(value)!r})"
    if isinstance(value, float) and value != value:
        return 'float("nan")'
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return f"float({str(value)!r})"
    return repr(value)


def unsupported(node: ir.Expr | str, target: str) -> UnsupportedConstruct:
    name = node if isinstance(node, str) else type(node).__name__
    return UnsupportedConstruct(
        [Diagnostic("MC390", f"{name} is not supported in a standalone {target} module")]
    )


class Helpers:
    """The inline helper functions a module's checks call, in first-use order."""

    def __init__(self, library: dict[str, str]) -> None:
        self._library = library
        self.used: dict[str, None] = {}

    def use(self, *names: str) -> None:
        for name in names:
            self.used.setdefault(name, None)

    def source(self) -> str:
        return "\n\n\n".join(self._library[n].strip("\n") for n in self.used)
