"""Atomic outputs: every file is written to a temporary name next to its target, and all targets
of a run are committed together (meshc.runner.commit: a lock per folder, a journal, then the
renames) only after every write succeeded. A failed or interrupted run leaves the previous outputs
untouched and no partial files behind; the folders it created are removed again.

A batch is one owner (`commit.Owner`): its temporary names carry the owner's token and it holds the
owner lock in every folder it stages into until it has committed or aborted, so no other run (in
any PID namespace) takes its staged files for a dead run's. A staged file that is gone at commit
time fails the run (WriteError, previous outputs intact)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from meshc.errors import WriteError
from meshc.runner.commit import CommitIncomplete, Owner, commit, fsync_file, locked, remove_path


@dataclass
class AtomicBatch:
    """Stage several files, then commit them together. As a context manager, whatever is still
    staged when the block ends (an error, SIGTERM, or no commit) is removed."""

    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    progress: Callable[[str], None] | None = None
    # False for a lone file outside a lakehouse (`meshc registry`): one rename is atomic already,
    # and no lock file should appear next to it
    journal: bool = True
    staged: list[tuple[Path, Path]] = field(default_factory=list)
    created: list[Path] = field(default_factory=list)  # folders made here, removed on abort
    owner: Owner = field(default_factory=Owner)

    def __enter__(self) -> AtomicBatch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()

    def stage(self, target: Path, write: Callable[[Path], None]) -> None:
        tmp: Path | None = None
        try:
            self._make_folder(target.parent)
            tmp = self.owner.tmp_name(target)
            write(tmp)
            if not tmp.exists():
                raise WriteError(f"could not write {target}: the engine produced no file")
            fsync_file(tmp)
        except BaseException as exc:
            if tmp is not None:
                remove_path(tmp)
            self.abort()
            if isinstance(exc, WriteError):  # the engine's own message names the file
                raise WriteError(f"{exc}; nothing was changed") from exc
            if isinstance(exc, Exception):
                raise WriteError(f"could not write {target}: {exc}; nothing was changed") from exc
            raise
        self.staged.append((tmp, target))

    def stage_text(self, target: Path, text: str) -> None:
        self.stage(target, lambda tmp: _write_text(tmp, text))

    def commit(self) -> list[Path]:
        """Publish every staged file, in staging order, or none of them."""
        try:
            return self._commit()
        finally:
            self.owner.release()  # renamed, removed, or owned by a journal now

    def _commit(self) -> list[Path]:
        if not self.staged:
            return []
        staged = list(self.staged)
        if not self.journal and len(staged) == 1:
            return self._replace_one(*staged[0])
        try:
            with locked([t.parent for _, t in staged], self.progress):
                refuse_folders([t for _, t in staged])
                self.staged.clear()  # from here the journal owns the temporary files
                try:
                    commit(self.run_id, staged, self.owner)
                except BaseException:
                    self.staged = [(tmp, t) for tmp, t in staged if tmp.exists()]
                    raise
        except CommitIncomplete as exc:
            self.staged.clear()  # the journal completes them: removing them would mix the pair
            raise WriteError(str(exc)) from exc
        except OSError as exc:
            self.abort()
            raise WriteError(
                f"could not move output into place: {exc}; nothing was changed"
            ) from exc
        self.created.clear()
        return [t for _, t in staged]

    def _replace_one(self, tmp: Path, target: Path) -> list[Path]:
        try:
            refuse_folders([target])
            os.replace(tmp, target)
        except (OSError, WriteError) as exc:
            self.abort()
            raise WriteError(f"could not write {target}: {exc}") from exc
        self.staged.clear()
        self.created.clear()
        return [target]

    def abort(self) -> None:
        for tmp, _ in self.staged:
            remove_path(tmp)
        self.staged.clear()
        self.owner.release()  # before the folders: its lock files are in them
        for folder in reversed(self.created):
            with contextlib.suppress(OSError):  # not empty (another run's files): leave it
                folder.rmdir()
        self.created.clear()

    def _make_folder(self, folder: Path) -> None:
        missing = []
        probe = folder
        while not probe.exists() and probe != probe.parent:
            missing.append(probe)
            probe = probe.parent
        folder.mkdir(parents=True, exist_ok=True)
        self.created.extend(reversed(missing))


def refuse_folders(targets: list[Path]) -> None:
    """A target that is an existing folder (or anything but a file) cannot be replaced."""
    for target in targets:
        if os.path.lexists(target) and not target.is_file():
            kind = "folder" if target.is_dir() else "special file"
            raise WriteError(
                f"{target} is a {kind}: give a file path for this output; nothing was changed"
            )


def write_text_atomic(target: Path, text: str) -> None:
    with AtomicBatch(journal=False) as batch:
        batch.stage_text(target, text)
        batch.commit()


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
