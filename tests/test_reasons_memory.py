"""Quarantine reasons do not copy the rule text per row (issue #12, item 14).

Every reason carries its rule's SQL text and message; a long rule (an 80 KB IN list) failed by
many rows used to cost rule length x failing rows (6.4 GB peak at 20k rows on Polars). The text
is now held once per rule: a dictionary-encoded column (Polars Categorical, Arrow dictionary,
DuckDB ENUM) whose values are unchanged for readers. These tests assert that mechanism through
the in-memory size of the reasons column, and that written files read back with the same values.
benchmarks/bench_reasons_memory.py measures the peak memory itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from meshc import DataProcessor
from meshc.engines.base import REASONS

FAILING = 2_000
CODES = [f"K{i:07d}" for i in range(1_700)]  # ~20 KB of IN-list text
RULE = "code IN (" + ", ".join(f"'{c}'" for c in CODES) + ")"
# the old layout: rule + default message ("violates <rule>") copied into every failing row
OLD_SIZE = FAILING * 2 * len(RULE)
BOUND = OLD_SIZE // 20


def _contract(tmp_path: Path) -> Path:
    path = tmp_path / "long_rule.yaml"
    path.write_text(
        "info: {version: 1, name: long_rule, domain: test, owner: t@example.com}\n"
        "model:\n  fields:\n"
        "    - {name: id, type: integer}\n"
        "    - {name: code, type: string}\n"
        "quality:\n  row_rules:\n"
        f'    - {{name: code_known, sql: "{RULE}"}}\n'
        "quarantine: {enabled: true, include_error_reason: true}\n"
        "lineage: {enabled: false}\n"
    )
    return path


def _source(tmp_path: Path) -> Path:
    path = tmp_path / "input.csv"
    rows = [f"{i},{CODES[i % len(CODES)] if i % 2 else f'X{i}'}" for i in range(2 * FAILING)]
    path.write_text("id,code\n" + "\n".join(rows) + "\n")
    return path


def _engine(name: str) -> Any:
    from meshc.engines.registry import get_engine

    return get_engine(name)  # Spark: the engine's own shared session


def _reasons_nbytes(engine: str, quarantine: Any) -> int:
    """The in-memory size of the reasons column, in the engine's own representation."""
    if engine == "polars":
        return int(quarantine.lazy().select(REASONS).collect()[REASONS].estimated_size())
    if engine == "pandas":
        return int(pa.array(quarantine[REASONS]).nbytes)
    # DuckDB: the Arrow export, where an ENUM is a dictionary (a VARCHAR is one copy per row)
    return int(quarantine.select(REASONS).to_arrow_table().nbytes)


ENGINES = ["polars", "pandas", "duckdb"]


@pytest.mark.parametrize("engine", ENGINES)
def test_reasons_hold_rule_text_once_not_per_failing_row(engine: str, tmp_path: Path) -> None:
    processor = DataProcessor(_contract(tmp_path), _engine(engine))
    result = processor.run_source(_source(tmp_path), write=False)
    assert result.rows_quarantined == FAILING
    size = _reasons_nbytes(engine, result.quarantine)
    assert size < BOUND, f"{engine}: reasons take {size} bytes (old layout: {OLD_SIZE})"


@pytest.mark.spark
def test_spark_checkpoint_holds_flags_not_reasons(tmp_path: Path) -> None:
    """Spark has no dictionary type: its reasons are built after the local checkpoint (which
    every output reads), for quarantined rows only, so the stored blocks hold no rule text."""
    engine = _engine("spark")
    from meshc.engines._spark.session import get_session

    context = get_session().sparkContext._jsc.sc()  # noqa: SLF001 (no public storage API)

    def stored() -> int:
        return sum(i.memSize() + i.diskSize() for i in context.getRDDStorageInfo())

    before = stored()
    result = DataProcessor(_contract(tmp_path), engine).run_source(_source(tmp_path), write=False)
    assert result.rows_quarantined == FAILING
    size = stored() - before
    assert size < BOUND, f"spark: the checkpoint holds {size} bytes (old layout: {OLD_SIZE})"


@pytest.mark.parametrize("engine", [*ENGINES, pytest.param("spark", marks=pytest.mark.spark)])
def test_written_reasons_read_back_with_full_text(engine: str, tmp_path: Path) -> None:
    processor = DataProcessor(_contract(tmp_path), _engine(engine))
    source = _source(tmp_path)
    processor.run_source(source, output=tmp_path / "v.parquet", quarantine=tmp_path / "q.parquet")
    rows = pq.read_table(tmp_path / "q.parquet").column(REASONS).to_pylist()
    assert len(rows) == FAILING
    expected = {
        "rule_id": "code_known",
        "rule": RULE,
        "column": "code",
        "message": f"violates {RULE}",
        "severity": "error",
    }
    assert all(len(r) == 1 and {**r[0], "value": None} == {**expected, "value": None} for r in rows)
    assert {r[0]["value"] for r in rows} == {f"X{i}" for i in range(0, 2 * FAILING, 2)}

    processor.run_source(source, output=tmp_path / "v.json", quarantine=tmp_path / "q.json")
    first = _first_json_reasons(tmp_path / "q.json")
    assert first[0]["rule"] == RULE and first[0]["message"] == f"violates {RULE}"


def _first_json_reasons(path: Path) -> list[dict[str, Any]]:
    """The reasons of the first quarantined row of a JSON output (NDJSON or a JSON array; the
    reasons as nested objects or as their JSON text)."""
    text = path.read_text().lstrip()
    row = json.loads(text)[0] if text.startswith("[") else json.loads(text.splitlines()[0])
    reasons = row[REASONS]
    return json.loads(reasons) if isinstance(reasons, str) else reasons


def _plain(kind: pa.DataType) -> pa.DataType:
    """The type with Arrow's 64-bit offset variants named as the 32-bit ones: Parquet stores both
    the same way (Polars always declares the large ones, for every column), readers map both to
    one string / list type."""
    if pa.types.is_large_string(kind):
        return pa.string()
    if pa.types.is_large_list(kind) or pa.types.is_list(kind):
        return pa.list_(_plain(kind.value_type))
    if pa.types.is_struct(kind):
        return pa.struct([pa.field(f.name, _plain(f.type)) for f in kind])
    return kind


DOCUMENTED_REASON = pa.list_(
    pa.struct(
        [
            pa.field(name, pa.string())
            for name in ("rule_id", "rule", "column", "value", "message", "severity")
        ]
    )
)


def test_quarantine_parquet_schema_is_plain_strings_on_every_engine(tmp_path: Path) -> None:
    """The in-memory dictionary (Categorical / Arrow dictionary / ENUM) is not the file layout:
    every engine writes `list<struct<6 x string>>`, so files from different engines (and from
    before the memory fix) read together."""
    files = {}
    for engine in ENGINES:
        folder = tmp_path / engine
        folder.mkdir()
        processor = DataProcessor(_contract(folder), _engine(engine))
        files[engine] = folder / "q.parquet"
        processor.run_source(_source(folder), output=folder / "v.parquet", quarantine=files[engine])
    for engine, path in files.items():
        kind = pq.read_schema(path).field(REASONS).type
        assert _plain(kind) == DOCUMENTED_REASON, f"{engine} wrote {kind}"
    import polars as pl

    both = pl.scan_parquet([files["polars"], files["pandas"], files["duckdb"]]).collect()
    assert both.height == 3 * FAILING
    assert both.schema[REASONS] == pl.List(
        pl.Struct(
            dict.fromkeys(("rule_id", "rule", "column", "value", "message", "severity"), pl.String)
        )
    )


@pytest.mark.spark
def test_spark_quarantine_parquet_schema_is_the_documented_layout(tmp_path: Path) -> None:
    processor = DataProcessor(_contract(tmp_path), _engine("spark"))
    path = tmp_path / "q.parquet"
    processor.run_source(_source(tmp_path), output=tmp_path / "v.parquet", quarantine=path)
    kind = pq.read_schema(path).field(REASONS).type
    assert _plain(kind) == DOCUMENTED_REASON, f"spark wrote {kind}"
