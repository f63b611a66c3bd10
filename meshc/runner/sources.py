"""Resolve a contract's (or the CLI's) source into concrete files and a format."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

from meshc.errors import SourceError

_BY_SUFFIX = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}


@dataclass(frozen=True)
class ResolvedSource:
    paths: tuple[str, ...]
    format: str
    display: str  # what the user named, for reports and lineage


def resolve_source(spec: str, fmt: str | None = None) -> ResolvedSource:
    """A file, a directory (its files of the format) or a glob -> sorted concrete files."""
    p = Path(spec)
    if any(ch in spec for ch in "*?["):
        files = sorted(Path(m) for m in glob.glob(spec, recursive=True) if Path(m).is_file())
        if not files:
            raise SourceError(f"no files match {spec}")
    elif p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith((".", "_")))
        if not files:
            raise SourceError(f"no files in {spec}")
    elif p.is_file():
        files = [p]
    else:
        raise SourceError(f"source not found: {spec}")
    if fmt is None:
        suffixes = {_BY_SUFFIX.get(f.suffix.lower()) for f in files}
        suffixes.discard(None)
        if len(suffixes) != 1:
            raise SourceError(
                f"cannot tell the format of {spec}: set source.format (csv, parquet, json, ndjson)"
            )
        fmt = suffixes.pop()
    wanted = {k for k, v in _BY_SUFFIX.items() if v == fmt}
    if fmt == "json":
        wanted |= {".ndjson", ".jsonl"}
    files = [f for f in files if f.suffix.lower() in wanted] if not p.is_file() else files
    if not files or fmt is None:
        raise SourceError(f"no {fmt} files in {spec}")
    # absolute: an engine may not share this process's working directory (Spark's JVM does not)
    return ResolvedSource(tuple(str(f.resolve()) for f in files), fmt, spec)
