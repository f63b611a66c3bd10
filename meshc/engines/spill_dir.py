"""Spill folders: the temporary directories (under TMPDIR) where a streamed validation writes its
outputs before the runner commits them, shared by the Polars and DuckDB engines.

A folder is owned by the process that made it, which holds `fcntl.flock` on `.owner.lock` inside
it for the folder's whole life: the lock is taken under a hidden name (`.meshc-spill-new-*`), then
the folder is renamed to `meshc-spill-<pid>-<random>`, so a sweep never sees it unlocked while its
owner lives. The owner removes it (`remove`, the engine's `close`; as safety nets when collected
or at exit). A process killed with SIGKILL removes nothing, but the kernel releases its lock: the
next spill folder any engine makes first sweeps the folders whose lock is free (`sweep_stale`).
A live process's folder is never touched, whatever PID namespace it runs in, and a reused pid
does not matter (the pid in the name is for people only). A folder without a lock file (an older
meshc, whose DuckDB folders were `meshc-duckdb-*`; or no `fcntl`) is removed once it is older
than `commit.OWNER_GRACE_SECONDS`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from pathlib import Path

from meshc.runner.commit import hold_owner_lock, new_token, older_than_grace, owner_gone

PREFIX = "meshc-spill-"
_LEGACY = ("meshc-duckdb-",)  # folders of older versions: no lock file, swept by age only
_LOCK = ".owner.lock"


class SpillDir:
    """A temporary directory, locked by its owner, removed by `remove` (or when collected).
    Raises OSError when TMPDIR cannot hold it."""

    def __init__(self) -> None:
        sweep_stale()
        fresh = Path(tempfile.mkdtemp(prefix=f".{PREFIX}new-"))  # not swept while unlocked
        try:
            fd = hold_owner_lock(fresh / _LOCK)
        except BaseException:
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        self.path = fresh.with_name(f"{PREFIX}{new_token()}")
        try:
            os.rename(fresh, self.path)
        except BaseException:
            _remove(fresh, fd)
            raise
        self._remove = weakref.finalize(self, _remove, self.path, fd)

    def remove(self) -> None:
        """Remove the directory now (idempotent: a finalizer runs at most once)."""
        self._remove()


def _remove(path: Path, lock_fd: int) -> None:
    shutil.rmtree(path, ignore_errors=True)
    os.close(lock_fd)  # only once the folder is gone


def sweep_stale(folder: Path | None = None) -> None:
    """Remove spill folders whose owner has finished (killed before its cleanup)."""
    base = folder or Path(tempfile.gettempdir())
    for prefix in (PREFIX, *_LEGACY):
        for entry in base.glob(f"{prefix}*"):
            if entry.is_dir() and not entry.is_symlink() and owner_gone(entry / _LOCK, entry):
                shutil.rmtree(entry, ignore_errors=True)
    for entry in base.glob(f".{PREFIX}new-*"):  # killed before its rename: only age tells
        if entry.is_dir() and not entry.is_symlink() and older_than_grace(entry):
            shutil.rmtree(entry, ignore_errors=True)
