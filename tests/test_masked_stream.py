"""A written run with masking on DuckDB or Polars masks in its one streamed pass: each output is
written once, already masked (the spill file is the output), with the values masking after the
split gives; dataset rules still see the real values (meshc/runner/masks.py)."""

from __future__ import annotations

import textwrap
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from meshc import DataProcessor

# the engines that mask while streaming (meshc.engines.base.MasksWhileStreaming)
ENGINES = [
    "polars",
    pytest.param("duckdb", marks=pytest.mark.skipif(not find_spec("duckdb"), reason="no duckdb")),
]

FIELDS = """\
info: {version: 1, name: people, domain: hr, layer: silver}
model:
  fields:
    - {name: id, type: string, required: true}
    - {name: email, type: string, pii: true, masking: hash}
    - {name: ssn, type: string, pii: true, masking: partial, pattern: '^[0-9]{3}-[0-9]{2}-[0-9]{4}$'}
    - {name: name, type: string, pii: true, masking: redact}
    - {name: salary, type: integer, pii: true, masking: nullify, min: 0}
    - {name: team, type: string}
lineage: {enabled: false}
"""
ROWS = (
    "id,email,ssn,name,salary,team\n"
    "1,ann@x.com,123-45-6789,Ann,100,a\n"
    "2,bob@x.com,bad-ssn-99,Bob,200,b\n"
    "3,,987-65-4321,,-5,a\n"
    "4,dan@x.com,555-12-3456,Dan,300,\n"
)


def _people(tmp_path: Path, quality: str = "") -> tuple[Path, Path]:
    contract = tmp_path / "people.yaml"
    contract.write_text(FIELDS + textwrap.dedent(quality))
    data = tmp_path / "people.csv"
    data.write_text(ROWS)
    return contract, data


def _rows(path: Path) -> list[dict[str, Any]]:
    return sorted(pq.read_table(path).to_pylist(), key=lambda r: r["id"])


@pytest.mark.parametrize("engine", ENGINES)
def test_masked_outputs_are_the_spill_files_written_once(tmp_path: Path, engine: str) -> None:
    contract, data = _people(tmp_path)
    out, quarantine = tmp_path / "out" / "valid.parquet", tmp_path / "out" / "quarantine.parquet"
    with DataProcessor(contract, engine=engine) as processor:
        result = processor.run_source(data, output=out, quarantine=quarantine)
        # hard links to the spill files while the engine lives: nothing was written a second time
        assert (out.stat().st_nlink, quarantine.stat().st_nlink) == (2, 2)
        assert (result.rows_valid, result.rows_quarantined) == (2, 2)
    with DataProcessor(contract, engine=engine) as processor:  # masked after the split
        expected = processor.run_source(data, write=False)
        valid, rejected = expected.valid_arrow(), expected.quarantine_arrow()
    assert _rows(out) == sorted(valid.to_pylist(), key=lambda r: r["id"])
    assert _rows(quarantine) == sorted(rejected.to_pylist(), key=lambda r: r["id"])
    assert pq.read_schema(out).types == valid.schema.types  # nullify keeps the integer type
    bob = _rows(quarantine)[0]
    assert bob["ssn"] == "******n-99" and bob["_meshc_reasons"][0]["value"] == "******n-99"
    assert "Bob" not in str(_rows(quarantine)) and "ann@x.com" not in str(_rows(out))


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_folded_masks_give_the_values_masking_after_the_split_gives(
    tmp_path: Path, fmt: str, engine_name: str
) -> None:
    """Engine level: validate_streaming_masked, or validate_streaming then mask (what a written
    masked run did before); CSV and JSON come out byte for byte the same."""
    from meshc.engines.registry import get_engine
    from meshc.loader import load_compiled
    from meshc.runner.masks import contract_masks
    from meshc.runner.plan import build_plan

    contract, data = _people(tmp_path)
    compiled = load_compiled(contract)
    plan = build_plan(compiled, text_source=True)
    masks = contract_masks(compiled.contract)
    written: dict[str, list[Path]] = {}
    with get_engine(engine_name) as engine:
        names = [c.name for c in plan.columns]
        frame = engine.read([str(data)], "csv", text_columns=names)
        folded = engine.validate_streaming_masked(frame, plan, masks)
        frame = engine.read([str(data)], "csv", text_columns=names)
        after = engine.validate_streaming(frame, plan)
        after_masked = (engine.mask(after.valid, masks), engine.mask(after.quarantine, masks))
        for kind, outputs in (
            ("folded", (folded.valid, folded.quarantine)),
            ("after", after_masked),
        ):
            written[kind] = [tmp_path / kind / f"{role}.{fmt}" for role in ("v", "q")]
            written[kind][0].parent.mkdir()
            for output, path in zip(outputs, written[kind], strict=True):
                engine.write(output, path, fmt)
    assert (folded.rows_valid, folded.rows_quarantined, folded.failures) == (
        after.rows_valid,
        after.rows_quarantined,
        after.failures,
    )
    for mine, theirs in zip(written["folded"], written["after"], strict=True):
        if fmt == "parquet":  # (DuckDB's COPY marked `id` REQUIRED; its spill file: OPTIONAL)
            assert pq.read_table(mine).to_pylist() == pq.read_table(theirs).to_pylist()
            assert pq.read_schema(mine).types == pq.read_schema(theirs).types
        else:
            assert mine.read_bytes() == theirs.read_bytes()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_dataset_rule_on_a_masked_column_sees_the_real_values(
    tmp_path: Path, engine: str
) -> None:
    """Dataset rules are judged on the valid output before masking: on a masked column they
    must see the names, not "[REDACTED]" (so such a run is masked after the split)."""
    contract, data = _people(
        tmp_path,
        """\
        quality:
          dataset_rules:
            - {type: sql, sql: "COUNT(DISTINCT name) = 2", name: two_names}
            - {type: null_ratio, column: salary, max: 0}
        """,
    )
    with DataProcessor(contract, engine=engine) as processor:
        result = processor.run_source(data, output=tmp_path / "v.parquet")
        assert [r.passed for r in result.dataset_results] == [True, True]
    assert [r["name"] for r in _rows(tmp_path / "v.parquet")] == ["[REDACTED]"] * 2
