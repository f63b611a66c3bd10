"""Reading sources into Spark DataFrames and writing exactly one output file."""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Sequence
from functools import reduce
from pathlib import Path

from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from meshc.engines import sourcespec, spec
from meshc.engines._spark.translate import quote
from meshc.engines.base import REASONS
from meshc.errors import SourceError, WriteError

# spec.NO_NULL_TEXT as nullValue keeps a quoted "" as ''. An unquoted empty field still comes back
# NULL (the parser maps it to nullValue before Spark sees it): CSV has no NULL, so every NULL is
# turned back into '' and plan.null_values alone decides what is NULL.
_TIMESTAMP_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"
_TIMESTAMP_NTZ_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSSSS"


def read(
    spark: SparkSession,
    paths: Sequence[str],
    fmt: str,
    *,
    delimiter: str = ",",
    header: bool = True,
    required: Sequence[str] = (),
) -> DataFrame:
    """All files, concatenated by column name; `required` (the contract columns) must be in
    every CSV and Parquet file (sourcespec)."""
    # empty lines: this reader asks sourcespec about them next (see _scan_csv / _read_csv)
    fmt, found = spec.source_files(
        paths, fmt, delimiter=delimiter, header=header, required=required, empty_lines=True
    )
    try:
        frames = [_read_one(spark, p, fmt, delimiter, header, found.get(p, ())) for p in paths]
        if fmt == "parquet":  # meshc reads flat columns only (sourcespec)
            frames = [f.drop(*sourcespec.unread_columns(found)) for f in frames]
    except (OSError, PySparkException) as exc:
        raise SourceError(f"cannot read {fmt} source {', '.join(paths)}: {exc}") from exc
    frame = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)
    return frame


def _read_one(
    spark: SparkSession, path: str, fmt: str, delimiter: str, header: bool, checked: Sequence[str]
) -> DataFrame:
    if fmt == "csv":
        names = _csv_names(path, delimiter, header, checked)
        return _read_csv(spark, path, delimiter, header, names)
    if fmt == "parquet":
        return spark.read.parquet(path)
    if fmt in ("json", "ndjson"):
        return _read_json(spark, path)
    raise AssertionError(fmt)  # spec.source_files refuses unknown formats


def _read_csv(
    spark: SparkSession, path: str, delimiter: str, header: bool, names: Sequence[str]
) -> DataFrame:
    """An explicit all-string schema from the header line: no inference, casting is ours.
    Spark's reader, like sourcespec, skips empty lines, before the header too. Spark turns
    bytes that are not UTF-8 into U+FFFD silently: sourcespec's check refused such a file."""
    schema = T.StructType([T.StructField(n, T.StringType()) for n in names])
    if sourcespec.mixes_line_endings(path, delimiter=delimiter):
        # Spark's reader takes the line ending from the first line and keeps the other's CR in
        # the last value; Arrow's (sourcespec) reads both, on the driver (such files are rare)
        table = sourcespec.read_csv_text(path, delimiter=delimiter, header=header)
        return spark.createDataFrame(table.rename_columns(names).to_pylist(), schema=schema)
    # multiLine makes Spark read the file as one task on one core: only when a value needs it
    multiline = sourcespec.has_quoted_line_breaks(path, delimiter=delimiter, header=header)
    reader = spark.read.schema(schema)
    if multiline and sourcespec.ends_lines_with_crlf(path, delimiter=delimiter):
        # told the line ending, multiLine keeps a quoted CRLF as it is; left to detect it, it
        # turns every quoted CRLF into LF
        reader = reader.option("lineSep", "\r\n")
    frame = (
        reader.option("header", header)
        .option("sep", delimiter)
        .option("mode", "PERMISSIVE")
        .option("quote", '"')
        .option("escape", '"')  # RFC 4180 "" rather than \"
        .option("multiLine", multiline)
        .option("nullValue", spec.NO_NULL_TEXT)
        .option("encoding", "UTF-8")
        .csv(path)
    )
    return frame.select(*[F.coalesce(quote(n), F.lit("")).alias(n) for n in names])


def _csv_names(path: str, delimiter: str, header: bool, checked: Sequence[str]) -> list[str]:
    """The header sourcespec checked (the first line that is not empty, as on every engine);
    without a header, Spark's positional names for as many fields as that line has."""
    if header:
        return list(checked)
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        records = csv.reader(handle, delimiter=delimiter, quotechar=sourcespec.QUOTE)
        width = len(next(r for r in records if r))  # sourcespec refused a file without one
    return [f"_c{i}" for i in range(width)]


def _read_json(spark: SparkSession, path: str) -> DataFrame:
    """meshc's own JSON reader (numbers keep their source text, objects their JSON text); the
    rows are built on the driver, so a JSON source must fit its memory."""
    table = sourcespec.read_json_table(path)
    schema = T.StructType([T.StructField(n, T.StringType()) for n in table.column_names])
    return spark.createDataFrame(table.to_pylist(), schema=schema)


def write(frame: DataFrame, path: Path, fmt: str) -> None:
    """Spark writes directories: one partition into a temp dir, then its part file to `path`."""
    fmt = (fmt or "parquet").lower()
    if fmt == "ndjson":
        fmt = "json"
    if fmt not in ("parquet", "csv", "json"):
        raise WriteError(f"unknown output format '{fmt}' (choose parquet, csv or json)")
    data = frame if fmt == "parquet" else _flatten_reasons(frame)
    path = Path(path)
    staging = Path(tempfile.mkdtemp(prefix=".meshc-spark-", dir=path.parent))
    try:
        _write_dir(data, staging / "out", fmt)
        parts = sorted((staging / "out").glob("part-*"))
        if len(parts) != 1:
            raise WriteError(f"cannot write {path}: Spark wrote {len(parts)} part files")
        shutil.move(str(parts[0]), str(path))
    except (OSError, PySparkException) as exc:
        raise WriteError(f"cannot write {path}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_dir(data: DataFrame, target: Path, fmt: str) -> None:
    writer = data.coalesce(1).write.mode("overwrite").format(fmt)
    if fmt == "csv":
        if len(data.columns) == 1:
            # a NULL alone on its line would be an empty line (Spark writes none at all), which
            # every reader skips: written as "" it reads back as '', NULL under the default
            # null_values, as on every engine (docs/semantics.md)
            writer = writer.option("nullValue", '""')
        writer = (
            writer.option("header", True)
            .option("escape", '"')
            # Spark's writer trims values by default: ' padded ' would be written 'padded'
            .option("ignoreLeadingWhiteSpace", False)
            .option("ignoreTrailingWhiteSpace", False)
            .option("timestampFormat", _TIMESTAMP_FORMAT)
            .option("timestampNTZFormat", _TIMESTAMP_NTZ_FORMAT)
        )
    elif fmt == "json":
        writer = (
            writer.option("ignoreNullFields", False)
            .option("timestampFormat", _TIMESTAMP_FORMAT)
            .option("timestampNTZFormat", _TIMESTAMP_NTZ_FORMAT)
        )
    else:
        writer = writer.option("compression", spec.PARQUET_COMPRESSION)
    writer.save(str(target))


def _flatten_reasons(frame: DataFrame) -> DataFrame:
    """`_meshc_reasons` as a JSON array of objects, for formats without nested columns."""
    if REASONS not in frame.columns:
        return frame
    # ignoreNullFields off: every reason object keeps its 6 keys, a NULL value included
    encoded = F.to_json(F.col(REASONS), {"ignoreNullFields": "false"})
    return frame.withColumn(REASONS, encoded)
