"""Row keys in, verdict columns out: how external verdicts find their way back to source rows.

A validator reports failing rows by key: the row position on pandas and Polars (whose frames keep
their order), and the `_meshc_row_id` column on Spark (a DataFrame has no positions; the ids are
fixed by a checkpoint so that every later read sees the same ones). `attach` adds one boolean
column per check, TRUE where the validator failed that row, for the engine to split with
`ValidationPlan.verdicts`.

Which validator judges which engine is declared in the registry (meshc.engines.registry); here the
work follows the frame's own library (pandas, Polars, PySpark), never an engine name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshc.emit.gx_emit import ROW_ID

Failures = Mapping[int, list[str]]


def _library(frame: Any) -> str:
    """The top-level package of the frame's class: pandas, polars or pyspark."""
    return type(frame).__module__.partition(".")[0]


def key_columns(frame: Any) -> tuple[str, ...]:
    """The internal columns `keyed` adds to this frame (a row id where frames have no order)."""
    return (ROW_ID,) if _library(frame) == "pyspark" else ()


def keyed(frame: Any) -> Any:
    """The source frame, in memory and ready to be keyed by row (see the module docstring)."""
    library = _library(frame)
    if library == "pandas":
        return frame.reset_index(drop=True)
    if library == "polars":
        import polars as pl

        return frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    from pyspark.sql import functions as F

    if ROW_ID in frame.columns:
        from meshc.errors import SourceError

        raise SourceError(
            f"the source has a column named {ROW_ID}, which --validator uses for row ids; "
            "rename it or run without --validator"
        )
    return frame.withColumn(ROW_ID, F.monotonically_increasing_id()).localCheckpoint(eager=True)


def attach(frame: Any, failures: Failures, columns: Mapping[str, str]) -> Any:
    """`frame` (from `keyed`) plus, per check id in `columns`, its verdict column."""
    library = _library(frame)
    if library == "pandas":
        return frame.assign(
            **{col: _mask(failures, cid, len(frame)) for cid, col in columns.items()}
        )
    if library == "polars":
        import polars as pl

        masks = [pl.Series(col, _mask(failures, cid, frame.height)) for cid, col in columns.items()]
        return frame.with_columns(masks)
    return _spark_attach(frame, failures, columns)


def _mask(failures: Failures, check_id: str, rows: int) -> Any:
    import numpy as np

    mask = np.zeros(rows, dtype=bool)
    mask[[row for row, ids in failures.items() if check_id in ids]] = True
    return mask


def _spark_attach(frame: Any, failures: Failures, columns: Mapping[str, str]) -> Any:
    """A left join on the row id with a small frame of the failing rows, back in source order."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    schema = T.StructType(
        [T.StructField(ROW_ID, T.LongType(), False)]
        + [T.StructField(col, T.BooleanType(), False) for col in columns.values()]
    )
    rows = [(row, *(cid in ids for cid in columns)) for row, ids in sorted(failures.items())]
    verdicts = frame.sparkSession.createDataFrame(rows, schema)
    joined = frame.join(verdicts, on=ROW_ID, how="left")
    filled = joined.select(
        *(F.col(f"`{c}`") for c in frame.columns),
        *(F.coalesce(F.col(col), F.lit(False)).alias(col) for col in columns.values()),
    )
    return filled.orderBy(ROW_ID)
