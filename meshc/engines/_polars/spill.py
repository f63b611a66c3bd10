"""Spill files: where a streamed validation writes its outputs before the runner commits them.

`PolarsEngine.validate_streaming` writes the valid rows and the quarantine into a fresh temporary
directory (under TMPDIR) and returns lazy scans of those files. The directory lives as long as a
frame reading from it does (masked frames built on a scan carry it along) and is removed when the
last one is garbage-collected, or at exit (SIGTERM included: the CLI turns it into an exit). Its
name `meshc-spill-<pid>-*` names the owner, so a folder left by a killed process (SIGKILL) is
removed by the next streamed validation; a live process's folder is never touched. Writing an
unmodified scan to Parquet hard-links (or, across file systems, copies) the spilled file instead of
decoding and re-encoding it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import weakref
from pathlib import Path

import polars as pl

_KEEP_ALIVE = "_meshc_spill"  # the SpillDir a frame reads from
_FILE = "_meshc_spill_file"  # set only on the unmodified scan of one spilled file
_PREFIX = "meshc-spill-"
_OWNED = re.compile(rf"^{_PREFIX}(\d+)-")


class SpillDir:
    """A temporary directory removed with its last reader."""

    def __init__(self) -> None:
        sweep_stale()
        self.path = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-"))
        weakref.finalize(self, shutil.rmtree, self.path, ignore_errors=True)

    def scan(self, name: str) -> pl.LazyFrame:
        frame = pl.scan_parquet(self.path / name)
        setattr(frame, _KEEP_ALIVE, self)
        setattr(frame, _FILE, self.path / name)
        return frame


def sweep_stale(folder: Path | None = None) -> None:
    """Remove spill folders of processes that no longer exist (killed before their cleanup)."""
    from meshc.runner.commit import pid_alive

    base = folder or Path(tempfile.gettempdir())
    for entry in base.glob(f"{_PREFIX}*"):
        match = _OWNED.match(entry.name)
        if match and entry.is_dir() and not pid_alive(int(match.group(1))):
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
