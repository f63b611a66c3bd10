"""`--validator pandera|gx`: judge the rows through the compiled artifacts as well.

The compiled Pandera schema or GX suite evaluates every row; its per-rule failure counts and its
quarantined-row count must equal the engine's own, or the run fails with an IntegrityError naming
the rules that differ. The report then says which validator confirmed the split. (The quarantine
itself is laid out by the engine, so it is identical whichever validator confirmed it.)
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from meshc.engines.base import Split, cast_rule_id
from meshc.errors import IntegrityError
from meshc.rules import checks as ck


def confirm_with_artifacts(
    validator: str,
    compiled: ck.CompiledContract,
    engine_name: str,
    frame: Any,
    split: Split,
    now: dt.datetime,
) -> dict[str, int]:
    """Failure counts per rule id according to the artifacts; raises when they disagree."""
    from meshc.validators import ValidatorUnavailable, validate_with
    from meshc.validators.frames import typed_frame

    if engine_name not in ("pandas", "polars"):
        raise ValidatorUnavailable(
            f"--validator {validator} runs on the pandas and polars engines, not on {engine_name}"
        )
    raw = frame.collect() if hasattr(frame, "collect") and engine_name == "polars" else frame
    typed = typed_frame(engine_name, raw, compiled)
    failures = validate_with(
        validator, compiled, engine_name, typed.frame, cast_failed=typed.cast_failed, now=now
    )
    counts: Counter[str] = Counter(rule for rules in failures.values() for rule in rules)
    for column, mask in typed.cast_failed.items():
        if mask.any():
            counts[cast_rule_id(column)] = int(mask.sum())
    errors = {c.id for c in compiled.row_checks if c.severity == "error"}
    bad_rows = {i for i, rules in failures.items() if errors & set(rules)}
    for mask in typed.cast_failed.values():
        bad_rows |= {int(i) for i in mask.nonzero()[0]}
    native = {k: v for k, v in split.failures.items() if v}
    differ = sorted(k for k in set(native) | set(counts) if native.get(k, 0) != counts.get(k, 0))
    if differ or len(bad_rows) != split.rows_quarantined:
        detail = ", ".join(
            f"{k}: {validator} {counts.get(k, 0)} vs meshc {native.get(k, 0)}" for k in differ
        )
        raise IntegrityError(
            f"the compiled {validator} artifacts disagree with meshc: {len(bad_rows)} rows vs "
            f"{split.rows_quarantined} quarantined" + (f"; {detail}" if detail else "")
        )
    return dict(counts)
