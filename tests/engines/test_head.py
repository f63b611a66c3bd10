"""`Engine.head`: the first n rows of a frame as Arrow, exactly as `to_arrow` gives them (the
rows the report's samples and `meshc run --show-quarantine` show, read without converting the
rest). Both outputs keep the source's row order, so "first" means first in the source, also
after a check that compares rows with each other (a `unique` check: a window or a sort)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from meshc import DataProcessor
from meshc.engines.base import StreamingEngine
from meshc.rules import expr as ir
from meshc.runner.report import SAMPLE_ROWS
from meshc.types import INTEGER, STRING

from .helpers import plan, rule, run, text_frame, unique

# rows 1, 3, 4, 6 and 8 fail (a value that is not an integer, or a negative one)
ROWS = [str(i) for i in range(10)]
XS = ["5", "x", "7", "-1", "-2", "9", "y", "3", "-3", "4"]
FAILING = ["1", "3", "4", "6", "8"]


def _split(engine: Any) -> Any:
    x = ir.Col("x", INTEGER)
    checks = (rule("x_positive", ir.Compare(">=", x, ir.Lit(0, INTEGER)), "x >= 0"),)
    frame = text_frame(engine, row=ROWS, x=XS)
    return run(engine, frame, plan({"row": STRING, "x": INTEGER}, *checks))


def _assert_head_is_first_rows(engine: Any, frame: Any) -> None:
    whole = engine.to_arrow(frame)
    for n in (0, 1, 2, whole.num_rows, whole.num_rows + 3):
        head = engine.head(frame, n)
        assert head.column_names == whole.column_names, n
        assert head.schema == whole.schema, n
        assert head.to_pylist() == whole.slice(0, n).to_pylist(), n


def test_head_is_the_first_rows_of_to_arrow(engine: Any) -> None:
    split = _split(engine)
    _assert_head_is_first_rows(engine, split.quarantine)
    _assert_head_is_first_rows(engine, split.valid)


def test_the_quarantine_keeps_the_source_order(engine: Any) -> None:
    split = _split(engine)
    assert [r["row"] for r in engine.to_arrow(split.quarantine).to_pylist()] == FAILING
    assert [r["row"] for r in engine.head(split.quarantine, 3).to_pylist()] == FAILING[:3]


def _unique_split(engine: Any) -> Any:
    """Rows 0, 1, 2, 3, 5 and 8 share a key with another row."""
    keys = ["a", "b", "c", "b", "d", "a", "e", "f", "c", "g"]
    check = unique("k.unique", ir.Col("k", STRING))
    frame = text_frame(engine, row=ROWS, k=keys)
    return run(engine, frame, plan({"row": STRING, "k": STRING}, check))


def test_head_with_a_unique_check(engine: Any) -> None:
    """A unique check compares rows with each other (a window, a sort): head is still the first
    rows of `to_arrow`."""
    _assert_head_is_first_rows(engine, _unique_split(engine).quarantine)


def _order(engine: Any, frame: Any) -> list[str]:
    return [r["row"] for r in engine.to_arrow(frame).to_pylist()]


def test_a_unique_check_keeps_the_source_order(engine: Any) -> None:
    split = _unique_split(engine)
    assert _order(engine, split.quarantine) == ["0", "1", "2", "3", "5", "8"]
    assert [r["row"] for r in engine.head(split.quarantine, 3).to_pylist()] == ["0", "1", "2"]


def test_a_unique_check_keeps_the_valid_output_in_source_order(engine: Any) -> None:
    """The valid rows' keys fall as the source goes on (j, i, h...): an output left grouped or
    sorted by key would come out backwards."""
    keys = ["j", "a", "i", "a", "h", "g", "b", "f", "b", "e"]
    frame = text_frame(engine, row=ROWS, k=keys)
    check = unique("k.unique", ir.Col("k", STRING))
    split = run(engine, frame, plan({"row": STRING, "k": STRING}, check))
    assert _order(engine, split.valid) == ["0", "2", "4", "5", "7", "9"]
    assert _order(engine, split.quarantine) == ["1", "3", "6", "8"]


def test_a_composite_unique_check_keeps_the_source_order(engine: Any) -> None:
    """Pairs (x,2), (x,1) and (y,1) repeat; a NULL in the key is never a duplicate; a failing row
    rule on the same rows changes nothing in the order."""
    k1 = ["x", "x", "y", "y", "x", "y", "x", "z", "y", "x"]
    k2 = ["2", "1", "1", "2", "2", "1", "1", None, "3", "3"]
    n = ir.Col("n", INTEGER)
    checks = (
        unique("k1_k2.unique", ir.Col("k1", STRING), ir.Col("k2", STRING)),
        rule("n_positive", ir.Compare(">=", n, ir.Lit(0, INTEGER)), "n >= 0"),
    )
    ns = ["1", "1", "1", "1", "1", "1", "1", "1", "-1", "1"]
    frame = text_frame(engine, row=ROWS, k1=k1, k2=k2, n=ns)
    columns = {"row": STRING, "k1": STRING, "k2": STRING, "n": INTEGER}
    split = run(engine, frame, plan(columns, *checks))
    assert _order(engine, split.quarantine) == ["0", "1", "2", "4", "5", "6", "8"]
    assert _order(engine, split.valid) == ["3", "7", "9"]


def test_head_of_a_streamed_split(engine: Any) -> None:
    if not isinstance(engine, StreamingEngine):
        pytest.skip(f"{engine.name} does not stream")
    x = ir.Col("x", INTEGER)
    checks = (rule("x_positive", ir.Compare(">=", x, ir.Lit(0, INTEGER)), "x >= 0"),)
    frame = text_frame(engine, row=ROWS, x=XS)
    split = engine.validate_streaming(frame, plan({"row": STRING, "x": INTEGER}, *checks))
    assert [r["row"] for r in engine.head(split.quarantine, 2).to_pylist()] == FAILING[:2]
    _assert_head_is_first_rows(engine, split.quarantine)


def test_head_of_a_masked_quarantine_is_masked_alike(engine: Any) -> None:
    masked = engine.mask(_split(engine).quarantine, {"x": "partial", "row": "redact"})
    _assert_head_is_first_rows(engine, masked)
    assert {r["row"] for r in engine.head(masked, 3).to_pylist()} == {"[REDACTED]"}


def test_head_of_a_frame_as_read(engine: Any, tmp_path: Path) -> None:
    source = tmp_path / "s.csv"
    source.write_text("a,b\n1,x\n2,y\n3,z\n")
    frame = engine.read([str(source)], "csv", text_columns=["a", "b"])
    assert engine.head(frame, 2).to_pylist() == [{"a": "1", "b": "x"}, {"a": "2", "b": "y"}]
    _assert_head_is_first_rows(engine, frame)


CONTRACT = """\
info: {version: 1, name: people, domain: hr}
model:
  fields:
    - {name: id, type: string, required: true}
    - {name: ssn, type: string, masking: partial, pattern: '^[0-9]{3}-[0-9]{2}-[0-9]{4}$'}
    - {name: age, type: integer, min: 0}
lineage: {enabled: true}
"""


def test_the_report_samples_are_the_first_quarantined_rows(engine: Any, tmp_path: Path) -> None:
    """The samples are what they were when the report converted the whole quarantine: the first
    SAMPLE_ROWS rows of `to_arrow`, masked, JSON-ready."""
    (tmp_path / "c.yaml").write_text(textwrap.dedent(CONTRACT))
    lines = [f"{i},bad-{i:04d},{-i if i % 2 else i}" for i in range(1, 15)]
    (tmp_path / "d.csv").write_text("id,ssn,age\n" + "\n".join(lines) + "\n")
    processor = DataProcessor(tmp_path / "c.yaml", engine=engine, root=tmp_path)
    result = processor.run_source(tmp_path / "d.csv", write=False)
    assert result.rows_quarantined == 14
    whole = engine.to_arrow(result.quarantine_frame).slice(0, SAMPLE_ROWS).to_pylist()
    expected = [json.loads(json.dumps(row, default=str)) for row in whole]
    samples = list(result.run_report.samples)
    assert samples == expected
    assert [s["id"] for s in samples] == ["1", "2", "3", "4", "5"]
    assert samples[0]["ssn"] == "****0001"  # masked as in the quarantine
    assert result.report["samples"] == expected
