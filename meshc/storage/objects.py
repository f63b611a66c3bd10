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

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from meshc.errors import MeshcError, SourceError, WriteError
from meshc.storage.location import object_parts
from meshc.storage.sources import LocalFiles

if TYPE_CHECKING:
    from pyarrow.fs import FileSystem

    from meshc.storage.location import Location
    from meshc.storage.publish import Staged
    from meshc.storage.spool import Spool

CONNECT_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_S = 60.0  # per request (a stalled transfer), not per object
ATTEMPTS = 3  # the first try and two retries


def fetch(location: Location, spool: Spool) -> LocalFiles:
    """The objects `location` names, downloaded into `spool`, with their lineage inputs.
    The rules of local files (meshc.runner.sources.resolve, the same function): an object, a
    prefix (its objects, not those whose name starts with `.` or `_`) or a glob; the format from
    `format` or the objects' suffix."""
    from pyarrow.fs import copy_files

    from meshc.lineage.naming import dataset
    from meshc.runner.sources import resolve

    url = location.url
    with _errors(SourceError, url, "read"):
        filesystem, path = _filesystem(url, SourceError)
        matched = resolve(
            filesystem,
            path,
            url,
            location.format,
            absent=lambda: _refuse_missing_bucket(filesystem, path, url),
        )
    folder = spool.folder("objects")
    paths: list[str] = []
    inputs: list[dict[str, Any]] = []
    for index, key in enumerate(matched.paths):
        local = folder / f"{index:06d}-{PurePosixPath(key).name}"
        object_url = _url(url, key)
        with _errors(SourceError, object_url, "read"):
            copy_files(key, str(local), source_filesystem=filesystem)
        paths.append(str(local))
        inputs.append({**dataset(object_url), "format": matched.format})
    return LocalFiles(tuple(paths), matched.format, inputs)


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
    scheme, netloc, key = object_parts(url)
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
    scheme, netloc, _ = object_parts(url)
    return f"{scheme}://{netloc}/{path.split('/', 1)[1]}"


# -- which objects ----------------------------------------------------------------------------


def _refuse_missing_bucket(filesystem: FileSystem, path: str, url: str) -> None:
    """Listing a missing bucket finds nothing, like an empty prefix: say which it is."""
    from pyarrow.fs import FileType

    if filesystem.get_file_info(path.split("/", 1)[0]).type == FileType.NotFound:
        raise SourceError(f"cannot read {url}: the bucket does not exist; nothing was read")


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
