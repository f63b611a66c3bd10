"""What only the Polars engine does: lazy frames, eager input, its native dtypes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from meshc.engines.base import REASONS
from meshc.engines.registry import get_engine
from meshc.rules import expr as ir
from meshc.types import INTEGER, TIMESTAMP_TZ

from .helpers import UTC, dec, plan, rule, run


def test_read_is_lazy_and_eager_frames_are_accepted(tmp_path: Path) -> None:
    engine = get_engine("polars")
    (tmp_path / "a.csv").write_text("x\n1\n")
    assert isinstance(engine.read([str(tmp_path / "a.csv")], "csv"), pl.LazyFrame)
    split = run(engine, pl.DataFrame({"x": ["1", ""]}), plan({"x": INTEGER}))
    assert split.valid["x"].to_list() == [1, None]


def test_native_dtypes() -> None:
    engine = get_engine("polars")
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    p = plan(
        {"d": dec(10, 3), "t": TIMESTAMP_TZ, "n": INTEGER},
        rule("pos", ir.Compare(">", ir.Col("n", INTEGER), ir.Lit(0, INTEGER))),
        lineage={"_meshc_processed_at": now},
    )
    frame = pl.LazyFrame({"d": ["1.5", "2"], "t": ["2024-06-01", "x"], "n": ["1", "-1"]})
    split = run(engine, frame, p)
    assert split.valid.schema == pl.Schema(
        {
            "d": pl.Decimal(10, 3),
            "t": pl.Datetime("us", "UTC"),
            "n": pl.Int64,
            "_meshc_processed_at": pl.Datetime("us", "UTC"),
        }
    )
    # a rule's text and message are held once per quarantine (Categorical), not once per row
    reason = split.quarantine.schema[REASONS].inner
    assert isinstance(reason, pl.Struct)
    fields = {f.name: f.dtype for f in reason.fields}
    assert fields["rule"] == pl.Categorical() and fields["message"] == pl.Categorical()
    masked = engine.mask(split.valid, {"n": "nullify"})
    assert masked.schema["n"] == pl.Int64
