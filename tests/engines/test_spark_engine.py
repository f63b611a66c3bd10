"""What only the Spark engine does: a session given by the caller, Java regex, a checkpoint that
never serves stale rows, one file per output and its text layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark")

from meshc.engines._spark.translate import java_pattern  # noqa: E402
from meshc.engines.registry import get_engine  # noqa: E402
from meshc.rules import expr as ir  # noqa: E402
from meshc.types import INTEGER, STRING, TIMESTAMP_TZ  # noqa: E402

from .helpers import plan, rows, rule, run, text_frame, unique  # noqa: E402

pytestmark = pytest.mark.spark


@pytest.fixture
def engine(spark_session: Any) -> Any:
    return get_engine("spark", session=spark_session)


def test_the_registry_builds_the_engine_on_a_given_session(spark_session: Any) -> None:
    built = get_engine("spark", session=spark_session)
    assert built.session is spark_session  # type: ignore[attr-defined]


def test_java_regex_ends_at_the_end_of_the_text() -> None:
    # UNIX_LINES and \z: '$' and '.' mean what they mean in RE2 and Rust
    assert java_pattern("[$]$") == "(?d)[$]\\z"


def test_validating_a_rewritten_file_sees_the_new_rows(engine: Any, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    for value, expected in (("1", 1), ("2", 2)):
        path.write_text(f"x\n{value}\n")
        split = run(engine, engine.read([str(path)], "csv"), plan({"x": INTEGER}))
        assert rows(engine, split.valid) == [{"x": expected}]


def test_csv_layout_of_instants(engine: Any, tmp_path: Path) -> None:
    check = rule("r1", ir.Compare(">=", ir.Col("x", INTEGER), ir.Lit(0, INTEGER)), "x >= 0")
    frame = text_frame(engine, x=["1", "-1"], ts=["2024-01-01T10:00:00.123456Z", None])
    split = run(engine, frame, plan({"x": INTEGER, "ts": TIMESTAMP_TZ}, check))
    engine.write(split.valid, tmp_path / "valid.csv", "csv")
    assert (tmp_path / "valid.csv").read_text().splitlines() == [
        "x,ts",
        "1,2024-01-01T10:00:00.123456Z",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["valid.csv"]


def _partitioned_frame(engine: Any, keys: list[str]) -> Any:
    """Rows 0..n-1 in 4 partitions of the source, in order; `k` the key of each row."""
    from pyspark.sql import functions as F

    index = F.col("id").cast("int")
    return engine.session.range(0, len(keys), 1, 4).select(
        index.cast("string").alias("row"),
        F.element_at(F.array(*(F.lit(k) for k in keys)), index + 1).alias("k"),
    )


def _order(engine: Any, frame: Any) -> list[str]:
    return [r["row"] for r in rows(engine, frame)]


def test_a_unique_check_sorts_rows_back_across_source_partitions(engine: Any) -> None:
    """Keys fall as the rows go on, across 4 source partitions: a window partitioned by the key
    regroups them, and the outputs come back in the frame's order."""
    keys = ["l", "a", "k", "j", "a", "i", "h", "b", "g", "f", "b", "e"]
    check = unique("k.unique", ir.Col("k", STRING))
    split = run(engine, _partitioned_frame(engine, keys), plan({"row": STRING, "k": STRING}, check))
    assert _order(engine, split.valid) == ["0", "2", "3", "5", "6", "8", "9", "11"]
    assert _order(engine, split.quarantine) == ["1", "4", "7", "10"]


def test_without_a_unique_check_no_row_leaves_its_partition(engine: Any) -> None:
    """Only a check that compares rows shuffles, so only then are rows numbered and sorted: a
    plain rule keeps every row in the partition it was read in."""
    from pyspark.sql import functions as F

    keys = ["a"] * 12
    check = rule("k_known", ir.InList(ir.Col("k", STRING), (ir.Lit("a", STRING),)), "k IN ('a')")
    split = run(engine, _partitioned_frame(engine, keys), plan({"row": STRING, "k": STRING}, check))
    where = split.valid.select("row", F.spark_partition_id().alias("p")).collect()
    assert [(r["row"], r["p"]) for r in where] == [(str(i), i * 4 // 12) for i in range(12)]
