"""Validate through the compiled artifacts instead of meshc's native expressions.

    failures = validate_with("pandera", compiled, "polars", typed, cast_failed=masks, now=now)

returns row position -> ids of the row checks that row fails, in contract order, warn checks
included, so the runner can build the same Split as `Engine.validate` (quarantine = rows with a
failing error check or a cast failure). `typed` holds the contract's typed columns as the engine
casts them (see meshc.validators.frames.typed_frame). A check that reads a column whose cast
failed is not judged on that row (docs/semantics.md). Pandera and Great Expectations are imported
only here, and only when asked for.

| validator | engines               | row-level                                           |
|-----------|-----------------------|-----------------------------------------------------|
| pandera   | pandas, polars        | yes                                                 |
| gx        | pandas, spark         | yes (COMPLETE result format, synthetic row id)      |
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np

from meshc.errors import MeshcError
from meshc.rules import checks as ck

VALIDATORS = {"pandera": ("pandas", "polars"), "gx": ("pandas", "spark")}
Failures = dict[int, list[str]]


class ValidatorUnavailable(MeshcError):
    """The validator cannot give row-level results on this engine, or is not installed."""


def validate_with(
    validator: str,
    compiled: ck.CompiledContract,
    engine_name: str,
    frame_typed: Any,
    *,
    cast_failed: Mapping[str, np.ndarray] | None = None,
    now: dt.datetime | None = None,
) -> Failures:
    """Row position -> failing rule ids (contract order) per the compiled `validator` artifacts."""
    engines = VALIDATORS.get(validator)
    if engines is None:
        raise ValidatorUnavailable(
            f"unknown validator {validator!r}; use one of {', '.join(VALIDATORS)}"
        )
    if engine_name not in engines:
        raise ValidatorUnavailable(
            f"--validator {validator} gives row-level results on "
            f"{' and '.join(engines)}, not on {engine_name}"
        )
    compiled = _bound(compiled, now or dt.datetime.now(dt.timezone.utc))
    try:
        raw = _run(validator, compiled, engine_name, frame_typed, now)
    except ImportError as exc:
        extra = "pandera" if validator == "pandera" else "gx"
        raise ValidatorUnavailable(
            f"--validator {validator} needs {exc.name}: pip install 'meshc[{extra}]'"
        ) from None
    return _ordered(_drop_cast_failures(raw, compiled, cast_failed or {}), compiled)


def _run(
    validator: str, compiled: ck.CompiledContract, engine: str, frame: Any, now: dt.datetime | None
) -> Failures:
    from meshc.emit import runtime

    with runtime.fixed_clock(now or dt.datetime.now(dt.timezone.utc)):
        if validator == "pandera":
            from meshc.validators import pandera_run

            return pandera_run.validate(compiled, engine, frame)
        from meshc.validators import gx_run

        return gx_run.validate(compiled, engine, frame)


def _bound(compiled: ck.CompiledContract, now: dt.datetime) -> ck.CompiledContract:
    """CURRENT_DATE in SQL rules: the runtime binds the clock; GX row conditions are rendered from
    the bound tree."""
    from dataclasses import replace

    from meshc.runner.plan import bind_check

    return replace(compiled, row_checks=tuple(bind_check(c, now) for c in compiled.row_checks))


def _drop_cast_failures(
    failures: Failures, compiled: ck.CompiledContract, cast_failed: Mapping[str, np.ndarray]
) -> Failures:
    if not cast_failed:
        return failures
    reads = {c.id: c.columns for c in compiled.row_checks}
    out: Failures = {}
    for row, ids in failures.items():
        kept = [
            i
            for i in ids
            if not any(
                col in cast_failed and bool(cast_failed[col][row]) for col in reads.get(i, ())
            )
        ]
        if kept:
            out[row] = kept
    return out


def _ordered(failures: Failures, compiled: ck.CompiledContract) -> Failures:
    order = {c.id: i for i, c in enumerate(compiled.row_checks)}
    return {
        row: sorted(set(ids), key=lambda i: order.get(i, len(order)))
        for row, ids in sorted(failures.items())
    }


__all__ = ["VALIDATORS", "ValidatorUnavailable", "validate_with"]
