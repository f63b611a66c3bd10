"""Committing a run's files together: a lock per target folder and a two-phase commit.

    stage:   every file is written to `.<name>.meshc-<token>-<rand>.tmp` next to its target; the
             token (`<pid>-<random>`) names the staging run, which holds `fcntl.flock` on
             `.meshc-owner-<token>.lock` in every folder it stages into until it has finished
    lock:    `fcntl.flock` on `<folder>/.meshc.lock` of every target folder (sorted: no deadlock);
             a second run on the same folders waits (it says so) until the first one has committed
    recover: under the lock, a journal left by a killed run is rolled forward, and temporary files
             whose owner lock can be taken (its holder is gone) are removed
    check:   every staged file must still exist (another process may have removed it): if one is
             missing the run fails before anything is journalled or renamed
    journal: `<folder>/.meshc-journal-<run_id>.json` in every target folder, written atomically,
             lists every (tmp, target, inode of tmp) with absolute paths, and every copy: once all
             copies exist, the run is committed (a partial set means it was killed before: it is
             rolled back)
    rename:  each tmp onto its target (`os.replace`), lineage records last
    finish:  the journals are removed, the locks released, the owner lock files removed

A run killed before its journal exists leaves the previous files untouched; one killed after it is
completed by the next run that locks any of its folders (`recover_folders` does it on demand).
Every rename moves a file that exists only once, so two recoveries of one journal cannot collide.
A pair whose tmp is gone counts as done only when its target is that tmp's inode; otherwise the
commit cannot be completed: the journal and its tmps are kept and the recovery fails
(`UnfinishedCommit`) instead of leaving a silent mix.

Staleness is decided by the owner lock, never by pid: a pid from another PID namespace (two
containers sharing a lakehouse) may look dead while its run is alive, but the kernel releases a
flock only when its holder is gone. A tmp without an owner lock file (an older meshc, or no
`fcntl`) is removed once it is older than `OWNER_GRACE_SECONDS`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # no advisory locks on this platform (Windows)
    fcntl = None  # type: ignore[assignment]

JOURNAL_VERSION = 2
LOCK_NAME = ".meshc.lock"
OWNER_GRACE_SECONDS = 3600
_JOURNAL = re.compile(r"^\.meshc-journal-[0-9a-zA-Z_-]+\.json$")
# `<pid>-<12 hex>` since owner locks exist; a bare `<pid>` in files of older versions
_TMP = re.compile(r"^\..+\.meshc-(?P<owner>\d+(?:-[0-9a-f]{12})?)-[0-9a-f]{8}\.tmp$")
_OWNER_LOCK = re.compile(r"^\.meshc-owner-\d+-[0-9a-f]{12}\.lock(?P<new>\.new)?$")

Say = Callable[[str], None]


class CommitIncomplete(Exception):
    """A rename failed after the journal was written: the journal completes it later."""


class StagedFileMissing(OSError):
    """A staged file vanished before the commit: nothing is journalled or renamed."""


class UnfinishedCommit(OSError):
    """A journalled commit cannot be completed (a staged file is gone, its target not replaced)."""


def new_token() -> str:
    """A run's owner token: its pid (for people reading the folder) and a random part."""
    return f"{os.getpid()}-{uuid.uuid4().hex[:12]}"


def owner_lock_name(token: str) -> str:
    return f".meshc-owner-{token}.lock"


class Owner:
    """One run's claim on the temporary files it stages: an owner lock held in every folder."""

    def __init__(self) -> None:
        self.token = new_token()
        self._held: dict[Path, int] = {}

    def tmp_name(self, target: Path) -> Path:
        """An absolute hidden temporary name next to `target`, claimed by this owner."""
        folder = Path(os.path.realpath(target.parent))
        if folder not in self._held:
            self._held[folder] = hold_owner_lock(folder / owner_lock_name(self.token))
        return folder / f".{target.name}.meshc-{self.token}-{uuid.uuid4().hex[:8]}.tmp"

    def release(self) -> None:
        """Remove the owner lock files (call it once the staged files are renamed or removed)."""
        for folder, fd in self._held.items():
            (folder / owner_lock_name(self.token)).unlink(missing_ok=True)
            os.close(fd)
        self._held.clear()


def hold_owner_lock(path: Path) -> int:
    """Create `path` already locked: it is locked under a `.new` name, then renamed, so a sweep
    never finds it unlocked while its owner lives. Returns the descriptor that holds the lock."""
    fresh = path.with_name(path.name + ".new")
    fd = os.open(fresh, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.replace(fresh, path)
    except BaseException:
        os.close(fd)
        fresh.unlink(missing_ok=True)
        raise
    return fd


def owner_gone(lock: Path, stamp: Path) -> bool:
    """Whether the owner of a temporary file or folder has finished: its lock file can be locked
    (the kernel released its holder's lock, whatever the PID namespace), or there is no lock file
    (an older meshc, or no `fcntl`) and `stamp` is older than OWNER_GRACE_SECONDS."""
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return older_than_grace(stamp)
    try:
        if fcntl is None:
            return older_than_grace(stamp)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    finally:
        os.close(fd)  # releases the probe's lock


def older_than_grace(path: Path) -> bool:
    """The fallback when no owner lock can tell: `path` is older than OWNER_GRACE_SECONDS."""
    try:
        return time.time() - os.lstat(path).st_mtime > OWNER_GRACE_SECONDS
    except FileNotFoundError:
        return False


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
    if fcntl is None:  # commits are not serialised
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


def _absolute(path: Path) -> Path:
    """Independent of the working directory (a recovery may run from anywhere)."""
    return Path(os.path.realpath(path.parent)) / path.name


def commit(run_id: str, renames: Sequence[tuple[Path, Path]], owner: Owner | None = None) -> None:
    """Check, journal, then rename every (tmp, target); the caller holds the folders' locks.

    Interrupted after the journal (SIGTERM, Ctrl-C), it completes the renames before re-raising:
    the pair is then the new one, never a mix."""
    pairs = [(_absolute(tmp), _absolute(target)) for tmp, target in renames]
    inodes = []
    for tmp, target in pairs:
        try:
            inodes.append(os.stat(tmp).st_ino)
        except FileNotFoundError as exc:
            raise StagedFileMissing(
                f"the staged file {tmp} for {target} is gone (removed by another process)"
            ) from exc
    folders = sorted({target.parent for _, target in pairs})
    journals = [f / f".meshc-journal-{run_id}.json" for f in folders]
    record = {
        "schema_version": JOURNAL_VERSION,
        "run_id": run_id,
        "pid": os.getpid(),
        "renames": [[str(t), str(g), ino] for (t, g), ino in zip(pairs, inodes, strict=True)],
        "journals": [str(j) for j in journals],
    }
    own = owner or Owner()
    try:
        for journal in journals:
            _write_durably(journal, json.dumps(record, indent=2), own)
    except BaseException:  # not committed yet: nothing was renamed, the caller removes the tmps
        for journal in journals:
            journal.unlink(missing_ok=True)
        raise
    finally:
        if owner is None:
            own.release()
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
    """Complete every commit journalled in `folder` and remove the temporary files of finished
    owners; returns the run ids rolled forward. Call it holding the folder's lock. A journal that
    cannot be completed is kept with its temporary files, and UnfinishedCommit is raised."""
    done: list[str] = []
    blocked: list[str] = []
    keep: set[str] = set()
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
        if not all(Path(j).exists() for j in _strings(record.get("journals"))):
            _roll_back(record)  # killed while writing its journals: nothing was renamed
            continue
        missing = _unfinishable(record)
        if missing:
            blocked.append(f"{journal} (run {record.get('run_id')}): {'; '.join(missing)}")
            keep.update(tmp for tmp, _, _ in _pairs(record))
            continue
        _roll_forward(record)
        done.append(str(record.get("run_id")))
    sweep_stale_tmp(folder, keep)
    if blocked:
        raise UnfinishedCommit(
            "a committed run cannot be completed, its outputs may mix two runs: "
            + " | ".join(blocked)
            + ". Check those outputs, then delete the journal to let meshc write there again"
        )
    return done


def recover_folders(folders: Sequence[Path]) -> None:
    """Lock and recover each existing folder (what every run does before it commits)."""
    with locked([f for f in folders if Path(f).is_dir()]):
        pass


def _roll_back(record: dict[str, Any]) -> None:
    for tmp, _, _ in _pairs(record):
        Path(tmp).unlink(missing_ok=True)
    for journal in _strings(record.get("journals")):
        Path(journal).unlink(missing_ok=True)


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _pairs(record: dict[str, Any]) -> list[tuple[str, str, int | None]]:
    """(tmp, target, inode of tmp); the inode is None in version 1 journals."""
    renames = record.get("renames")
    pairs = []
    for item in renames if isinstance(renames, list) else []:
        if isinstance(item, list) and len(item) >= 2:
            ino = item[2] if len(item) > 2 and isinstance(item[2], int) else None
            pairs.append((str(item[0]), str(item[1]), ino))
    return pairs


def _applied(target: str, ino: int | None) -> bool:
    """Whether `target` is already the staged file (a version 1 journal has no inode: exists)."""
    try:
        found = os.stat(target).st_ino
    except FileNotFoundError:
        return False
    return ino is None or found == ino


def _unfinishable(record: dict[str, Any]) -> list[str]:
    """The pairs whose tmp is gone while their target is not that tmp (removed by someone)."""
    return [
        f"{tmp} is gone and {target} was not replaced"
        for tmp, target, ino in _pairs(record)
        if not os.path.isabs(tmp)
        or not os.path.isabs(target)
        or (not os.path.lexists(tmp) and not _applied(target, ino))
    ]


def _roll_forward(record: dict[str, Any]) -> None:
    pairs = _pairs(record)
    for tmp, target, ino in pairs:
        if not os.path.lexists(tmp) and _applied(target, ino):
            continue  # renamed before an interrupt
        os.replace(tmp, target)  # a tmp that vanished raises: never a silent mix
    for folder in {Path(target).parent for _, target, _ in pairs}:
        _fsync_dir(folder)
    for journal in _strings(record.get("journals")):
        Path(journal).unlink(missing_ok=True)


def sweep_stale_tmp(folder: Path, keep: set[str] | frozenset[str] = frozenset()) -> None:
    """Remove the `.*.meshc-<token>-*.tmp` files of finished owners (never a live one's, in any
    PID namespace), except those in `keep`, then the owner lock files left by killed runs."""
    with os.scandir(folder) as entries:
        names = sorted(entry.name for entry in entries)
    for name in names:
        match = _TMP.match(name)
        path = folder / name
        lock = folder / owner_lock_name(match["owner"]) if match else None
        if lock is not None and str(path) not in keep and owner_gone(lock, path):
            remove_path(path)
    for name in names:
        match = _OWNER_LOCK.match(name)
        path = folder / name
        # a `.new` one may be between its creation and its lock: only its age tells
        if match and (older_than_grace(path) if match["new"] else owner_gone(path, path)):
            path.unlink(missing_ok=True)


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


def _write_durably(path: Path, text: str, owner: Owner) -> None:
    tmp = owner.tmp_name(path)
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
