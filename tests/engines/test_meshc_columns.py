"""A source that already carries the columns a run writes itself: a meshc output validated again.

A silver output carries the lineage columns, a quarantine file also `_meshc_reasons`. They
describe the earlier run, so they are not source data: this run's own reasons and lineage replace
them (or leave them out, when this run writes none), on every engine and whatever
`extra_columns` says. A source column named with the prefix of meshc's internal columns
(`__meshc_`) would collide with them inside the engine: it is refused, by name.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from meshc.engines.base import LINEAGE_COLUMNS, REASONS
from meshc.errors import SourceError
from meshc.types import INTEGER, STRING

from .helpers import UTC, plan, rows, run, text_frame

AT = dt.datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NEW_LINEAGE: dict[str, Any] = {name: f"new {name}" for name in LINEAGE_COLUMNS}
NEW_LINEAGE["_meshc_processed_at"] = AT


def _earlier_output(engine: Any) -> Any:
    """What an earlier run wrote (read back as text): a valid row and one that fails its cast,
    an undeclared column, the earlier run's lineage and reasons."""
    earlier = {name: ["old", "old"] for name in LINEAGE_COLUMNS}
    return text_frame(engine, x=["1", "bad"], note=["n1", "n2"], **earlier, **{REASONS: ["[]"] * 2})


@pytest.mark.parametrize("extra_columns", ["drop", "keep"])
@pytest.mark.parametrize("lineage", [True, False], ids=["lineage", "no-lineage"])
def test_this_runs_columns_replace_an_earlier_runs(
    engine: Any, extra_columns: str, lineage: bool, tmp_path: Path
) -> None:
    own = NEW_LINEAGE if lineage else {}
    p = plan({"x": INTEGER}, extra_columns=extra_columns, lineage=own)
    split = run(engine, _earlier_output(engine), p)
    kept = ["note"] if extra_columns == "keep" else []
    assert engine.columns(split.valid) == ["x", *kept, *own]
    assert engine.columns(split.quarantine) == ["x", "note", REASONS, *own]
    [valid] = rows(engine, split.valid)
    [quarantined] = rows(engine, split.quarantine)
    for row in (valid, quarantined):
        assert {c: row[c] for c in own} == own
    assert [r["rule_id"] for r in quarantined[REASONS]] == ["x.type"]
    for role in ("valid", "quarantine"):  # the outputs are writable, as the runner writes them
        path = tmp_path / f"{role}.parquet"
        engine.write(getattr(split, role), path, "parquet")
        assert pq.read_schema(path).names == engine.columns(getattr(split, role))


def test_an_earlier_runs_reasons_are_left_out_without_reasons(engine: Any) -> None:
    p = plan({"x": INTEGER}, include_reasons=False)
    split = run(engine, _earlier_output(engine), p)
    assert engine.columns(split.quarantine) == ["x", "note"]


def test_an_earlier_runs_columns_are_not_extra_columns(engine: Any) -> None:
    earlier = {name: ["old"] for name in (*LINEAGE_COLUMNS, REASONS)}
    frame = text_frame(engine, x=["1"], **earlier)
    split = run(engine, frame, plan({"x": INTEGER}, extra_columns="error"))
    assert rows(engine, split.valid) == [{"x": 1}]


def test_a_source_column_with_the_internal_prefix_is_refused(engine: Any) -> None:
    frame = text_frame(engine, x=["1", "bad"], __meshc_t0=["a", "b"], __meshc_q=["c", "d"])
    with pytest.raises(SourceError, match=r"__meshc_t0, __meshc_q.*reserved"):
        engine.validate(frame, plan({"x": INTEGER}, extra_columns="keep"))
    with pytest.raises(SourceError, match="__meshc_t0"):
        engine.cast(frame, plan({"x": INTEGER}))


def test_a_contract_column_named_like_a_column_the_run_writes(engine: Any) -> None:
    frame = text_frame(engine, x=["1"], _meshc_source=["upstream.csv"], _meshc_reasons=["[]"])
    columns = {"x": INTEGER, "_meshc_source": STRING}
    # declared, it is the contract's own column (here with an undeclared earlier run's reasons)
    split = run(engine, frame, plan(columns, lineage={"_meshc_run_id": "run-2"}))
    assert rows(engine, split.valid) == [
        {"x": 1, "_meshc_source": "upstream.csv", "_meshc_run_id": "run-2"}
    ]
    # unless this run writes a column of that name itself: refused, never duplicated
    with pytest.raises(SourceError, match="contract column.*_meshc_source.*lineage"):
        engine.validate(frame, plan(columns, lineage={"_meshc_source": "in.csv"}))
    reasons = {"x": INTEGER, "_meshc_reasons": STRING}
    with pytest.raises(SourceError, match="contract column.*_meshc_reasons"):
        engine.validate(frame, plan(reasons))
    split = run(engine, frame, plan(reasons, include_reasons=False))
    assert engine.columns(split.quarantine) == ["x", "_meshc_reasons"]
