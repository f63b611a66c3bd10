"""Judge typed rows through the compiled artifacts instead of meshc's native expressions.

    failures = validate_with("pandera", compiled, "polars", typed, now=now)

returns row key -> ids of the row checks that row fails (contract order, warn checks included),
where `typed` is `Engine.cast` of the source and the key is the row position (pandas, Polars) or
the `_meshc_row_id` column (Spark, see meshc.validators.rows). The runner turns these verdicts
into the split (meshc.runner.artifacts). Pandera and Great Expectations are imported only here,
and only when asked for.

| validator | engines        | row-level                                           |
|-----------|----------------|-----------------------------------------------------|
| pandera   | pandas, polars | yes                                                 |
| gx        | pandas, spark  | yes (COMPLETE result format, synthetic row id)      |
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from meshc.engines.registry import engines_judged_by
from meshc.errors import MeshcError
from meshc.rules import checks as ck

# validator -> the engines it judges row by row (declared per engine in meshc.engines.registry)
VALIDATORS = {name: engines_judged_by(name) for name in ("pandera", "gx")}
Failures = dict[int, list[str]]


class ValidatorUnavailable(MeshcError):
    """The validator cannot give row-level results on this engine, or is not installed."""


def validate_with(
    validator: str,
    compiled: ck.CompiledContract,
    engine_name: str,
    typed: Any,
    *,
    now: dt.datetime | None = None,
) -> Failures:
    """Row key -> failing rule ids (contract order) per the compiled `validator` artifacts."""
    require_row_level(validator, engine_name)
    now = now or dt.datetime.now(dt.timezone.utc)
    compiled = _bound(compiled, now)
    typed = _eager(typed)
    try:
        raw = _run(validator, compiled, engine_name, typed)
    except ImportError as exc:
        extra = "pandera" if validator == "pandera" else "gx"
        raise ValidatorUnavailable(
            f"--validator {validator} needs {exc.name}: pip install 'meshc[{extra}]'"
        ) from None
    return _ordered(raw, compiled)


def _eager(frame: Any) -> Any:
    """A Polars LazyFrame collected (Pandera judges data eagerly); any other frame as it is."""
    if type(frame).__module__.startswith("polars") and hasattr(frame, "collect"):
        return frame.collect()
    return frame


def require_row_level(validator: str, engine_name: str) -> None:
    """Raise ValidatorUnavailable unless `validator` gives row-level results on the engine."""
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


def _run(validator: str, compiled: ck.CompiledContract, engine: str, frame: Any) -> Failures:
    # no clock to set: `compiled` is bound (`_bound`) before the artifact is emitted from it
    if validator == "pandera":
        from meshc.validators import pandera_run

        return pandera_run.validate(compiled, engine, frame)
    from meshc.validators import gx_run

    return gx_run.validate(compiled, engine, frame)


def _bound(compiled: ck.CompiledContract, now: dt.datetime) -> ck.CompiledContract:
    """CURRENT_DATE in SQL rules: the runtime binds the clock; GX row conditions are rendered from
    the bound tree."""
    from dataclasses import replace

    from meshc.rules.clock import bind_check

    return replace(compiled, row_checks=tuple(bind_check(c, now) for c in compiled.row_checks))


def _ordered(failures: Failures, compiled: ck.CompiledContract) -> Failures:
    order = {c.id: i for i, c in enumerate(compiled.row_checks)}
    return {
        row: sorted(set(ids), key=lambda i: order.get(i, len(order)))
        for row, ids in sorted(failures.items())
    }


__all__ = ["VALIDATORS", "ValidatorUnavailable", "require_row_level", "validate_with"]
