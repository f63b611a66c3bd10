"""Spill files: where a streamed validation writes its outputs before the runner commits them.

`PolarsEngine.validate_streaming` writes the valid rows and the quarantine into a fresh temporary
directory (under TMPDIR) and returns lazy scans of those files. The directory lives as long as a
frame reading from it does (masked frames built on a scan carry it along) and is removed when the
last one is garbage-collected, or at exit (SIGTERM included: the CLI turns it into an exit).

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
from pathlib import Path

import polars as pl

from meshc.runner.commit import hold_owner_lock, new_token, older_than_grace, owner_gone

_KEEP_ALIVE = "_meshc_spill"  # the SpillDir a frame reads from
_FILE = "_meshc_spill_file"  # set only on the unmodified scan of one spilled file
_PREFIX = "meshc-spill-"
_LOCK = ".owner.lock"


class SpillDir:
    """A temporary directory removed with its last reader."""

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
        weakref.finalize(self, _remove, self.path, fd)

    def scan(self, name: str) -> pl.LazyFrame:
        frame = pl.scan_parquet(self.path / name)
        setattr(frame, _KEEP_ALIVE, self)
        setattr(frame, _FILE, self.path / name)
        return frame


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


def carry(source: object, derived: pl.LazyFrame | pl.DataFrame) -> None:
    """A frame derived from a spilled scan keeps the spill directory alive (not its file)."""
    keep = getattr(source, _KEEP_ALIVE, None)
    if keep is not None and derived is not source:
        setattr(derived, _KEEP_ALIVE, keep)


def publish(frame: object, path: Path) -> bool:
    """Put an unmodified spilled file at `path`; False when `frame` is not one."""
    spilled = getattr(frame, _FILE, None)
    if spilled is None:
        return False
    try:
        os.link(spilled, path)
    except OSError:  # another file system, or links not supported
        shutil.copyfile(spilled, path)
    return True
