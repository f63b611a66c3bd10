"""Spill files: where a streamed validation writes its outputs before the runner commits them.

`PolarsEngine.validate_streaming` writes the valid rows and the quarantine into a fresh temporary
directory (under TMPDIR) and returns lazy scans of those files. The engine owns the directory
through its `Spills`: the folders it created and, for each scan it returned, the spilled file it
reads (so that `write` can link that file into place). Nothing is attached to a frame. The folders
are removed when the engine is closed (its frames are unreadable afterwards, as a DuckDB relation
is once its connection is closed); as safety nets, when the engine is garbage-collected or at exit
(SIGTERM included: the CLI turns it into an exit).

Its owner holds `fcntl.flock` on `.owner.lock` inside it for the directory's whole life (the lock
is taken under a hidden name, then the directory is renamed to `meshc-spill-<pid>-<random>`), so
a folder left by a killed process (SIGKILL: the kernel released its lock) is removed by the next
streamed validation, and a live process's folder is never touched, whatever PID namespace it runs
in (the pid in the name is for people only). A folder without a lock file (an older meshc, no
`fcntl`) is removed once it is older than `commit.OWNER_GRACE_SECONDS`. Writing an unmodified
scan to Parquet hard-links (or, across file systems, copies) the spilled file instead of decoding
and re-encoding it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from meshc.runner.commit import hold_owner_lock, new_token, older_than_grace, owner_gone

_PREFIX = "meshc-spill-"
_LOCK = ".owner.lock"


class SpillDir:
    """A temporary directory, locked by its owner, removed by `remove` (or when collected)."""

    def __init__(self) -> None:
        sweep_stale()
        fresh = Path(tempfile.mkdtemp(prefix=f".{_PREFIX}new-"))  # not swept while unlocked
        try:
            fd = hold_owner_lock(fresh / _LOCK)
        except BaseException:
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        self.path = fresh.with_name(f"{_PREFIX}{new_token()}")
        os.rename(fresh, self.path)
        self._remove = weakref.finalize(self, _remove, self.path, fd)

    def remove(self) -> None:
        """Remove the directory now (idempotent: a finalizer runs at most once)."""
        self._remove()


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


def _remove(path: Path, lock_fd: int) -> None:
    shutil.rmtree(path, ignore_errors=True)
    os.close(lock_fd)  # only once the folder is gone


def sweep_stale(folder: Path | None = None) -> None:
    """Remove spill folders whose owner has finished (killed before its cleanup)."""
    base = folder or Path(tempfile.gettempdir())
    for entry in base.glob(f"{_PREFIX}*"):
        if entry.is_dir() and not entry.is_symlink() and owner_gone(entry / _LOCK, entry):
            shutil.rmtree(entry, ignore_errors=True)
    for entry in base.glob(f".{_PREFIX}new-*"):  # killed before its rename: only age tells
        if entry.is_dir() and older_than_grace(entry):
            shutil.rmtree(entry, ignore_errors=True)
