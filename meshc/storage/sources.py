"""A source Location -> local files an engine reads, and the datasets lineage names as inputs.

Local files are used where they are. Other storage is brought to the spool first, in bounded
memory (streamed), so every engine reads it with its own Parquet/CSV reader and splits it exactly
as it splits a local file: objects are downloaded as they are; a Delta table's current version and
a database table or query are exported to Parquet (typed, like any Parquet source).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meshc.errors import SourceError
from meshc.storage.location import Location
from meshc.storage.spool import Spool
from meshc.storage.support import reach


@dataclass(frozen=True)
class LocalFiles:
    paths: tuple[str, ...]  # absolute
    format: str  # csv, parquet, json, ndjson
    # lineage inputs: {"namespace", "name", "format", ...; "version" for a Delta table}
    inputs: list[dict[str, Any]] = field(default_factory=list)


def refuse_unreachable(engine: str, location: Location, at: str = "") -> None:
    """SourceError before anything is read when `engine` cannot reach `location`; `at`: where
    the contract declares it (`declared_at`)."""
    found = reach(engine, location)
    if not found.supported:
        raise SourceError(f"{at}the {engine} engine cannot read {location.text}: {found.how}")


def declared_at(locator: Any, section: str, location: Location) -> str:
    """'file:line:col: ' of the contract key that chose `location`'s storage (`format: delta`,
    else the path, target or connection) in `section`, for a run-time error; '' when unknown."""
    if locator is None:
        return ""
    keys = ("format",) if location.kind == "delta" else ()
    for key in (*keys, "path", "target", "connection"):
        if (section, key) in locator.values or (section, key) in locator.keys:
            line, col = locator.value((section, key))
            return f"{locator.path}:{line}:{col}: "
    return ""


def fetch(location: Location, spool: Spool, progress: Any = None) -> LocalFiles:
    """The files to read for `location` (fetched into `spool` unless they are local)."""
    if location.kind == "table":
        from meshc.storage import database

        return database.fetch(location, spool)
    if location.kind == "delta":
        from meshc.storage import delta

        return delta.fetch(location, spool)
    if location.on_object_store:
        from meshc.storage import objects

        return objects.fetch(location, spool)
    return _local(location)


def _local(location: Location) -> LocalFiles:
    from pathlib import Path

    from meshc.lineage.naming import file_dataset
    from meshc.runner.sources import resolve_source

    resolved = resolve_source(location.url, location.format)
    inputs = [{**file_dataset(Path(p)), "format": resolved.format} for p in resolved.paths]
    return LocalFiles(resolved.paths, resolved.format, inputs)
