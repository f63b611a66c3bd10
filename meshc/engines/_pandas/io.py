"""Reading sources and writing outputs.

Text sources (CSV, JSON, NDJSON) are read with every column as text: pandas gets `dtype=str`,
`keep_default_na=False` and `na_filter=False`, so nothing is guessed or turned into NaN (the plan's
`null_values` are applied by the engine, which knows them); JSON goes through meshc's own reader
(`sourcespec.read_json_table`). Parquet keeps its stored types as
arrow-backed columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from meshc.engines import sourcespec, spec
from meshc.engines._pandas.dtypes import STRING_DTYPE
from meshc.engines._pandas.reasons import reasons_to_json
from meshc.engines.base import REASONS
from meshc.errors import SourceError, WriteError


def read(
    paths: Sequence[str],
    fmt: str,
    delimiter: str,
    header: bool,
    required: Sequence[str] = (),
) -> pd.DataFrame:
    """All files, concatenated by column name; `required` (the contract columns) must be in
    every CSV and Parquet file (sourcespec)."""
    fmt, found = spec.source_files(
        paths, fmt, delimiter=delimiter, header=header, required=required
    )
    readers = {
        "csv": lambda p: _read_csv(p, delimiter, header),
        "parquet": _read_parquet,
        "json": _read_json,
        "ndjson": _read_json,
    }
    try:
        frames = [readers[fmt](str(p)) for p in paths]
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise SourceError(f"cannot read {fmt} source: {exc}") from exc
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if fmt == "parquet":  # meshc reads flat columns only (sourcespec)
        frame = frame.drop(columns=sourcespec.unread_columns(found))
    return frame


def _read_csv(path: str, delimiter: str, header: bool) -> pd.DataFrame:
    frame = pd.read_csv(
        path,
        sep=delimiter,
        header=0 if header else None,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        quotechar=sourcespec.QUOTE,
        skip_blank_lines=True,  # an empty line is no row (sourcespec)
    )
    if not header:  # positional names, 1-based like Polars' column_1, column_2, ...
        frame.columns = [f"column_{i + 1}" for i in range(frame.shape[1])]
    return frame.astype(STRING_DTYPE)


def _read_parquet(path: str) -> pd.DataFrame:
    return pq.read_table(path).to_pandas(types_mapper=pd.ArrowDtype)


def _read_json(path: str) -> pd.DataFrame:
    """A JSON array of objects or NDJSON, every value as text by sourcespec's rules."""
    return (
        sourcespec.read_json_table(path).to_pandas(types_mapper=pd.ArrowDtype).astype(STRING_DTYPE)
    )


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)


def write(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    table = to_arrow(frame)
    fmt = fmt.lower()
    try:
        if fmt == "parquet":
            _write_parquet(table, path)
        elif fmt == "csv":
            _write_csv(_flatten(table, temporal_as_text=False), path)
        elif fmt in ("json", "ndjson"):
            _write_ndjson(_flatten(table, temporal_as_text=True), path)
        else:
            raise WriteError(f"unsupported output format '{fmt}' (parquet, csv, json)")
    except (OSError, pa.ArrowException) as exc:
        raise WriteError(f"cannot write {path}: {exc}") from exc


# Rows cast from dictionary to plain text (Parquet) or turned into CSV lines at a time: bounds
# the write's copy of the text.
_BATCH_ROWS = 4096


def _write_parquet(table: pa.Table, path: Path) -> None:
    """Dictionary text (the reasons' rule and message, held once per rule in memory) is written
    as plain strings, the documented layout every engine writes (docs/semantics.md); cast one
    batch at a time, and Parquet's own dictionary encoding keeps the file small."""
    schema = pa.schema([f.with_type(plain_type(f.type)) for f in table.schema])
    if schema == table.schema:
        pq.write_table(table, str(path), compression=spec.PARQUET_COMPRESSION)
        return
    with pq.ParquetWriter(str(path), schema, compression=spec.PARQUET_COMPRESSION) as writer:
        for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
            writer.write_batch(batch.cast(schema))


# What makes a CSV value need quotes (besides being empty): the delimiter, a quote, CR or LF.
_NEEDS_QUOTES = '[,"\r\n]'


def _write_csv(table: pa.Table, path: Path) -> None:
    """CSV as Polars and DuckDB write it (RFC 4180): a value or a header name is quoted only when
    it must be (empty, or holding a comma, a quote, CR or LF), a quote inside doubled, and NULL is
    an empty cell. pyarrow's writer cannot: its 'needed' style quotes every string and every
    header name. So the lines are built with Arrow compute, one batch at a time (values are
    turned into text by the same casts pyarrow's writer uses)."""
    with Path(path).open("wb") as out:
        out.write(_csv_lines([pa.array([name], pa.string()) for name in table.column_names]))
        for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
            out.write(_csv_lines(batch.columns))


def _csv_lines(columns: Sequence[pa.Array]) -> bytes:
    """One CSV line (ending in LF) per row of `columns`. With one column, NULL is written `""`:
    an empty line is not a row to any reader (docs/semantics.md), so the row would be lost."""
    null = '""' if len(columns) == 1 else ""
    cells = [_csv_cells(c, null) for c in columns]
    rows = pc.binary_join_element_wise(*cells, _text(","))
    everything = pa.LargeListArray.from_arrays(pa.array([0, len(rows)], pa.int64()), rows)
    text = pc.binary_join(everything, _text("\n"))[0].as_buffer()
    return (text.to_pybytes() + b"\n") if len(rows) else b""


def _csv_cells(values: pa.Array, null: str) -> pa.Array:
    text = values.cast(pa.large_string())
    doubled, quote = pc.replace_substring(text, '"', '""'), _text('"')
    quoted = pc.binary_join_element_wise(quote, doubled, quote, _text(""))
    empty = pc.equal(pc.binary_length(text), 0)
    needs_quotes = pc.or_(pc.match_substring_regex(text, _NEEDS_QUOTES), empty)
    return pc.fill_null(pc.if_else(needs_quotes, quoted, text), null)


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


def plain_type(kind: pa.DataType) -> pa.DataType:
    """`kind` with every dictionary replaced by its value type (nested ones included)."""
    if pa.types.is_dictionary(kind):
        return plain_type(kind.value_type)
    if pa.types.is_list(kind):
        return pa.list_(kind.value_field.with_type(plain_type(kind.value_type)))
    if pa.types.is_large_list(kind):
        return pa.large_list(kind.value_field.with_type(plain_type(kind.value_type)))
    if pa.types.is_struct(kind):
        return pa.struct([f.with_type(plain_type(f.type)) for f in kind])
    return kind


def _flatten(table: pa.Table, temporal_as_text: bool) -> pa.Table:
    """Reasons as a JSON string; timestamps as the text every engine writes to CSV and JSON
    (ISO with a 'T', six fraction digits, 'Z' for an instant: Arrow's %S carries the fraction);
    for JSON also decimals and dates/times as exact text."""
    for i, field in enumerate(table.schema):
        column = table.column(i)
        if field.name == REASONS:
            table = table.set_column(i, field.name, reasons_to_json(column))
        elif pa.types.is_timestamp(field.type):
            iso = "%Y-%m-%dT%H:%M:%SZ" if field.type.tz else "%Y-%m-%dT%H:%M:%S"
            table = table.set_column(i, field.name, pc.strftime(column, format=iso))
        elif temporal_as_text and (
            pa.types.is_decimal(field.type) or pa.types.is_temporal(field.type)
        ):
            table = table.set_column(i, field.name, column.cast(pa.string()))
    return table


def _write_ndjson(table: pa.Table, path: Path) -> None:
    frame = table.to_pandas(types_mapper=pd.ArrowDtype)
    text = frame.to_json(orient="records", lines=True, force_ascii=False) if len(frame) else ""
    Path(path).write_text(
        text if not text or text.endswith("\n") else text + "\n", encoding="utf-8"
    )
