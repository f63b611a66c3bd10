"""Reading sources into LazyFrames and writing one output file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import polars as pl
from polars.datatypes import DataTypeClass

from meshc.engines import sourcespec, spec
from meshc.engines.base import REASONS
from meshc.errors import SourceError, WriteError

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


def read(
    paths: Sequence[str],
    fmt: str,
    *,
    delimiter: str = ",",
    header: bool = True,
    text_columns: Sequence[str] = (),
) -> pl.LazyFrame:
    # empty lines: this reader asks sourcespec about them next (see _scan_csv / _read_csv)
    fmt, found = spec.source_files(
        paths, fmt, delimiter=delimiter, header=header, required=text_columns, empty_lines=True
    )
    try:
        frame = _scan(list(paths), fmt, delimiter, header)
        if fmt == "parquet":  # meshc reads flat columns only (sourcespec)
            frame = frame.drop(sourcespec.unread_columns(found))
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise SourceError(f"cannot read {fmt} source {', '.join(paths)}: {exc}") from exc
    return frame


def _scan(paths: list[str], fmt: str, delimiter: str, header: bool) -> pl.LazyFrame:
    if fmt == "csv":
        frames = [_scan_csv(p, delimiter, header) for p in paths]
        return frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    if fmt == "parquet":
        return pl.scan_parquet(paths)
    if fmt in ("json", "ndjson"):
        # meshc's own JSON reader: numbers keep their source text, objects their JSON text
        frames = [pl.DataFrame(sourcespec.read_json_table(p)).lazy() for p in paths]
        return frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    raise AssertionError(fmt)  # spec.source_files refuses unknown formats


def _scan_csv(path: str, delimiter: str, header: bool) -> pl.LazyFrame:
    if sourcespec.has_empty_lines(path, delimiter=delimiter, header=header):
        # Polars reads an empty line as a row of '' (indistinguishable from a row of empty
        # cells); an empty line is no row (sourcespec), so such a file is read through Arrow
        table = sourcespec.read_csv_text(path, delimiter=delimiter, header=header)
        if not header:  # Polars' positional names
            table = table.rename_columns([f"column_{i + 1}" for i in range(table.num_columns)])
        return pl.DataFrame(table).lazy()
    # infer_schema=False reads every column as String: casting is meshc's job.
    # empty_string_is_null=False: '' is NULL only through plan.null_values.
    return pl.scan_csv(
        path,
        separator=delimiter,
        has_header=header,
        infer_schema=False,
        empty_string_is_null=False,
        null_values=None,
        quote_char=sourcespec.QUOTE,
    )


def write(frame: pl.DataFrame | pl.LazyFrame, path: Path, fmt: str) -> None:
    fmt = (fmt or "parquet").lower()
    if fmt == "parquet" and isinstance(frame, pl.LazyFrame):
        try:  # streamed: a lazy frame is never collected just to be written
            plain_strings(frame).sink_parquet(
                path, compression=spec.PARQUET_COMPRESSION, engine="streaming"
            )
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise WriteError(f"cannot write {path}: {exc}") from exc
        return
    data = plain_strings(frame.collect() if isinstance(frame, pl.LazyFrame) else frame)
    try:
        if fmt == "parquet":
            data.write_parquet(path, compression=spec.PARQUET_COMPRESSION)
        elif fmt == "csv":
            # one column: NULL as `""`, since an empty line is not a row to any reader
            null = '""' if data.width == 1 else ""
            _timestamp_text(_flatten_reasons(data)).write_csv(path, null_value=null)
        elif fmt in ("json", "ndjson"):
            _timestamp_text(_flatten_reasons(data)).write_ndjson(path)
        else:
            raise WriteError(f"unknown output format '{fmt}' (choose parquet, csv or json)")
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise WriteError(f"cannot write {path}: {exc}") from exc


def plain_strings(frame: FrameT) -> FrameT:
    """Categorical text (the reasons' rule and message, held once per rule in memory) cast back
    to String, so every engine writes the documented layout (docs/semantics.md); a lazy cast,
    so a streamed write stays streamed, and Parquet's dictionary encoding keeps the file small."""
    schema = frame.collect_schema()
    casts = [pl.col(n).cast(_plain(t)) for n, t in schema.items() if _plain(t) != t]
    return frame.with_columns(casts) if casts else frame


def _plain(dtype: pl.DataType | DataTypeClass) -> pl.DataType | DataTypeClass:
    if isinstance(dtype, (pl.Categorical, pl.Enum)):
        return pl.String()
    if isinstance(dtype, pl.List):
        return pl.List(_plain(dtype.inner))
    if isinstance(dtype, pl.Struct):
        return pl.Struct({f.name: _plain(f.dtype) for f in dtype.fields})
    return dtype


def _timestamp_text(data: pl.DataFrame) -> pl.DataFrame:
    """Timestamps as the text every engine writes to CSV and JSON: ISO with a 'T', six fraction
    digits, UTC instants with 'Z' (Polars' CSV default '+0000' is not a form meshc reads back,
    and write_ndjson has its own, shorter text)."""
    return data.with_columns(
        _iso(pl.col(name), dtype)
        for name, dtype in data.schema.items()
        if isinstance(dtype, pl.Datetime)
    )


def _iso(column: pl.Expr, dtype: pl.Datetime) -> pl.Expr:
    if dtype.time_zone is None:
        return column.dt.strftime("%Y-%m-%dT%H:%M:%S%.6f")
    return column.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")


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
