"""Every conformance case on every engine, compared order-insensitively with the spec's answer.

An engine whose module does not exist yet fails here (it does not skip): the corpus is the
contract every engine signs. A known gap is a strict xfail listed in the case's expected.yaml,
so the test starts failing the day the gap is fixed and the entry must be removed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conformance.corpus import (
    ENGINES,
    Case,
    input_ids,
    load_cases,
    mismatches,
    run_case_outcome,
)

CASES = load_cases()


def _params() -> Iterator[object]:
    for case in CASES:
        for engine in ENGINES:
            marks: list[pytest.MarkDecorator] = []
            if engine == "spark":
                marks.append(pytest.mark.spark)
            if engine in case.xfail:
                marks.append(pytest.mark.xfail(reason=case.xfail[engine], strict=True))
            yield pytest.param(case, engine, marks=marks, id=f"{case.name}-{engine}")


@pytest.mark.parametrize(("case", "engine"), list(_params()))
def test_case(case: Case, engine: str, request: pytest.FixtureRequest) -> None:
    if engine == "spark":
        request.getfixturevalue("spark_session")
    outcome = run_case_outcome(case, engine)
    problems = mismatches(case, outcome)
    assert not problems, f"{case.name} on {engine} ({case.description}):\n  " + "\n  ".join(
        problems
    )


def test_corpus_is_well_formed() -> None:
    """Guard the corpus itself: enough cases, every input row expected somewhere, ids unique."""
    assert len(CASES) >= 25
    for case in CASES:
        if case.error is not None:  # the file is broken on purpose; the run must fail
            continue
        ids = input_ids(case)
        assert len(ids) == len(set(ids)), f"{case.name}: duplicate row ids"
        expected = set(case.valid) | set(case.quarantined)
        assert expected == set(ids), (
            f"{case.name}: rows {sorted(set(ids) ^ expected)} not accounted for"
        )
        assert all(case.quarantined.values()), f"{case.name}: a quarantined row lists no rule"
