"""The floor of benchmarks/bench_engines.py: the source copied to Parquet with no checks at all
(read as text, one streaming sink), so a table can show what the checks cost above it.

    python benchmarks/copy_polars.py SOURCE.csv|SOURCE.parquet OUT.parquet
"""

from __future__ import annotations

import sys

import polars as pl

if __name__ == "__main__":
    source, out = sys.argv[1:3]
    if source.endswith(".parquet"):
        pl.scan_parquet(source).sink_parquet(out)
    else:
        pl.scan_csv(source, infer_schema=False).sink_parquet(out)
