"""`--validator pandera|gx`: the compiled artifacts judge the rows instead of meshc's expressions.

1. the engine casts the source (`Engine.cast`: the very cast `validate` uses),
2. the compiled Pandera schema or GX suite (the text `meshc compile` writes) judges the typed
   rows (meshc.validators), giving per-row verdicts,
3. the verdicts go back into the frame as internal boolean columns, and the engine splits with
   `plan.verdicts`: quarantine, reasons, counts and report are laid out as in a native run, only
   each check's judgement comes from the artifacts.

Checks the artifacts do not hold are judged natively and named in the report
(`validator.native_checks`): rules the library cannot express (listed by `meshc compile`) and
checks added at run time (governance rules, foreign keys).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import replace
from typing import Any

from meshc.engines.base import Engine, Split, ValidationPlan
from meshc.rules import checks as ck

_VERDICT = "__meshc_verdict_{}"


def split_with_artifacts(
    validator: str,
    compiled: ck.CompiledContract,
    engine: Engine,
    frame: Any,
    plan: ValidationPlan,
    now: dt.datetime,
) -> tuple[Split, list[str]]:
    """The split judged by the compiled `validator`, and the ids of the checks judged natively."""
    from meshc.validators import require_row_level, validate_with
    from meshc.validators import rows as vr

    require_row_level(validator, engine.name)
    keys = vr.key_columns(frame)
    source = vr.keyed(frame)
    typed = engine.cast(source, replace(plan, internal_columns=keys))
    failures = validate_with(validator, compiled, engine.name, typed, now=now)
    judged = _judged_by_artifacts(validator, compiled, engine.name, plan)
    columns = {cid: _VERDICT.format(i) for i, cid in enumerate(judged)}
    split = engine.validate(
        vr.attach(source, failures, columns),
        replace(plan, verdicts=columns, internal_columns=(*keys, *columns.values())),
    )
    return split, [c.id for c in plan.checks if c.id not in columns]


def _judged_by_artifacts(
    validator: str, compiled: ck.CompiledContract, engine: str, plan: ValidationPlan
) -> list[str]:
    """Ids of the plan's checks the artifact holds (plan order). An id the plan holds twice (a
    run-time check reusing a contract id) stays native: a verdict could not tell them apart."""
    if validator == "pandera":
        from meshc.emit.pandera_emit import emit_schema

        _, gaps = emit_schema(compiled, engine)
    else:
        from meshc.emit.gx_emit import emit_suite

        _, gaps = emit_suite(compiled, engine)
    missing = {g.rule_id for g in gaps}
    held = {c.id for c in compiled.row_checks} - missing
    counts = Counter(c.id for c in plan.checks)
    return [c.id for c in plan.checks if c.id in held and counts[c.id] == 1]
