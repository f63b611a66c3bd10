"""Both written outputs keep the source's row order on every engine, whatever checks ran: also a
`unique` check, which compares rows with each other (Spark: a window, a shuffle by key; DuckDB: a
sort), and a source of several files (Spark: several partitions)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from meshc import DataProcessor

CONTRACT = """\
info: {version: 1, name: orders, domain: crm}
model:
  fields:
    - {name: row, type: integer}
    - {name: id, type: string, unique: true}
    - {name: amount, type: integer, min: 0}
"""

# ids fall as the files go on: an output grouped or sorted by id would come out backwards;
# ids z and w repeat (rows 1, 5 and 3, 7) and row 6 fails `min`
FILES = {
    "a.csv": [("0", "z9"), ("1", "z"), ("2", "y"), ("3", "w")],
    "b.csv": [("4", "x"), ("5", "z"), ("6", "v"), ("7", "w"), ("8", "u")],
}


def _write_source(folder: Path) -> None:
    folder.mkdir()
    for name, rows in FILES.items():
        amounts = {"6": "-1"}
        lines = [f"{row},{key},{amounts.get(row, '10')}" for row, key in rows]
        (folder / name).write_text("row,id,amount\n" + "\n".join(lines) + "\n")


def test_written_outputs_keep_the_source_order_with_a_unique_check(
    engine: Any, tmp_path: Path
) -> None:
    (tmp_path / "c.yaml").write_text(textwrap.dedent(CONTRACT))
    _write_source(tmp_path / "src")
    valid, quarantine = tmp_path / "out" / "valid.parquet", tmp_path / "out" / "q.parquet"
    with DataProcessor(tmp_path / "c.yaml", engine=engine, root=tmp_path) as processor:
        result = processor.run_source(
            str(tmp_path / "src" / "*.csv"), output=valid, quarantine=quarantine
        )
    assert (result.rows_in, result.rows_valid, result.rows_quarantined) == (9, 4, 5)
    assert pq.read_table(valid).column("row").to_pylist() == [0, 2, 4, 8]
    assert pq.read_table(quarantine).column("row").to_pylist() == ["1", "3", "5", "6", "7"]
