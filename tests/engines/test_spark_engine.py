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
from meshc.types import INTEGER, TIMESTAMP_TZ  # noqa: E402

from .helpers import plan, rows, rule, run, text_frame  # noqa: E402

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
