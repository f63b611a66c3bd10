"""Every conformance case through the compiled artifacts: Pandera (pandas, Polars) and GX (pandas).

The typed frame comes from the engine's own cast stage (meshc.validators.frames); the artifacts
judge it through `meshc.validators.validate_with`, and the outcome must equal expected.yaml, the
same expectation the native engines meet. Rules a target cannot express are strict xfails naming
the rules and the reason (from the emitter's gaps), never silent skips.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.corpus import ID_COLUMN, Case, engine_for, load_cases

TARGETS = (("pandera", "pandas"), ("pandera", "polars"), ("gx", "pandas"))
# Known differences between a library and meshc's semantics (strict: they must still fail).
KNOWN: dict[tuple[str, str, str], str] = {}


def _gaps(case: Case, validator: str, engine: str) -> list[str]:
    from meshc.emit import emit_contract
    from meshc.loader import load_contract
    from meshc.rules.compiler import compile_contract

    compiled = compile_contract(load_contract(case.contract_path))
    target = f"{validator}_{engine}" if validator == "pandera" else f"gx_{engine}"
    # only gaps that change this case's outcome: a rule the data never breaks is not a gap here
    broken = {rule for rules in case.quarantined.values() for rule in rules}
    return [
        f"{g.rule_id}: {g.reason}"
        for g in emit_contract(compiled, b"").gaps
        if g.target == target and g.rule_id in broken
    ]


def _raw(case: Case, engine: str, compiled: Any) -> Any:
    """The CSV as `meshc run` reads it on that engine (every contract column as text)."""
    from meshc.runner.plan import build_plan

    columns = [c.name for c in build_plan(compiled).columns]
    frame = engine_for(engine).read([str(case.input_path)], "csv", text_columns=columns)
    return frame.collect() if hasattr(frame, "collect") else frame


def outcome(case: Case, validator: str, engine: str) -> tuple[set[str], dict[str, list[str]]]:
    from meshc.loader import load_contract
    from meshc.rules.compiler import compile_contract
    from meshc.validators import validate_with
    from meshc.validators.frames import typed_frame

    compiled = compile_contract(load_contract(case.contract_path))
    raw = _raw(case, engine, compiled)
    typed = typed_frame(engine, raw, compiled)
    failures = validate_with(
        validator, compiled, engine, typed.frame, cast_failed=typed.cast_failed, now=case.now
    )
    severity = {c.id: c.severity for c in compiled.row_checks}
    ids = list(raw[ID_COLUMN])
    valid: set[str] = set()
    quarantined: dict[str, list[str]] = {}
    for row, row_id in enumerate(ids):
        casts = [f"{c}.type" for c, mask in typed.cast_failed.items() if mask[row]]
        checks = failures.get(row, [])
        if casts or any(severity[c] == "error" for c in checks):
            quarantined[str(row_id)] = sorted(casts + checks)
        else:
            valid.add(str(row_id))
    return valid, quarantined


def _params() -> list[Any]:
    params = []
    for case in load_cases():
        for validator, engine in TARGETS:
            marks = []
            gaps = _gaps(case, validator, engine)
            reason = KNOWN.get((case.name, validator, engine))
            if gaps or reason:
                marks.append(pytest.mark.xfail(strict=True, reason=reason or "; ".join(gaps)))
            params.append(
                pytest.param(
                    case, validator, engine, marks=marks, id=f"{case.name}-{validator}-{engine}"
                )
            )
    return params


@pytest.mark.parametrize(("case", "validator", "engine"), _params())
def test_compiled_artifacts_match_the_spec(case: Case, validator: str, engine: str) -> None:
    valid, quarantined = outcome(case, validator, engine)
    expected = {k: sorted(v) for k, v in case.quarantined.items()}
    assert (valid, quarantined) == (set(case.valid), expected)
