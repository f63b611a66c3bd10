"""Typed frames for the `--validator` path: the engine's own cast stage, without its checks.

`typed_frame(engine, raw, compiled)` applies `null_values` and casts every contract column exactly
as `meshc run` does on that engine (the same functions), and returns the typed frame (a value that
failed its cast is NULL) with one boolean mask per column marking its cast failures. The compiled
artifacts then judge the typed frame; a check reading a column whose cast failed is not judged on
that row (docs/semantics.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from meshc.rules import checks as ck


@dataclass
class TypedFrame:
    frame: Any  # pandas or Polars DataFrame of the plan's columns, typed
    cast_failed: dict[str, np.ndarray]  # column -> per-row bool (only columns that can fail)


def typed_frame(engine: str, raw: Any, compiled: ck.CompiledContract) -> TypedFrame:
    from meshc.runner.plan import build_plan

    plan = build_plan(compiled)
    if engine == "pandas":
        return _pandas(raw, plan)
    if engine == "polars":
        return _polars(raw, plan)
    raise ValueError(f"typed frames for the {engine} engine: use pandas or polars, then convert")


def _pandas(raw: Any, plan: Any) -> TypedFrame:
    from meshc.engines._pandas import engine as pe

    source = raw.reset_index(drop=True)
    missing = pe._missing_values(source, plan)
    typed, failed = pe._cast_columns(source, missing, plan)
    return TypedFrame(typed, {k: np.asarray(v, dtype=bool) for k, v in failed.items()})


def _polars(raw: Any, plan: Any) -> TypedFrame:
    import polars as pl

    from meshc.engines._polars import validate as pv

    lazy = raw.lazy()
    layout = pv._layout(lazy, plan)
    base = pv._null_mapped(lazy, layout, plan, None).with_columns(pv._typed_and_flags(layout))
    names = [pl.col(pv.typed_name(c)).alias(c) for c in layout.contract]
    flags = [pl.col(pv.cast_flag(c)) for c in layout.can_fail]
    out = base.select(names + flags).collect()
    failed = {c: out[pv.cast_flag(c)].to_numpy().astype(bool) for c in layout.can_fail}
    return TypedFrame(out.select(list(layout.contract)), failed)
