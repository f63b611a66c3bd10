"""Spark reads a CSV file split in parallel unless a quoted value holds a line break (issue #13).

Spark's `multiLine` reads a file as one task; without it Spark splits a file at line breaks, which
is right only when no quoted value holds one. `sourcespec.has_quoted_line_breaks` decides; these
tests pin the decision and that Spark's rows equal Polars' either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshc.engines import sourcespec
from meshc.engines.registry import get_engine

# (file text, whether a quoted value holds a line break)
CASES = {
    "quoted LF": ('id,note\n1,"two\nlines"\n2,plain\n', True),
    "quoted CRLF": ('id,note\r\n1,"two\r\nlines"\r\n2,plain\r\n', True),
    "quoted CRLF, empty lines": ('id,note\r\n\r\n1,"a\r\nb"\r\n\r\n2,plain\r\n', True),
    "quoted CRLF in a file of LF endings": ('id,note\n1,"two\r\nlines"\n2,plain\n', True),
    "quoted CR": ('id,note\n1,"two\rlines"\n2,plain\n', True),
    "doubled quotes, no line break": ('id,note\n1,"say ""hi"""\n2,"a,b"\n', False),
    "only doubled quotes inside values": ('id,note\n1,say ""hi""\n2,x""\n', False),
    "line break in the last row": ('id,note\n1,plain\n2,"last\nrow"', True),
    "quoted empty line": ('id,note\n1,"a\n\nb"\n2,plain\n', True),
    "no quotes": ("id,note\n1,plain\n\n2,other\n", False),
    "empty lines, CRLF, BOM": ('\ufeff\r\nid,note\r\n1,"q"\r\n\r\n2,plain\r\n', False),
    "stray quote before a quoted line break": ('id,note\n1a"b,"c\nd"\n', True),
}


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "in.csv"
    path.write_bytes(text.encode("utf-8"))
    return str(path)


@pytest.mark.parametrize(("text", "expected"), CASES.values(), ids=list(CASES))
def test_quoted_line_breaks_are_found(tmp_path: Path, text: str, expected: bool) -> None:
    path = _write(tmp_path, text)
    sourcespec.check_csv(path, delimiter=",", header=True)
    assert sourcespec.has_quoted_line_breaks(path, delimiter=",", header=True) is expected


def test_a_file_without_a_header_is_judged_too(tmp_path: Path) -> None:
    split = _write(tmp_path, '1,"a"\n2,b\n')
    assert not sourcespec.has_quoted_line_breaks(split, delimiter=",", header=False)
    whole = _write(tmp_path, '1,"a\nb"\n2,b\n')
    assert sourcespec.has_quoted_line_breaks(whole, delimiter=",", header=False)


@pytest.fixture
def spark(spark_session: Any) -> Iterator[Any]:
    pytest.importorskip("pyspark")
    engine = get_engine("spark", session=spark_session)
    yield engine
    engine.close()


def _rows(engine: Any, path: str) -> list[dict[str, Any]]:
    table = engine.to_arrow(engine.read([path], "csv"))
    return sorted(table.to_pylist(), key=lambda r: r["id"])


# Polars refuses a stray quote before a quoted line break (its own gap, not Spark's split)
SAME_ROWS = [name for name in CASES if not name.startswith("stray")]


@pytest.mark.spark
@pytest.mark.parametrize("name", SAME_ROWS)
def test_spark_reads_the_rows_polars_reads(spark: Any, tmp_path: Path, name: str) -> None:
    text, _ = CASES[name]
    path = _write(tmp_path, text)
    assert _rows(spark, path) == _rows(get_engine("polars"), path)


@pytest.mark.spark
def test_spark_splits_a_file_without_quoted_line_breaks(spark: Any, tmp_path: Path) -> None:
    lines = [f'{i},"note {i}, quoted"' for i in range(2000)]
    path = _write(tmp_path, "id,note\n" + "\n".join(lines) + "\n")
    conf = spark.session.conf
    previous = conf.get("spark.sql.files.maxPartitionBytes")
    conf.set("spark.sql.files.maxPartitionBytes", "4096")  # a ~40 KB file: several tasks
    try:
        frame = spark.read([path], "csv")
        assert frame.rdd.getNumPartitions() > 1
        assert frame.count() == 2000
    finally:
        conf.set("spark.sql.files.maxPartitionBytes", previous)
