"""Run a benchmark child under a memory limit, with the kernel's memory cgroups.

A source "larger than RAM" proves bounded memory only when the process could not have held it: a
cgroup limit far below the source size makes that a fact instead of an inference (a process that
needs more anonymous memory than the limit is killed by the kernel's OOM killer; the page cache
it fills while reading is reclaimed within the limit, not counted against the process). cgroup v2
(a writable unified hierarchy with the memory controller) is used when present, else v1's memory
hierarchy. Each run gets its own group, removed afterwards.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

V2 = Path("/sys/fs/cgroup")
V1 = Path("/sys/fs/cgroup/memory")


class MemoryCapError(RuntimeError):
    """No writable memory cgroup on this machine (not root, or no memory controller)."""


class MemoryCap:
    """One memory cgroup limited to `limit_bytes`; `enter` (a preexec_fn) moves the child in."""

    def __init__(self, limit_bytes: int, name: str) -> None:
        self.limit = limit_bytes
        if (V2 / "cgroup.controllers").exists() and "memory" in (
            V2 / "cgroup.controllers"
        ).read_text().split():
            self.path, limit_file, self.peak_file = V2 / name, "memory.max", "memory.peak"
        elif (V1 / "memory.limit_in_bytes").exists():
            self.path, limit_file = V1 / name, "memory.limit_in_bytes"
            self.peak_file = "memory.max_usage_in_bytes"
        else:
            raise MemoryCapError("no memory cgroup hierarchy under /sys/fs/cgroup")
        try:
            self.path.mkdir(exist_ok=True)
            (self.path / limit_file).write_text(str(limit_bytes))
        except OSError as exc:
            raise MemoryCapError(f"cannot create a memory cgroup at {self.path}: {exc}") from exc
        self._procs = str(self.path / "cgroup.procs")

    def enter(self) -> None:
        """In the forked child, before exec: join the group (the exec'd program inherits it)."""
        with open(self._procs, "w") as procs:
            procs.write(str(os.getpid()))

    def peak_mb(self) -> float | None:
        """The group's peak usage (resident memory plus page cache), when the kernel keeps it."""
        try:
            return int((self.path / self.peak_file).read_text()) / 2**20
        except (OSError, ValueError):
            return None

    def remove(self) -> None:
        # OSError: a stray child is still a member; the group goes when the last one exits
        with contextlib.suppress(OSError):
            self.path.rmdir()
