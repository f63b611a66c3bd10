"""A source resolves by one set of rules wherever it lives: the same layouts, as a local folder and
as objects in a bucket (moto's S3 server), name the same files in the same order with the same
format, or fail with the same SourceError (only the location differs).

Both sides go through meshc.storage.sources.fetch, the path every run takes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from meshc.errors import SourceError
from meshc.storage.location import parse
from meshc.storage.sources import fetch
from meshc.storage.spool import Spool
from tests.storage.conftest import S3Server

# relative path -> body; a name ending in "/" is an empty folder (a folder marker in the bucket)
LAYOUT = {
    "single/orders.csv": b"id\n1\n",
    "single/notes.txt": b"not data",
    "odd/data.bin": b"id\n1\n",
    # what Spark writes: parts, their checksums and the marker
    "spark/part-00000.parquet": b"p0",
    "spark/part-00001.parquet": b"p1",
    "spark/.part-00000.parquet.crc": b"crc",
    "spark/.part-00001.parquet.crc": b"crc",
    "spark/_SUCCESS": b"",
    # nested folders; "2024-extra" sorts after "2024/..." folder by folder, before it as text
    "nested/2024/01/a.csv": b"id\n1\n",
    "nested/2024/02/b.csv": b"id\n2\n",
    "nested/2024-extra/c.csv": b"id\n3\n",
    "nested/_SUCCESS": b"",
    "mixed/a.csv": b"id\n1\n",
    "mixed/b.parquet": b"p",
    "mixed/readme.txt": b"text",
    "glob/x-1.csv": b"id\n1\n",
    "glob/x-2.csv": b"id\n2\n",
    "glob/.x-3.csv": b"id\n3\n",
    "glob/sub/x-4.csv": b"id\n4\n",
    "glob/.hidden/x-5.csv": b"id\n5\n",
    "glob/_x-6.csv": b"id\n6\n",
    # what a failed or running job leaves next to its parts: never read unless named
    "jobs/part-0.csv": b"id\n0\n",
    "jobs/_temporary/0/part-1.csv": b"id\n1\n",
    "jobs/.staging/x.csv": b"id\nx\n",
    "jobs/sub/part-2.csv": b"id\n2\n",
    "_named/a.csv": b"id\n1\n",  # a folder the user names may start with '_' or '.'
    "_named/_temporary/b.csv": b"id\n2\n",
    ".named/a.csv": b"id\n1\n",
    "markers_only/_SUCCESS": b"",
    "markers_only/.part-0.crc": b"crc",
    "empty/": b"",
}

# (source relative to the layout, source.format) -> (relative names, format), or the start of the
# error with the layout's location written <root>
CASES: list[tuple[str, str | None, tuple[list[str], str] | str]] = [
    ("single/orders.csv", None, (["single/orders.csv"], "csv")),
    ("single/orders.csv", "json", (["single/orders.csv"], "json")),  # a named file: any suffix
    ("odd/data.bin", "csv", (["odd/data.bin"], "csv")),
    ("odd/data.bin", None, "cannot tell the format of <root>/odd/data.bin"),
    ("spark", None, (["spark/part-00000.parquet", "spark/part-00001.parquet"], "parquet")),
    ("spark/", None, (["spark/part-00000.parquet", "spark/part-00001.parquet"], "parquet")),
    (
        "nested",
        None,
        (["nested/2024/01/a.csv", "nested/2024/02/b.csv", "nested/2024-extra/c.csv"], "csv"),
    ),
    ("mixed", None, "cannot tell the format of <root>/mixed"),
    ("mixed", "csv", (["mixed/a.csv"], "csv")),
    ("mixed", "parquet", (["mixed/b.parquet"], "parquet")),
    ("mixed", "json", "no json files in <root>/mixed"),
    ("glob/*.csv", None, (["glob/x-1.csv", "glob/x-2.csv"], "csv")),
    ("glob/x-[12].csv", None, (["glob/x-1.csv", "glob/x-2.csv"], "csv")),
    ("glob/.*.csv", None, (["glob/.x-3.csv"], "csv")),
    ("glob/**/*.csv", None, (["glob/sub/x-4.csv", "glob/x-1.csv", "glob/x-2.csv"], "csv")),
    ("glob/**", None, (["glob/sub/x-4.csv", "glob/x-1.csv", "glob/x-2.csv"], "csv")),
    ("glob/*/x-?.csv", None, (["glob/sub/x-4.csv"], "csv")),
    ("glob/**/.hidden/*.csv", None, (["glob/.hidden/x-5.csv"], "csv")),
    ("glob/_*.csv", None, (["glob/_x-6.csv"], "csv")),
    ("jobs", None, (["jobs/part-0.csv", "jobs/sub/part-2.csv"], "csv")),
    ("jobs/", None, (["jobs/part-0.csv", "jobs/sub/part-2.csv"], "csv")),
    ("jobs/**/*.csv", None, (["jobs/part-0.csv", "jobs/sub/part-2.csv"], "csv")),
    ("jobs/*/*.csv", None, (["jobs/sub/part-2.csv"], "csv")),
    ("jobs/_temporary", None, (["jobs/_temporary/0/part-1.csv"], "csv")),
    ("jobs/_temporary/**/*.csv", None, (["jobs/_temporary/0/part-1.csv"], "csv")),
    ("jobs/_*/*/*.csv", None, (["jobs/_temporary/0/part-1.csv"], "csv")),
    ("jobs/.staging/*.csv", None, (["jobs/.staging/x.csv"], "csv")),
    ("_named", None, (["_named/a.csv"], "csv")),
    (".named", None, ([".named/a.csv"], "csv")),
    ("_named/*.csv", None, (["_named/a.csv"], "csv")),
    ("*/orders.csv", None, (["single/orders.csv"], "csv")),
    ("glob/*.json", None, "no files match <root>/glob/*.json"),
    ("empty", None, "no files in <root>/empty"),
    ("markers_only", None, "no files in <root>/markers_only"),
    ("missing", None, "source not found: <root>/missing"),
    ("single/missing.csv", None, "source not found: <root>/single/missing.csv"),
]


@pytest.fixture(scope="module")
def local_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("parity") / "layout"
    for name, body in LAYOUT.items():
        path = root / name
        if name.endswith("/"):
            path.mkdir(parents=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return root


@pytest.fixture(scope="module")
def bucket(s3_server: S3Server) -> str:
    name = s3_server.bucket("meshc-parity")
    client = s3_server.client()
    for key, body in LAYOUT.items():
        client.put_object(Bucket=name, Key=f"layout/{key}", Body=body)
    return name


@pytest.fixture
def spool() -> Iterator[Spool]:
    spool = Spool()
    yield spool
    spool.close()


def _resolve(root: str, where: str, fmt: str | None, spool: Spool) -> tuple[list[str], str] | str:
    """What a run reads for `where` under `root`: names relative to root and the format, or the
    SourceError's message with `root` written <root>."""
    try:
        files = fetch(parse(f"{root}/{where}", format=fmt), spool)
    except SourceError as exc:
        return str(exc).replace(root, "<root>")
    names = [str(i["name"]) for i in files.inputs]
    prefix = root.split("://", 1)[-1].split("/", 1)[-1] if "://" in root else root
    assert all(n.startswith(f"{prefix}/") for n in names), names
    return [n[len(prefix) + 1 :] for n in names], files.format


@pytest.mark.parametrize(("where", "fmt", "expected"), CASES)
def test_a_layout_resolves_alike_in_a_local_folder_and_in_a_bucket(
    where: str,
    fmt: str | None,
    expected: tuple[list[str], str] | str,
    local_root: Path,
    bucket: str,
    s3: S3Server,
    spool: Spool,
) -> None:
    local = _resolve(str(local_root.resolve()), where, fmt, spool)
    remote = _resolve(f"s3://{bucket}/layout", where, fmt, spool)
    assert local == remote
    if isinstance(expected, str):
        assert isinstance(local, str) and local.startswith(expected), local
    else:
        assert local == expected


def test_a_file_reached_twice_through_symlinks_is_read_once(tmp_path: Path) -> None:
    """Local folders only (buckets have no links): a link back up (a loop) or a second name for
    a file must not read its rows twice; a linked folder is read, as a glob always did."""
    from meshc.runner.sources import resolve_source

    folder = tmp_path / "in"
    (folder / "s").mkdir(parents=True)
    (folder / "s" / "a.csv").write_text("id\n1\n", encoding="utf-8")
    (folder / "s" / "up").symlink_to("..")  # in/s/up/s/up/... until the OS refuses
    (folder / "b.csv").symlink_to(folder / "s" / "a.csv")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "c.csv").write_text("id\n3\n", encoding="utf-8")
    (folder / "linked").symlink_to(tmp_path / "other")
    expected = (str((folder / "s" / "a.csv").resolve()), str((tmp_path / "other/c.csv").resolve()))
    for source in (folder, folder / "**" / "*.csv"):
        assert resolve_source(str(source)).paths == expected
