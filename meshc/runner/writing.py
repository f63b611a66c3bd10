"""Atomic outputs: every file is written to a temporary name next to its target, and all targets
of a run are renamed into place only after every write succeeded. A failed or interrupted run
leaves the previous outputs untouched and no partial files behind."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from meshc.errors import WriteError


@dataclass
class AtomicBatch:
    """Stage several files, then commit them together."""

    staged: list[tuple[Path, Path]] = field(default_factory=list)

    def stage(self, target: Path, write: Callable[[Path], None]) -> None:
        tmp = target.with_name(f".{target.name}.meshc-{uuid.uuid4().hex[:8]}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write(tmp)
        except Exception as exc:
            _remove(tmp)
            self.abort()
            raise WriteError(f"could not write {target}: {exc}") from exc
        if not tmp.exists():
            self.abort()
            raise WriteError(f"could not write {target}: the engine produced no file")
        self.staged.append((tmp, target))

    def commit(self) -> list[Path]:
        done = []
        try:
            for tmp, target in self.staged:
                os.replace(tmp, target)  # atomic on POSIX within one file system
                done.append(target)
        except OSError as exc:
            self.abort()
            raise WriteError(f"could not move output into place: {exc}") from exc
        self.staged.clear()
        return done

    def abort(self) -> None:
        for tmp, _ in self.staged:
            _remove(tmp)
        self.staged.clear()


def write_text_atomic(target: Path, text: str) -> None:
    batch = AtomicBatch()
    batch.stage(target, lambda tmp: _write_text(tmp, text))
    batch.commit()


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        if path.is_dir():
            import shutil

            shutil.rmtree(path)
        else:
            path.unlink()
