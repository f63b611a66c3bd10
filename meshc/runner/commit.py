"""Committing a run's files together: a lock per target folder and a two-phase commit.

    stage:   every file is written to `.<name>.meshc-<pid>-<rand>.tmp` next to its target
    lock:    `fcntl.flock` on `<folder>/.meshc.lock` of every target folder (sorted: no deadlock);
             a second run on the same folders waits (it says so) until the first one has committed
    recover: under the lock, a journal left by a killed run is rolled forward and stale temporary
             files of dead processes are removed
    journal: `<folder>/.meshc-journal-<run_id>.json` in every target folder, written atomically,
             lists every (tmp, target) pair and every copy: once all copies exist, the run is
             committed (a partial set means it was killed before: it is rolled back)
    rename:  each tmp onto its target (`os.replace`), lineage records last
    finish:  the journals are removed, the locks released

A run killed before its journal exists leaves the previous files untouched; one killed after it is
completed by the next run that locks any of its folders (`recover_folders` does it on demand).
Every rename moves a file that exists only once, so two recoveries of one journal cannot collide.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

JOURNAL_VERSION = 1
LOCK_NAME = ".meshc.lock"
_JOURNAL = re.compile(r"^\.meshc-journal-[0-9a-zA-Z_-]+\.json$")
_TMP = re.compile(r"^\..+\.meshc-(\d+)-[0-9a-f]{8}\.tmp$")

Say = Callable[[str], None]


class CommitIncomplete(Exception):
    """A rename failed after the journal was written: the journal completes it later."""


def tmp_name(target: Path) -> Path:
    """A hidden temporary name next to `target` that names its owner process."""
    return target.with_name(f".{target.name}.meshc-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (one of another user counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def locked(folders: Sequence[Path], say: Say | None = None) -> Iterator[None]:
    """Hold the advisory lock of every folder (created when missing), recovering each first."""
    say = say or (lambda _m: None)
    fds: list[int] = []
    try:
        for folder in sorted({Path(os.path.realpath(f)) for f in folders}):
            folder.mkdir(parents=True, exist_ok=True)
            fds.append(_lock(folder / LOCK_NAME, say))
            recover_folder(folder)
        yield
    finally:
        for fd in reversed(fds):
            os.close(fd)  # closing releases the flock


def _lock(path: Path, say: Say) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        import fcntl
    except ImportError:  # no advisory locks on this platform: commits are not serialised
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        say(f"waiting for another meshc run (pid {holder}) to finish writing {path.parent}")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def commit(run_id: str, renames: Sequence[tuple[Path, Path]]) -> None:
    """Journal, then rename every (tmp, target); the caller holds the folders' locks.

    Interrupted after the journal (SIGTERM, Ctrl-C), it completes the renames before re-raising:
    the pair is then the new one, never a mix."""
    folders = sorted({Path(os.path.realpath(t.parent)) for _, t in renames})
    journals = [f / f".meshc-journal-{run_id}.json" for f in folders]
    record = {
        "schema_version": JOURNAL_VERSION,
        "run_id": run_id,
        "pid": os.getpid(),
        "renames": [[str(tmp), str(target)] for tmp, target in renames],
        "journals": [str(j) for j in journals],
    }
    try:
        for journal in journals:
            _write_durably(journal, json.dumps(record, indent=2))
    except BaseException:  # not committed yet: nothing was renamed, the caller removes the tmps
        for journal in journals:
            journal.unlink(missing_ok=True)
        raise
    try:
        _roll_forward(record)
    except (KeyboardInterrupt, SystemExit):
        _roll_forward(record)
        raise
    except OSError as exc:
        raise CommitIncomplete(
            f"run {run_id} is committed but not all of its files are in place ({exc}); "
            f"the next meshc run writing to {', '.join(str(f) for f in folders)} completes it"
        ) from exc


def recover_folder(folder: Path) -> list[str]:
    """Complete every commit journalled in `folder` and remove its dead processes' temporary
    files; returns the run ids rolled forward. Call it holding the folder's lock."""
    done = []
    for journal in sorted(folder.glob(".meshc-journal-*.json")):
        if not _JOURNAL.match(journal.name):
            continue
        try:
            record = json.loads(journal.read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue  # completed by another recovery meanwhile
        except ValueError:
            journal.unlink(missing_ok=True)  # torn: its atomic write never finished
            continue
        if all(Path(j).exists() for j in _strings(record.get("journals"))):
            _roll_forward(record)
            done.append(str(record.get("run_id")))
        else:  # killed while writing its journals: nothing was renamed, the run never committed
            _roll_back(record)
    sweep_stale_tmp(folder)
    return done


def recover_folders(folders: Sequence[Path]) -> None:
    """Lock and recover each existing folder (what every run does before it commits)."""
    with locked([f for f in folders if Path(f).is_dir()]):
        pass


def _roll_back(record: dict[str, Any]) -> None:
    renames = record.get("renames")
    for pair in renames if isinstance(renames, list) else []:
        Path(str(pair[0])).unlink(missing_ok=True)
    for journal in _strings(record.get("journals")):
        Path(journal).unlink(missing_ok=True)


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _roll_forward(record: dict[str, Any]) -> None:
    renames = record.get("renames")
    pairs = [(str(t), str(target)) for t, target in renames] if isinstance(renames, list) else []
    for tmp, target in pairs:
        with contextlib.suppress(FileNotFoundError):  # already renamed
            os.replace(tmp, target)
    for folder in {Path(target).parent for _, target in pairs}:
        _fsync_dir(folder)
    for journal in _strings(record.get("journals")):
        Path(journal).unlink(missing_ok=True)


def sweep_stale_tmp(folder: Path) -> None:
    """Remove `.*.meshc-<pid>-*.tmp` files whose owner process is gone (never a live one's)."""
    with os.scandir(folder) as entries:
        for entry in entries:
            match = _TMP.match(entry.name)
            if match and not pid_alive(int(match.group(1))):
                remove_path(Path(entry.path))


def remove_path(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        if path.is_dir() and not path.is_symlink():
            import shutil

            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()


def fsync_file(path: Path) -> None:
    """Flush a staged file to disk (a full disk may only show here)."""
    if path.is_file():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_durably(path: Path, text: str) -> None:
    tmp = tmp_name(path)
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a directory
    finally:
        os.close(fd)
