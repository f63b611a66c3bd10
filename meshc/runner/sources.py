"""Resolve a source into concrete files and a format, by one set of rules over a pyarrow
FileSystem, so that local paths (`resolve_source`) and objects in a bucket
(meshc.storage.objects) can never resolve differently:

    a file     itself, whatever its suffix
    a folder   every file below it, except below a hidden name (one starting with '.' or '_'):
               no _SUCCESS or .crc file, nothing under _temporary/ or .staging/ (another job's
               unfinished files), as pyarrow datasets and Spark skip them; the folder named (and
               the path above it) may be hidden
    a glob     glob.glob's rules (recursive=True): `*`, `?` and `[...]` within one name, `**`
               across folders; a hidden name is matched only by a pattern's name starting with
               the same character (glob.glob's rule for '.', applied to '_' too, so that
               `landing/**/*.csv` reads what the folder `landing` reads, and
               `landing/_staging/*.csv` what it names)
    format     `fmt`, else the one format the files' suffixes name; of a folder or a glob, only
               the files of that format are read

Files come sorted folder by folder (a/x before a-b/y), as pathlib sorts paths. pyarrow is
imported inside the functions: `meshc check` never loads it.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from meshc.errors import SourceError

if TYPE_CHECKING:
    from pyarrow.fs import FileInfo, FileSystem

_BY_SUFFIX = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
_MAGIC = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class ResolvedSource:
    paths: tuple[str, ...]
    format: str
    display: str  # what the user named, for reports and lineage


@dataclass(frozen=True)
class Matched:
    """The files a source names on one FileSystem (paths of that FileSystem) and their format."""

    paths: tuple[str, ...]
    format: str


def resolve_source(spec: str, fmt: str | None = None) -> ResolvedSource:
    """A local file, folder or glob -> its files (absolute, symlinks resolved) and their format."""
    from pyarrow.fs import LocalFileSystem

    # a trailing "/" is kept: in a glob it matches folders only, as in glob.glob
    path = Path(spec).absolute().as_posix() + ("/" if spec.endswith("/") else "")
    try:
        matched = resolve(LocalFileSystem(), path, spec, fmt)
    except OSError as exc:  # an unreadable folder: named, never skipped
        raise SourceError(f"cannot read {spec}: {exc}; nothing was read") from exc
    # absolute: an engine may not share this process's working directory (Spark's JVM does not);
    # a file reached twice (through symlinks) is read once
    paths = dict.fromkeys(str(Path(p).resolve()) for p in matched.paths)
    return ResolvedSource(tuple(paths), matched.format, spec)


def resolve(
    filesystem: FileSystem,
    path: str,
    shown: str,
    fmt: str | None = None,
    absent: Callable[[], None] = lambda: None,
) -> Matched:
    """The files `path` names on `filesystem` and their format, by the rules of this module.
    `shown`: the location as the user wrote it, for the errors (SourceError); `absent`: called
    before a "not found" error, to raise a more precise one (a bucket that does not exist).
    The filesystem's own errors (OSError) are left to the caller, who knows the location's kind."""
    if _MAGIC.search(path):
        parts = path.split("/")
        files = list(_expand(filesystem, parts[0], parts[1:]))
        if not files:
            absent()
            raise SourceError(f"no files match {shown}")
        return _of_format(files, shown, fmt, named=False)
    files, named = _file_or_folder(filesystem, path.rstrip("/") or "/", shown, absent)
    return _of_format(files, shown, fmt, named=named)


def _file_or_folder(
    filesystem: FileSystem, path: str, shown: str, absent: Callable[[], None]
) -> tuple[list[str], bool]:
    """[path] when it is a file (True: named), else the data files below the folder."""
    from pyarrow.fs import FileType

    kind = filesystem.get_file_info(path).type
    if kind == FileType.File:
        return [path], True
    if kind != FileType.Directory:
        absent()
        raise SourceError(f"source not found: {shown}")
    files = [
        info.path
        for info in _listing(filesystem, path, recursive=True)
        if info.type == FileType.File and not any(map(_hidden, _below(path, info.path)))
    ]
    if not files:
        raise SourceError(f"no files in {shown}")
    return files, False


def _of_format(files: list[str], shown: str, fmt: str | None, named: bool) -> Matched:
    """`fmt` or the files' one known suffix; a folder's or a glob's files of that format, sorted
    folder by folder."""
    if fmt is None:
        formats = {_BY_SUFFIX.get(_suffix(f)) for f in files}
        formats.discard(None)
        if len(formats) != 1:
            raise SourceError(
                f"cannot tell the format of {shown}: set source.format (csv, parquet, json, ndjson)"
            )
        fmt = str(formats.pop())
    if not named:
        wanted = {k for k, v in _BY_SUFFIX.items() if v == fmt}
        if fmt == "json":
            wanted |= {".ndjson", ".jsonl"}
        files = [f for f in files if _suffix(f) in wanted]
        if not files:
            raise SourceError(f"no {fmt} files in {shown}")
    return Matched(tuple(sorted(files, key=lambda f: f.split("/"))), fmt)


# -- globs ------------------------------------------------------------------------------------


def _expand(filesystem: FileSystem, folder: str, parts: list[str]) -> Iterator[str]:
    """The files under `folder` that the pattern names `parts` match, looked up as glob.glob
    does: literal names directly, a wildcard name in one listing of its folder, and `**` (with
    whatever follows it) in one recursive listing."""
    from pyarrow.fs import FileType

    first = next((i for i, part in enumerate(parts) if _MAGIC.search(part)), len(parts))
    here = "/".join([folder, *parts[:first]])
    if first == len(parts):
        if filesystem.get_file_info(here).type == FileType.File:
            yield here
        return
    head, rest = parts[first], parts[first + 1 :]
    if head == "**":
        for info in _listing(filesystem, here, recursive=True):
            names = _below(here, info.path)
            if info.type == FileType.File and _glob_match(names, parts[first:]):
                yield info.path
        return
    for info in _listing(filesystem, here, recursive=False):
        if not _name_matches(_name(info.path), head):
            continue
        if not rest and info.type == FileType.File:
            yield info.path
        elif rest and info.type == FileType.Directory:
            yield from _expand(filesystem, info.path, rest)


def _glob_match(names: list[str], pattern: list[str]) -> bool:
    """Whether the path `names` matches `pattern` name by name: `**` spans any number of names
    (none hidden, as glob.glob's recursive wildcard skips '.' names), the others match one name."""
    if not pattern:
        return not names
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        if _glob_match(names, rest):
            return True
        return bool(names) and not _hidden(names[0]) and _glob_match(names[1:], pattern)
    return bool(names) and _name_matches(names[0], head) and _glob_match(names[1:], rest)


def _name_matches(name: str, pattern: str) -> bool:
    """glob.glob's rule for one name, with '_' hidden as '.' is: a wildcard skips a hidden name
    unless the pattern's name starts with the same character."""
    if _hidden(name) and not pattern.startswith(name[0]):
        return False
    return fnmatch.fnmatchcase(name, pattern)


def hidden_below(folder: Path, path: Path) -> bool:
    """Whether a file of a local folder is one no folder source reads (see `_hidden`): what
    `meshc bootstrap` profiles follows the same rule as what `meshc run` reads."""
    return any(_hidden(name) for name in path.relative_to(folder).parts)


def _hidden(name: str) -> bool:
    """A name no folder or wildcard reads: a job's markers and checksums (_SUCCESS, .crc) and
    its unfinished files (_temporary/, .staging/), the names pyarrow datasets and Spark skip."""
    return name.startswith((".", "_"))


# -- filesystem -------------------------------------------------------------------------------


def _listing(filesystem: FileSystem, folder: str, recursive: bool) -> list[FileInfo]:
    """What is in `folder` (below it too when `recursive`); nothing when there is no folder."""
    from pyarrow.fs import FileSelector

    selector = FileSelector(folder or "/", recursive=recursive, allow_not_found=True)
    try:
        infos: list[FileInfo] = filesystem.get_file_info(selector)
    except NotADirectoryError:  # a file where the glob wants a folder: nothing, as in a bucket
        return []
    return infos


def _below(folder: str, path: str) -> list[str]:
    """The names of `path` below `folder` (a path of the listing of that folder)."""
    return path[len(folder) :].lstrip("/").split("/")


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _suffix(path: str) -> str:
    return PurePosixPath(_name(path)).suffix.lower()
