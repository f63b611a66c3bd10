"""Integer overflow in dataset rules: an aggregate total outside signed 64-bit is NULL on every
engine (never wrapped, never a run error), as docs/semantics.md ("Integer overflow") says. Row-level
overflow (+, -, *, unary minus, ABS, CAST) is pinned by the `drift_overflow_*` conformance cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshc import DataProcessor

ENGINES = ["polars", "pandas", "duckdb", pytest.param("spark", marks=pytest.mark.spark)]

CONTRACT = """\
info: {version: 1, name: sum_overflow, domain: tests, owner: tests@meshc.dev}
model:
  fields:
    - {name: id, type: string, required: true}
    - {name: n, type: integer}
quality:
  dataset_rules:
    - {type: sql, sql: 'SUM(n) IS NULL', name: sum_overflows_to_null}
    - {type: sql, sql: 'SUM(n) >= 0', name: sum_not_wrapped}
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_integer_sum_overflow_is_null(engine: str, tmp_path: Path) -> None:
    (tmp_path / "contract.yaml").write_text(CONTRACT, encoding="utf-8")
    source = tmp_path / "input.csv"
    source.write_text("id,n\nr1,9223372036854775807\nr2,1\n", encoding="utf-8")
    processor = DataProcessor(tmp_path / "contract.yaml", engine=engine)
    result = processor.run_source(source, write=False)
    outcome = {d["id"]: d["passed"] for d in result.report["dataset_rules"]}
    # NULL: the first rule holds; the second is NULL too, which is not a violation (not wrapped
    # to -2^63, which would fail it)
    assert outcome == {"sum_overflows_to_null": True, "sum_not_wrapped": True}
