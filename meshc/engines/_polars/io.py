"""Reading sources into LazyFrames and writing one output file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from meshc.engines.base import REASONS
from meshc.errors import SourceError, WriteError

TEXT_FORMATS = ("csv", "json", "ndjson")
# Set on frames read from a text source, whose string columns are subject to null_values;
# Parquet strings are stored values and keep '' as ''.
TEXT_SOURCE_ATTR = "_meshc_text_source"


def read(
    paths: Sequence[str],
    fmt: str,
    *,
    delimiter: str = ",",
    header: bool = True,
    text_columns: Sequence[str] = (),
) -> pl.LazyFrame:
    if not paths:
        raise SourceError("no source files given")
    fmt = fmt.lower()
    try:
        frame = _scan(list(paths), fmt, delimiter, header, text_columns)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise SourceError(f"cannot read {fmt} source {', '.join(paths)}: {exc}") from exc
    setattr(frame, TEXT_SOURCE_ATTR, fmt in TEXT_FORMATS)
    return frame


def _scan(
    paths: list[str], fmt: str, delimiter: str, header: bool, text_columns: Sequence[str]
) -> pl.LazyFrame:
    if fmt == "csv":
        # infer_schema=False reads every column as String: casting is meshc's job.
        # empty_string_is_null=False: '' is NULL only through plan.null_values.
        return pl.scan_csv(
            paths,
            separator=delimiter,
            has_header=header,
            infer_schema=False,
            empty_string_is_null=False,
            null_values=None,
        )
    if fmt == "parquet":
        return pl.scan_parquet(paths)
    if fmt in ("json", "ndjson"):
        frames = [_scan_json(p, text_columns) for p in paths]
        return frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    raise SourceError(f"unknown source format '{fmt}' (choose csv, json, ndjson or parquet)")


def _scan_json(path: str, text_columns: Sequence[str]) -> pl.LazyFrame:
    """A JSON array file (read eagerly: Polars has no lazy reader for it) or NDJSON (lazy).
    The schema is inferred from every record, so a key first seen late is not dropped."""
    overrides: dict[str, Any] = dict.fromkeys(text_columns, pl.String)
    if _is_json_array(path):
        return pl.read_json(
            path, schema_overrides=overrides or None, infer_schema_length=None
        ).lazy()
    return pl.scan_ndjson(path, schema_overrides=overrides or None, infer_schema_length=None)


def _is_json_array(path: str) -> bool:
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(4096), b""):
            stripped = chunk.lstrip()
            if stripped:
                return stripped.startswith(b"[")
    return False


def write(frame: pl.DataFrame | pl.LazyFrame, path: Path, fmt: str) -> None:
    fmt = (fmt or "parquet").lower()
    if fmt == "parquet" and isinstance(frame, pl.LazyFrame):
        try:  # streamed: a lazy frame is never collected just to be written
            frame.sink_parquet(path, engine="streaming")
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise WriteError(f"cannot write {path}: {exc}") from exc
        return
    data = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    try:
        if fmt == "parquet":
            data.write_parquet(path)
        elif fmt == "csv":
            _csv_timestamps(_flatten_reasons(data)).write_csv(path)
        elif fmt in ("json", "ndjson"):
            _flatten_reasons(data).write_ndjson(path)
        else:
            raise WriteError(f"unknown output format '{fmt}' (choose parquet, csv or json)")
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise WriteError(f"cannot write {path}: {exc}") from exc


def _csv_timestamps(data: pl.DataFrame) -> pl.DataFrame:
    """UTC instants as '...Z': Polars' CSV default '+0000' is not a form meshc reads back."""
    aware = [
        name
        for name, dtype in data.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    ]
    return data.with_columns(
        pl.col(name).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        for name in aware
    )


def _flatten_reasons(data: pl.DataFrame) -> pl.DataFrame:
    """`_meshc_reasons` as a JSON array of objects, for formats without nested columns."""
    if REASONS not in data.columns:
        return data
    encoded = pl.concat_str(
        [
            pl.lit("["),
            pl.col(REASONS).list.eval(pl.element().struct.json_encode()).list.join(","),
            pl.lit("]"),
        ]
    )
    return data.with_columns(encoded.alias(REASONS))
