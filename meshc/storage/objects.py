"""Objects in a bucket (s3://, gs://, az://) through pyarrow.fs, which every engine extra brings.

    fetch(location, spool)   the object, the objects under a prefix, or those matching a glob,
                             each streamed into the spool (bounded memory), read like local files
    publish(staged)          each staged output file uploaded to its object: one complete upload,
                             so readers see the previous object or the new one, never a part

Credentials come from the standard environment of each store (AWS_ACCESS_KEY_ID, ~/.aws, ...;
GOOGLE_APPLICATION_CREDENTIALS; AZURE_STORAGE_ACCOUNT_NAME / _KEY); AWS_ENDPOINT_URL (or
AWS_ENDPOINT_URL_S3) points s3:// at another server (MinIO, moto). Every request has a short
connect timeout and few retries: an unreachable server fails the run in seconds, not minutes.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from meshc.errors import MeshcError, SourceError, WriteError
from meshc.storage.sources import LocalFiles

if TYPE_CHECKING:
    from pyarrow.fs import FileSystem

    from meshc.storage.location import Location
    from meshc.storage.publish import Staged
    from meshc.storage.spool import Spool

CONNECT_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_S = 60.0  # per request (a stalled transfer), not per object
ATTEMPTS = 3  # the first try and two retries
_GLOB = re.compile(r"[*?\[]")


def fetch(location: Location, spool: Spool) -> LocalFiles:
    """The objects `location` names, downloaded into `spool`, with their lineage inputs.
    Same rules as local files (meshc.runner.sources.resolve_source): an object, a prefix (its
    objects, not those whose name starts with `.` or `_`) or a glob; the format from `format` or
    the objects' suffix."""
    from pyarrow.fs import copy_files

    from meshc.lineage.naming import dataset

    url = location.url
    with _errors(SourceError, url, "read"):
        filesystem, path = _filesystem(url, SourceError)
        keys = _matching(filesystem, path, url)
    keys, fmt = _pick_format(keys, url, location.format, single=keys == [path])
    folder = spool.folder("objects")
    paths: list[str] = []
    inputs: list[dict[str, Any]] = []
    for index, key in enumerate(keys):
        local = folder / f"{index:06d}-{PurePosixPath(key).name}"
        object_url = _url(url, key)
        with _errors(SourceError, object_url, "read"):
            copy_files(key, str(local), source_filesystem=filesystem)
        paths.append(str(local))
        inputs.append({**dataset(object_url), "format": fmt})
    return LocalFiles(tuple(paths), fmt, inputs)


def publish(staged: Sequence[Staged]) -> dict[str, dict[str, Any]]:
    """Upload each staged file to its object; role -> {"location": url, "bytes": size}.
    Each object is replaced whole (the upload completes or the object stays as it was); two
    objects are not one transaction: if the second upload fails, the first is already new."""
    from pyarrow.fs import copy_files

    done: dict[str, dict[str, Any]] = {}
    for item in staged:
        url = item.location.url
        if url.endswith("/"):
            raise WriteError(
                f"{url} names a folder, not an object: name the object (e.g. {url}data."
                f"{item.format}); nothing was written there"
            )
        with _errors(WriteError, url, "write"):
            filesystem, path = _filesystem(url, WriteError)
            copy_files(str(item.file), path, destination_filesystem=filesystem)
        done[item.role] = {"location": url, "bytes": item.file.stat().st_size}
    return done


# -- where ------------------------------------------------------------------------------------


def _filesystem(url: str, error: type[MeshcError]) -> tuple[FileSystem, str]:
    """pyarrow's filesystem for `url`'s store, and the path (bucket/key) inside it."""
    try:
        import pyarrow.fs as pafs
    except ImportError as exc:  # pragma: no cover - pyarrow comes with every engine extra
        raise error(f"reading or writing {url} needs pyarrow: pip install 'meshc[polars]'") from exc
    parts = urlsplit(url)
    scheme, netloc, key = parts.scheme, parts.netloc, parts.path.lstrip("/")
    if not netloc:
        raise error(f"{url} names no bucket: write {scheme}://<bucket>/<key or prefix>")
    if scheme == "s3":
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region is None and endpoint is None:
            region = pafs.resolve_s3_region(netloc)
        filesystem: FileSystem = pafs.S3FileSystem(
            region=region,
            endpoint_override=endpoint,
            connect_timeout=CONNECT_TIMEOUT_S,
            request_timeout=REQUEST_TIMEOUT_S,
            retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=ATTEMPTS),
        )
        return filesystem, f"{netloc}/{key}"
    if scheme == "gs":
        import datetime as dt

        return pafs.GcsFileSystem(retry_time_limit=dt.timedelta(seconds=15)), f"{netloc}/{key}"
    # az://container/key (account: AZURE_STORAGE_ACCOUNT_NAME) or
    # az://container@account.dfs.core.windows.net/key
    container, _, host = netloc.partition("@")
    account = host.split(".", 1)[0] if host else os.environ.get("AZURE_STORAGE_ACCOUNT_NAME")
    if not account:
        raise error(
            f"{url}: set AZURE_STORAGE_ACCOUNT_NAME, or write "
            f"az://{container}@<account>.dfs.core.windows.net/{key}"
        )
    filesystem = pafs.AzureFileSystem(
        account, account_key=os.environ.get("AZURE_STORAGE_ACCOUNT_KEY")
    )
    return filesystem, f"{container}/{key}"


def _url(url: str, path: str) -> str:
    """The URL of the object at `path` (bucket/key) of `url`'s store."""
    scheme, netloc = urlsplit(url)[:2]
    return f"{scheme}://{netloc}/{path.split('/', 1)[1]}"


# -- which objects ----------------------------------------------------------------------------


def _matching(filesystem: FileSystem, path: str, url: str) -> list[str]:
    """The bucket/key paths `path` names: itself, the objects under it, or those its glob
    matches (`*` and `?` within one name, `**` across folders), sorted."""
    from pyarrow.fs import FileType

    found = _GLOB.search(path)
    if found is None:
        info = filesystem.get_file_info(path)
        if info.type == FileType.File:
            return [path]
        listed = _objects(filesystem, path.rstrip("/")) if path.count("/") else []
        keys = [k for k in listed if not PurePosixPath(k).name.startswith((".", "_"))]
        if not listed:
            _refuse_missing_bucket(filesystem, path, url)
            raise SourceError(f"source not found: {url} (no object, and no objects under it)")
        if not keys:
            raise SourceError(f"no files in {url}")
        return keys
    prefix = path[: found.start()].rsplit("/", 1)[0]
    pattern = path.split("/")
    keys = [k for k in _objects(filesystem, prefix) if _glob_match(k.split("/"), pattern)]
    if not keys:
        _refuse_missing_bucket(filesystem, path, url)
        raise SourceError(f"no files match {url}")
    return keys


def _refuse_missing_bucket(filesystem: FileSystem, path: str, url: str) -> None:
    """Listing a missing bucket finds nothing, like an empty prefix: say which it is."""
    from pyarrow.fs import FileType

    if filesystem.get_file_info(path.split("/", 1)[0]).type == FileType.NotFound:
        raise SourceError(f"cannot read {url}: the bucket does not exist; nothing was read")


def _objects(filesystem: FileSystem, prefix: str) -> list[str]:
    """Every object under `prefix` (bucket/folder), sorted; none when there is no such folder."""
    from pyarrow.fs import FileSelector, FileType

    selector = FileSelector(prefix, recursive=True, allow_not_found=True)
    infos = filesystem.get_file_info(selector)
    return sorted(i.path for i in infos if i.type == FileType.File)


def _glob_match(names: list[str], pattern: list[str]) -> bool:
    """glob.glob's rules, name by name: `**` spans any number of folders, `*` and `?` stay in one
    name and skip names starting with `.` unless the pattern's name does too."""
    if not pattern:
        return not names
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_glob_match(names[i:], rest) for i in range(len(names) + 1))
    if not names:
        return False
    name = names[0]
    if name.startswith(".") and not head.startswith("."):
        return False
    return fnmatch.fnmatchcase(name, head) and _glob_match(names[1:], rest)


def _pick_format(keys: list[str], url: str, fmt: str | None, single: bool) -> tuple[list[str], str]:
    """The objects of the format, and the format: `fmt`, or the objects' one suffix (as
    meshc.runner.sources does for files; a single named object is read whatever its suffix)."""
    from meshc.runner.sources import _BY_SUFFIX

    if fmt is None:
        suffixes = {_BY_SUFFIX.get(PurePosixPath(k).suffix.lower()) for k in keys}
        suffixes.discard(None)
        if len(suffixes) != 1:
            raise SourceError(
                f"cannot tell the format of {url}: set source.format (csv, parquet, json, ndjson)"
            )
        fmt = str(suffixes.pop())
    wanted = {k for k, v in _BY_SUFFIX.items() if v == fmt}
    if fmt == "json":
        wanted |= {".ndjson", ".jsonl"}
    if not single:
        keys = [k for k in keys if PurePosixPath(k).suffix.lower() in wanted]
    if not keys:
        raise SourceError(f"no {fmt} files in {url}")
    return keys, fmt


# -- errors -----------------------------------------------------------------------------------

_HINTS = (
    ("NO_SUCH_BUCKET", "the bucket does not exist"),
    (
        "ACCESS_DENIED",
        "access denied: check the credentials (AWS_ACCESS_KEY_ID, ...) and the "
        "bucket's permissions",
    ),
    ("NETWORK_CONNECTION", "the object store is unreachable"),
    ("RESOLVE", "the object store's host name does not resolve"),
)


@contextmanager
def _errors(error: type[MeshcError], url: str, verb: str) -> Iterator[None]:
    """Storage errors inside the block raised as `error` naming `url` (no traceback for users)."""
    try:
        yield
    except MeshcError:
        raise
    except (OSError, ValueError) as exc:
        detail = str(exc).strip()
        hint = next((h for code, h in _HINTS if code in detail), None)
        kept = "the object there is unchanged" if error is WriteError else "nothing was read"
        said = f"{hint} ({detail})" if hint else detail
        raise error(f"cannot {verb} {url}: {said}; {kept}") from exc
