"""The report's samples and `meshc run --show-quarantine` read only the rows they show
(`Engine.head`), not the whole quarantine: a quarantine of millions of rows prints 20 of them
without converting (and masking) the rest.

The proof is a Polars lazy frame whose third row cannot be computed: reading the whole frame
raises, reading its first two rows does not.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import polars as pl
import pytest

from meshc import DataProcessor
from meshc.cli.run_render import quarantine_rows
from meshc.engines.registry import get_engine
from meshc.runner.report import sample_quarantine
from tests.conftest import ROOT

SEED = ROOT / "examples" / "seed"


def _unreadable_after_two_rows() -> pl.LazyFrame:
    return pl.LazyFrame({"x": ["1", "2", "not a number"]}).with_columns(
        pl.col("x").cast(pl.Int64, strict=True)
    )


def test_the_frame_cannot_be_read_whole() -> None:
    """What the tests below rely on: converting every row fails."""
    with pytest.raises(pl.exceptions.InvalidOperationError):
        get_engine("polars").to_arrow(_unreadable_after_two_rows())


def test_sample_quarantine_reads_only_the_sampled_rows() -> None:
    engine = get_engine("polars")
    assert sample_quarantine(engine, _unreadable_after_two_rows(), 2) == [{"x": 1}, {"x": 2}]


def _seed_result() -> Any:
    return DataProcessor(SEED / "orders.yaml").run_source(SEED / "orders.csv", write=False)


def test_show_quarantine_reads_only_the_rows_it_prints() -> None:
    result = dataclasses.replace(
        _seed_result(), quarantine_frame=_unreadable_after_two_rows(), rows_quarantined=3
    )
    assert quarantine_rows(result, 2) == [{"x": 1}, {"x": 2}]


def test_show_quarantine_limit_zero_is_every_row() -> None:
    result = _seed_result()
    every = quarantine_rows(result, 0)
    assert len(every) == result.rows_quarantined == 5
    assert every == quarantine_rows(result, 100)
    assert quarantine_rows(result, 2) == every[:2]
    assert [r["order_id"] for r in every] == [r["order_id"] for r in result.report["samples"]]
