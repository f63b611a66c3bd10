"""Spill files: where a streamed validation writes its outputs before the runner commits them.

`PolarsEngine.validate_streaming` writes the valid rows and the quarantine into a fresh temporary
directory (under TMPDIR) and returns lazy scans of those files. The engine owns the directory
through its `Spills`: the folders it created and, for each scan it returned, the spilled file it
reads (so that `write` can link that file into place). Nothing is attached to a frame. The folders
are removed when the engine is closed (its frames are unreadable afterwards, as a DuckDB relation
is once its connection is closed); as safety nets, when the engine is garbage-collected or at exit
(SIGTERM included: the CLI turns it into an exit).

The folder itself (its owner lock, and the sweep of folders left by killed processes) is
`meshc.engines.spill_dir.SpillDir`, shared with the DuckDB engine. Writing an unmodified
scan to Parquet hard-links (or, across file systems, copies) the spilled file instead of decoding
and re-encoding it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from meshc.engines.spill_dir import SpillDir, sweep_stale

__all__ = ["SpillDir", "Spills", "sweep_stale"]


@dataclass(frozen=True)
class _Spilled:
    frame: pl.LazyFrame  # held, so that its id() is not reused while it is registered
    file: Path


class Spills:
    """What one engine spilled: its folders (removed by `close`) and, by id() of each scan it
    returned, the file that scan reads unmodified."""

    def __init__(self) -> None:
        self._folders: list[SpillDir] = []
        self._scans: dict[int, _Spilled] = {}

    def folder(self) -> SpillDir:
        """A new spill folder, owned from now on: removed by `close` (or `discard`)."""
        folder = SpillDir()
        self._folders.append(folder)
        return folder

    def discard(self, folder: SpillDir) -> None:
        """Remove a folder that produced nothing (its streaming pass failed)."""
        self._folders.remove(folder)
        folder.remove()

    def scan(self, folder: SpillDir, name: str) -> pl.LazyFrame:
        """A lazy scan of one spilled file, registered so that `publish` knows its file."""
        frame = pl.scan_parquet(folder.path / name)
        self._scans[id(frame)] = _Spilled(frame, folder.path / name)
        return frame

    def publish(self, frame: object, path: Path) -> bool:
        """Put an unmodified spilled file at `path`; False when `frame` is not one (a masked or
        otherwise derived frame is a new object, so it is written the ordinary way)."""
        spilled = self._scans.get(id(frame))
        if spilled is None or spilled.frame is not frame:
            return False
        try:
            os.link(spilled.file, path)
        except OSError:  # another file system, or links not supported
            shutil.copyfile(spilled.file, path)
        return True

    def close(self) -> None:
        """Remove every folder; the frames reading them are unreadable afterwards. Idempotent."""
        self._scans.clear()
        while self._folders:
            self._folders.pop().remove()
