"""Staged output files -> their targets, when the run commits (after every write succeeded, before
the run's local files and records are renamed into place).

    database tables   every table of one connection in one transaction (valid and quarantine
                      appear together or not at all)
    Delta tables      one Delta commit per table; when a later one fails, the tables already
                      committed by this run are restored to the version they had before it
    objects           one complete upload per object (an object store replaces an object
                      atomically; two objects are not one transaction: docs/storage.md)

A failure raises WriteError naming the target, with the previous data in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshc.storage.location import Location


@dataclass(frozen=True)
class Staged:
    role: str  # "valid" | "quarantine"
    location: Location
    file: Path  # what the engine wrote: Parquet for tables, the target's own format for objects
    format: str  # the staged file's format


def staged_format(location: Location) -> str:
    """The format the engine writes for `location` (Parquet for any table)."""
    if location.kind in ("table", "delta"):
        return "parquet"
    return location.format or "parquet"


def publish(staged: Sequence[Staged]) -> dict[str, dict[str, Any]]:
    """role -> what was written: {"location": text, "rows": n?, "version": n (Delta)}."""
    done: dict[str, dict[str, Any]] = {}
    tables = [s for s in staged if s.location.kind == "table"]
    deltas = [s for s in staged if s.location.kind == "delta"]
    objects = [s for s in staged if s.location.kind == "files"]
    if tables:
        from meshc.storage import database

        done.update(database.publish(tables))
    if deltas:
        from meshc.storage import delta

        done.update(delta.publish(deltas))
    if objects:
        from meshc.storage import objects as objects_store

        done.update(objects_store.publish(objects))
    return done
