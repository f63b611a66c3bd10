"""Delta Lake tables, through the `deltalake` library (pip install 'meshc[delta]').

    fetch     a table's current version, exported to one Parquet file in the spool (streamed batch
              by batch), so every engine reads it with its own Parquet reader
    publish   one Delta commit per staged output; when a later commit fails, the tables this run
              already committed are restored to the version they had before it (a table this run
              created is removed), and the run fails with a WriteError saying so

`mode: overwrite` replaces the table's rows and its schema (a contract that gained a column
overwrites as a Parquet file would); `mode: append` needs the table's schema exactly (column names
and Delta types): anything else is refused before any table is committed, never merged or cast.
Tables on object storage take their credentials and endpoint from the standard environment
(AWS_*; docs/storage.md).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshc.errors import MeshcError, SourceError, WriteError
from meshc.storage.location import Location
from meshc.storage.support import REQUIRES

if TYPE_CHECKING:
    from deltalake import DeltaTable

    from meshc.storage.publish import Staged
    from meshc.storage.sources import LocalFiles
    from meshc.storage.spool import Spool


def fetch(location: Location, spool: Spool) -> LocalFiles:
    """The table's current version as one Parquet file; its input names the version read."""
    import pyarrow.parquet as pq

    from meshc.lineage.naming import dataset
    from meshc.storage.sources import LocalFiles

    table = _open(location, SourceError)
    if table is None:
        raise SourceError(
            f"no Delta table at {location.text} (no _delta_log/ there); nothing was read"
        )
    try:
        frames = table.to_pyarrow_dataset()
        file = spool.folder("delta") / "data.parquet"
        with pq.ParquetWriter(file, frames.schema) as writer:
            for batch in frames.to_batches():
                writer.write_batch(batch)
    except Exception as exc:  # deltalake and pyarrow raise their own kinds, OSError included
        raise SourceError(
            f"cannot read the Delta table {location.text}: {_one_line(exc)}; nothing was read"
        ) from exc
    inputs = [{**dataset(location.text), "format": "delta", "version": table.version()}]
    return LocalFiles((str(file),), "parquet", inputs)


@dataclass
class _Commit:
    staged: Staged
    uri: str
    table: DeltaTable | None  # the table as checked; None: the run creates it
    previous: int | None  # its version before this run's commit
    rows: int
    created_folder: bool = False  # a local table whose folder this run made


def publish(staged: Sequence[Staged]) -> dict[str, dict[str, Any]]:
    """role -> {"location", "version", "rows"}: one Delta commit per table, in order."""
    commits = [_prepare(s) for s in staged]  # every refusal before the first commit
    done: list[_Commit] = []
    published: dict[str, dict[str, Any]] = {}
    for commit in commits:
        try:
            version = _write(commit)
        except Exception as exc:  # a commit that failed: deltalake's errors, OSError...
            undone = _undo(done)
            raise WriteError(
                f"cannot commit to the Delta table {commit.staged.location.text}: "
                f"{_one_line(exc)}; {undone}"
            ) from exc
        done.append(commit)
        published[commit.staged.role] = {
            "location": commit.staged.location.text,
            "version": version,
            "rows": commit.rows,
        }
    return published


def _prepare(staged: Staged) -> _Commit:
    """What committing `staged` needs, refused (WriteError) when appending would change the
    table's schema."""
    import pyarrow.parquet as pq

    location = staged.location
    uri = location.url
    if location.local and Path(uri).exists() and not Path(uri).is_dir():
        raise WriteError(f"{uri} is a file, not a Delta table's folder; nothing was written")
    table = _open(location, WriteError)
    staged_file = pq.ParquetFile(staged.file)
    rows = staged_file.metadata.num_rows
    if table is not None and location.mode == "append":
        problem = _schema_change(table, staged_file.schema_arrow)
        if problem:
            raise WriteError(
                f"cannot append to the Delta table {location.text}: {problem}; appending needs "
                "the table's own columns and types (write with mode: overwrite to replace the "
                "schema, or to a new table); nothing was written"
            )
    created = location.local and not Path(uri).exists()
    previous = None if table is None else table.version()
    return _Commit(staged, uri, table, previous, rows, created_folder=created)


def _write(commit: _Commit) -> int:
    """One Delta commit from the staged Parquet file, streamed; the table's new version."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from deltalake import DeltaTable, write_deltalake

    location = commit.staged.location
    source = pq.ParquetFile(commit.staged.file)
    data = pa.RecordBatchReader.from_batches(source.schema_arrow, source.iter_batches())
    options = storage_options(location)
    # an existing table is written through the snapshot whose schema was checked: a concurrent
    # change to it is deltalake's commit conflict, and its version afterwards is this commit's
    table = commit.table
    write_deltalake(
        table if table is not None else commit.uri,
        data,
        mode=location.mode,
        # overwrite replaces the schema too; append was checked to match it exactly
        schema_mode="overwrite" if location.mode == "overwrite" else None,
        storage_options=options,
    )
    return (table or DeltaTable(commit.uri, storage_options=options)).version()


def _undo(done: Sequence[_Commit]) -> str:
    """Put the tables this run committed back as they were; says what happened, for the error."""
    restored: list[str] = []
    failed: list[str] = []
    for commit in reversed(done):
        text = commit.staged.location.text
        try:
            if commit.previous is None:
                _remove_table(commit)
                restored.append(f"{text} (created by this run) removed")
            else:
                from deltalake import DeltaTable

                options = storage_options(commit.staged.location)
                DeltaTable(commit.uri, storage_options=options).restore(commit.previous)
                restored.append(f"{text} restored to version {commit.previous}")
        except Exception as exc:  # report every table, whatever failed
            failed.append(f"{text} could NOT be put back ({_one_line(exc)})")
    if not done:
        return "no table was changed"
    return "; ".join([*restored, *failed])


def _remove_table(commit: _Commit) -> None:
    """Remove a table this run created (its log and data files)."""
    location = commit.staged.location
    if location.local:
        if commit.created_folder:
            shutil.rmtree(commit.uri)
        else:  # the folder was there (empty or not a table): remove only the table's files
            _remove_local_table_files(Path(commit.uri))
        return
    from pyarrow import fs

    filesystem, path = fs.FileSystem.from_uri(commit.uri)
    filesystem.delete_dir(path)


def _remove_local_table_files(folder: Path) -> None:
    from deltalake import DeltaTable

    for uri in DeltaTable(str(folder)).file_uris():
        Path(uri.removeprefix("file://")).unlink(missing_ok=True)
    shutil.rmtree(folder / "_delta_log")


def _schema_change(table: DeltaTable, staged: Any) -> str | None:
    """How `staged` (a pyarrow schema) differs from the table's schema, by Delta type, or None."""
    from deltalake import Schema

    have = {f.name: _type_name(f.type) for f in table.schema().fields}
    given = {f.name: _type_name(f.type) for f in Schema.from_arrow(staged).fields}
    problems = []
    missing = [n for n in have if n not in given]
    new = [n for n in given if n not in have]
    if missing:
        problems.append(f"this run has no column(s) {', '.join(missing)}")
    if new:
        problems.append(f"the table has no column(s) {', '.join(new)}")
    for name in have.keys() & given.keys():
        if have[name] != given[name]:
            problems.append(f"column {name} is {have[name]} in the table, {given[name]} here")
    return "; ".join(sorted(problems)) or None


def _type_name(delta_type: Any) -> str:
    """A Delta type as text: a primitive by name, a nested type as its JSON without nullability
    (which engines' Parquet writers set differently and Delta does not enforce on append)."""
    import json

    parsed = json.loads(delta_type.to_json())
    if isinstance(parsed, str):
        return parsed
    return json.dumps(_without_nullability(parsed), sort_keys=True)


def _without_nullability(node: Any) -> Any:
    if isinstance(node, dict):
        ignored = ("nullable", "containsNull", "valueContainsNull", "metadata")
        return {k: _without_nullability(v) for k, v in node.items() if k not in ignored}
    if isinstance(node, list):
        return [_without_nullability(v) for v in node]
    return node


def _open(location: Location, error: type[MeshcError]) -> DeltaTable | None:
    """The table at `location`, or None when there is none; `error` for everything else."""
    deltalake = _library(error)
    try:
        return deltalake.DeltaTable(location.url, storage_options=storage_options(location))
    except deltalake.exceptions.TableNotFoundError:
        return None
    except Exception as exc:  # unreachable server, no permission, a broken log...
        raise error(f"cannot open the Delta table {location.text}: {_one_line(exc)}") from exc


def _library(error: type[MeshcError]) -> Any:
    try:
        import deltalake
        import deltalake.exceptions  # noqa: F401  (used through the module)
    except ImportError as exc:
        module, extra = REQUIRES["delta"]
        raise error(f"Delta tables need the {module} library: pip install '{extra}'") from exc
    return deltalake


def storage_options(location: Location) -> dict[str, str] | None:
    """What deltalake needs beyond the standard environment, which it reads itself (AWS_*):
    plain http for a local endpoint (AWS_ENDPOINT_URL=http://...), as object stores do locally."""
    if not location.on_object_store:
        return None
    options: dict[str, str] = {}
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if location.scheme == "s3" and endpoint and endpoint.startswith("http://"):
        options["AWS_ALLOW_HTTP"] = "true"
    return options or None


def _one_line(exc: BaseException) -> str:
    """An error as one line: deltalake's errors span lines (a chain of causes, with ANSI colours)
    and may end with a preview of the rows a table refused, which is data, not for a message."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).split("Preview of invalid data")[0]
    parts = [line.strip().lstrip("↳").strip() for line in text.splitlines()]
    joined = ": ".join(p for p in parts if p) or type(exc).__name__
    return joined if len(joined) <= 500 else joined[:500] + "..."
