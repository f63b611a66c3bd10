"""Seeded sources for benchmarks/bench_engines.py, generated in chunks (memory bounded by a chunk).

    python benchmarks/datagen.py orders|wide CSV_PATH ROWS     # a CSV of ROWS rows
    python benchmarks/datagen.py orders CSV_PATH --gb 60        # >= 60 GB: 1 GB of rows, repeated
    python benchmarks/datagen.py parquet CSV_PATH PARQUET_PATH  # the same rows as Parquet

The Parquet copy keeps every column as text (the same values, the same failures; an empty cell
becomes a real NULL, as '' is a value in Parquet), written by a streaming Polars query, so a
format's cost is the reader's and not the data's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_run  # noqa: E402  (the orders generator: one chunk of ~1% bad values per column)
import wide_spec as spec  # noqa: E402

WIDE_CHUNK = 200_000


def orders_chunks(rows: int | None, seed: int = 42):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    start = 0
    while rows is None or start < rows:
        n = bench_run.CHUNK if rows is None else min(bench_run.CHUNK, rows - start)
        yield bench_run._chunk(rng, start, n, pl, np)
        start += n


def wide_chunks(rows: int, seed: int = 7):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    for start in range(0, rows, WIDE_CHUNK):
        n = min(WIDE_CHUNK, rows - start)
        yield pl.DataFrame({f.name: _wide_column(rng, f, start, n) for f in spec.FIELDS})


def _wide_column(rng: Any, field: spec.Field, start: int, n: int) -> Any:
    """Good values, then about 0.1% each of a rule violation, a cast failure and an empty cell."""
    name = field.name
    if name == "id":
        good = np.char.add("W-", np.arange(start, start + n).astype(str))
        bad, broken = "W-X", None
    elif field.type == "integer":
        good, bad, broken = rng.integers(0, 1001, n).astype(str), "1001", "1.5"
    elif field.type == "float":
        good, bad, broken = np.round(rng.uniform(0, 1000, n), 2).astype(str), "-0.5", "1,5"
    elif field.type == "date":
        days = rng.integers(0, 1800, n).astype("timedelta64[D]") + np.datetime64(spec.MIN_DATE)
        good, bad, broken = days.astype(str), "2019-12-31", "2021-02-30"
    elif name in ("s01", "s02", "s05"):
        values = {"s01": spec.S01_VALUES, "s02": spec.S02_VALUES, "s05": spec.S05_VALUES}[name]
        good, bad, broken = np.array(values)[rng.integers(0, len(values), n)], "other", None
    elif name == "s03":
        good, bad, broken = (
            np.char.add("note-", rng.integers(0, 9999, n).astype(str)),
            "x" * 20,
            None,
        )
    elif name == "s04":
        letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))[rng.integers(0, 26, (n, 3))]
        good, bad, broken = (
            np.char.add(np.char.add(letters[:, 0], letters[:, 1]), letters[:, 2]),
            "ab",
            None,
        )
    elif name == "email":
        ids = rng.integers(0, 5 * n + 1000, n).astype(str)
        good, bad, broken = np.char.add(np.char.add("user", ids), "@example.com"), "bad-email", None
    elif name == "phone":
        good, bad, broken = rng.integers(10**9, 10**10, n).astype(str), "12345", None
    else:  # full_name
        names = np.array(["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"])
        good, bad, broken = names[rng.integers(0, 4, n)], "X", None
    values = good.astype(object)
    u = rng.random(n)
    values[u < 0.001] = bad
    if broken is not None:
        values[(u >= 0.001) & (u < 0.002)] = broken
    values[u > 0.999] = ""
    return pl.Series(name, values, dtype=pl.String)


def write_csv(path: Path, chunks) -> None:  # type: ignore[no-untyped-def]
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as handle:
        for i, chunk in enumerate(chunks):
            chunk.write_csv(handle, include_header=i == 0)
    os.replace(tmp, path)


def write_csv_of_size(path: Path, gigabytes: float, fresh_gb: float = 1.0) -> None:
    """A CSV of at least `gigabytes` GB: `fresh_gb` GB of generated orders rows, then those rows
    again and again (copied by the kernel) until the file is big enough. Generating every row
    runs at ~15 MB/s on a busy two-core machine (over an hour for 60 GB); a repeated block
    holds the same mix of values and failures, and the orders contract has no uniqueness rule
    that repetition could change."""
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as handle:
        for i, chunk in enumerate(orders_chunks(None)):
            chunk.write_csv(handle, include_header=i == 0)
            if handle.tell() >= min(gigabytes, fresh_gb) * 1e9:
                break
    with open(tmp, "rb") as src:
        header = len(src.readline())
    size = tmp.stat().st_size
    body, end = size - header, size
    with open(tmp, "rb") as src, open(tmp, "r+b") as dst:  # copy_file_range refuses O_APPEND
        while end < gigabytes * 1e9:
            offset, left = header, body
            while left:
                sent = os.copy_file_range(src.fileno(), dst.fileno(), left, offset, end)
                offset, end, left = offset + sent, end + sent, left - sent
    os.replace(tmp, path)


def csv_to_parquet(csv: Path, parquet: Path) -> None:
    tmp = parquet.with_suffix(".tmp")
    text = pl.scan_csv(csv, infer_schema=False)  # polars writes an empty cell as "" (quoted)
    text.with_columns(pl.all().replace("", None)).sink_parquet(tmp)
    os.replace(tmp, parquet)


def main(argv: list[str]) -> None:
    kind, first = argv[0], Path(argv[1])
    if kind == "parquet":
        csv_to_parquet(first, Path(argv[2]))
    elif argv[2] == "--gb":
        write_csv_of_size(first, float(argv[3]))
    else:
        rows = int(argv[2])
        write_csv(first, orders_chunks(rows) if kind == "orders" else wide_chunks(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
