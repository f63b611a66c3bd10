"""The streamed split: one pass of the validation query, both outputs written as its rows come.

`DuckDBEngine.validate_streaming` reads the `final` stage of the validation query (split.py) once,
as Arrow record batches, and writes each batch's valid rows and quarantined rows to two Parquet
spill files, counting the flags on the way: no temporary table of the input, no second pass for
the counts, memory bounded by a few batches whatever the source size. The spill files are then
the outputs: `write` links them into place when the target is Parquet and the frame is the one
validate_streaming returned. A written run with masking folds the masks into the same query
(`validate_streaming_masked`), so its outputs too are written once; `mask` on a streamed output
makes a new relation, written by COPY as usual.

The files are written like DuckDB's own COPY writes them: no Arrow schema stored, so an ENUM
(the reasons' texts, an Arrow dictionary) reads back as plain strings, dictionary-encoded on disk.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlglot import exp

from meshc.engines import spec, spill_dir
from meshc.engines import sql_trees as sb
from meshc.errors import SourceError, WriteError

BATCH_ROWS = 122_880  # DuckDB's row group size: a batch per row group of its own


@dataclass(frozen=True)
class Layout:
    """The stream query's columns: each output's (internal name, output name) pairs, then the
    counted flags (split.counted_flags: quarantine first)."""

    valid: tuple[tuple[str, str], ...]
    quarantine: tuple[tuple[str, str], ...]
    flags: tuple[str, ...]


def stream_query(
    final: exp.Select,
    valid_items: list[exp.Expression],
    quarantine_items: list[exp.Expression],
    flags: list[str],
    order_by: str | None = None,
) -> tuple[exp.Select, Layout]:
    """One SELECT over `final` holding both outputs' columns (under internal names: the two share
    column names) and the flags, ordered by `order_by` if given. The quarantine's columns are NULL
    on valid rows, so the text of rows that stay valid is never exported."""
    quarantined = sb.col(flags[0])
    items: list[exp.Expression] = []
    valid, quarantine = [], []
    for k, item in enumerate(valid_items):
        name = spec.internal("out_v", k)
        items.append(sb.alias(_unaliased(item), name))
        valid.append((name, item.alias_or_name))
    for k, item in enumerate(quarantine_items):
        name = spec.internal("out_q", k)
        items.append(sb.alias(sb.case([(quarantined, _unaliased(item))]), name))
        quarantine.append((name, item.alias_or_name))
    items += [sb.col(f) for f in flags]
    subquery = exp.Subquery(this=final, alias=exp.TableAlias(this=sb.ident("final")))
    query = sb.select(*items).from_(subquery)
    if order_by is not None:
        query = query.order_by(exp.Ordered(this=sb.col(order_by)))
    return query, Layout(tuple(valid), tuple(quarantine), tuple(flags))


def _unaliased(item: exp.Expression) -> exp.Expression:
    return item.this if isinstance(item, exp.Alias) else item


def stream_split(
    con: duckdb.DuckDBPyConnection,
    query: exp.Select,
    layout: Layout,
    paths: tuple[Path, Path],
    params: Mapping[str, object] | None = None,
) -> list[int]:
    """Run `query` once (binding `params`: the masking key's, see mask.py), writing its valid
    and quarantined rows to the two files (`paths`); the number of rows, then per flag of the
    layout the rows where it is TRUE."""
    valid_path, quarantine_path = paths
    relation = con.sql(sb.render(query), params=dict(params) if params else None)
    reader = relation.to_arrow_reader(BATCH_ROWS)
    counts = [0] * (1 + len(layout.flags))
    try:
        with (
            _writer(valid_path, reader.schema, layout.valid) as valid,
            _writer(quarantine_path, reader.schema, layout.quarantine) as quarantine,
        ):
            for batch in _batches(reader):
                flags = [batch.column(f) for f in layout.flags]
                counts[0] += batch.num_rows
                for k, flag in enumerate(flags, start=1):
                    counts[k] += pc.sum(flag).as_py() or 0
                valid.write(batch, pc.invert(flags[0]))
                quarantine.write(batch, flags[0])
    finally:
        reader.close()
    return counts


def _batches(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """The reader's batches. DuckDB reports an error of the running query through the Arrow
    stream as an OSError; it is the query's, not a file's."""
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except OSError as exc:
            raise SourceError(f"cannot validate the source: {exc}") from None
        yield batch


class _writer:
    """Some columns of each batch, renamed, filtered, appended to one Parquet file; a file that
    cannot be written is a failure of the temp dir (spill_failed)."""

    def __init__(self, path: Path, schema: pa.Schema, columns: tuple[tuple[str, str], ...]):
        self.names = [internal for internal, _ in columns]
        fields = [schema.field(internal).with_name(name) for internal, name in columns]
        self.schema = pa.schema(fields)
        try:
            self.file = pq.ParquetWriter(
                path, self.schema, store_schema=False, compression=spec.PARQUET_COMPRESSION
            )
        except OSError as exc:
            raise spill_failed(exc) from exc

    def write(self, batch: pa.RecordBatch, keep: pa.BooleanArray) -> None:
        part = pa.RecordBatch.from_arrays([batch.column(n) for n in self.names], schema=self.schema)
        part = part.filter(keep)
        if part.num_rows:
            try:
                self.file.write_batch(part)
            except OSError as exc:
                raise spill_failed(exc) from exc

    def __enter__(self) -> _writer:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.file.close()
        except OSError as error:
            if exc[0] is None:  # else the error already raised says more
                raise spill_failed(error) from error


class SpillDir:
    """The engine's spill folder (a locked `meshc.engines.spill_dir.SpillDir` under TMPDIR, so a
    killed run's folder is swept by the next one) for its spill files and DuckDB's own temp
    files, made on first use; removed by `remove` (the engine's `close`), or when collected."""

    def __init__(self) -> None:
        self._folder: spill_dir.SpillDir | None = None
        self._names = 0

    @property
    def path(self) -> Path:
        if self._folder is None:
            try:
                self._folder = spill_dir.SpillDir()
            except OSError as exc:
                raise spill_failed(exc) from exc
        return self._folder.path

    def fresh(self, name: str) -> Path:
        """A path named `name` in a new subfolder."""
        self._names += 1
        folder = self.path / f"split-{self._names}"
        try:
            folder.mkdir()
        except OSError as exc:
            raise spill_failed(exc) from exc
        return folder / name

    def remove(self) -> None:
        if self._folder is not None:
            self._folder.remove()


def spill_failed(exc: OSError) -> WriteError:
    """A spill file that cannot be written is a failure of the temp dir, not of the source."""
    reason = exc.strerror or str(exc)
    return WriteError(
        f"cannot write temporary files in {tempfile.gettempdir()}: {reason} "
        "(free space there or set TMPDIR to a folder with room); nothing was written"
    )


def link_or_copy(source: Path, target: Path) -> None:
    """`target` becomes a file with `source`'s bytes: a hard link, or a copy across file systems."""
    try:
        os.link(source, target)
    except OSError:
        try:
            shutil.copyfile(source, target)
        except OSError as exc:
            raise WriteError(f"cannot write {target}: {exc.strerror or exc}") from exc
