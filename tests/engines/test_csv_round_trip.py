"""A CSV meshc writes reads back with every row, on every engine (docs/semantics.md, where CSV
outputs are described): a one-column row holding NULL must not be an empty line, which readers
skip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meshc.engines.registry import ENGINES, get_engine
from meshc.types import INTEGER

from .helpers import plan, rows, run, text_frame

LOCAL_READERS = ("polars", "pandas", "duckdb")


def _read_back(engine: Any, path: Path, name: str) -> dict[str, list[Any]]:
    """Column `name` of `path` as each reader reads it: the engine itself, and every local engine
    (Spark reads only in the Spark cases). '' and NULL are both written as an empty value, and
    read back as '' (NULL under the default null_values), so both are given as None."""
    found = {engine.name: _texts(engine, path, name)}
    for other in LOCAL_READERS:
        if other != engine.name:
            pytest.importorskip(ENGINES[other].library)
            with get_engine(other) as reader:
                found[other] = _texts(reader, path, name)
    return found


def _texts(reader: Any, path: Path, name: str) -> list[Any]:
    back = reader.read([str(path)], "csv", text_columns=[name])
    return [r[name] or None for r in rows(reader, back)]


@pytest.mark.parametrize("texts", [[None], ["1", None, "3"], [None, None], ["", "x", None]])
def test_one_column_csv_keeps_its_null_rows(
    engine: Any, tmp_path: Path, texts: list[str | None]
) -> None:
    out = tmp_path / "one.csv"
    engine.write(text_frame(engine, s=texts), out, "csv")
    assert "\n\n" not in out.read_text()  # no line of the file is empty
    expected = [t or None for t in texts]
    found = _read_back(engine, out, "s")
    assert found == dict.fromkeys(found, expected)


def test_a_typed_one_column_output_round_trips(engine: Any, tmp_path: Path) -> None:
    """A valid output of a one-column contract, as a run writes it, read back as a source."""
    valid = run(engine, text_frame(engine, n=["7", None, "-2"]), plan({"n": INTEGER})).valid
    out = tmp_path / "valid.csv"
    engine.write(valid, out, "csv")
    found = _read_back(engine, out, "n")
    assert found == dict.fromkeys(found, ["7", None, "-2"])
