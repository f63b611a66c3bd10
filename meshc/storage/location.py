"""Where data lives, as one typed value: local files, objects in a bucket, a Delta table or a
database table. Pure and light (no storage library is imported): `meshc check` uses it too.

One text form names every location, in contracts and on the command line (`--source`, `-o`, `-q`):

    data/orders.csv, landing/*.csv          local files (a file, a folder or a glob)
    s3://bucket/landing/orders/*.csv        objects (also gs://, az://; credentials from the
                                            standard environment: AWS_*, GOOGLE_*, AZURE_*)
    lake/orders (format delta), s3://b/t    a Delta table: a folder holding `_delta_log/`
    postgresql://host:5432/db#schema.table  a PostgreSQL table (password: PGPASSWORD or ~/.pgpass)
    duckdb:warehouse.duckdb#main.orders     a table in a DuckDB database file

A contract may also name a database source by `connection` + `table` (or `query`, one SELECT).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["files", "delta", "table"]
Mode = Literal["overwrite", "append"]

OBJECT_SCHEMES = ("s3", "gs", "az")
DATABASE_SCHEMES = ("postgresql", "duckdb")
# spellings users type for the same scheme -> the one meshc uses
_SCHEME_ALIASES = {
    "s3a": "s3",
    "gcs": "gs",
    "abfs": "az",
    "abfss": "az",
    "postgres": "postgresql",
}
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):(?P<rest>.*)$", re.S)
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_PASSWORD = re.compile(r"^//[^/@:]*:[^/@]*@")


class LocationError(ValueError):
    """A location text meshc cannot use; the message says what to write instead."""


@dataclass(frozen=True)
class Location:
    """Where data lives: local files, objects, a Delta table or a database table."""

    kind: Kind
    scheme: str  # "file", one of OBJECT_SCHEMES, or one of DATABASE_SCHEMES
    url: str  # a local path, an object URL, or the database's connection URL (no table)
    table: str | None = None  # database tables: [schema.]table
    query: str | None = None  # database sources only: one SELECT
    format: str | None = None  # files: csv, parquet, json, ndjson; delta tables: "delta"
    mode: Mode = "overwrite"

    @property
    def local(self) -> bool:
        return self.scheme == "file"

    @property
    def on_object_store(self) -> bool:
        return self.scheme in OBJECT_SCHEMES

    @property
    def text(self) -> str:
        """The one text form (see the module docstring): what reports and lineage show."""
        if self.kind == "table":
            return f"{self.url}#{self.table}" if self.table else f"{self.url} (query)"
        return self.url

    def with_child(self, name: str) -> Location:
        """A file inside this folder location (a declared files target receives `data.<ext>`)."""
        sep = "" if self.url.endswith("/") else "/"
        return Location(
            self.kind, self.scheme, f"{self.url}{sep}{name}", format=self.format, mode=self.mode
        )


def scheme_of(text: str) -> str:
    """'file' for local paths (Windows drives included), else the canonical URL scheme."""
    if _WINDOWS_DRIVE.match(text):
        return "file"
    found = _URL.match(text)
    if found is None:
        return "file"
    scheme = found["scheme"].lower()
    if scheme == "file":
        return "file"
    return _SCHEME_ALIASES.get(scheme, scheme)


def object_parts(url: str) -> tuple[str, str, str]:
    """(scheme, bucket, key) of an object URL. Not urlsplit: `?` and `#` are a glob's and a
    key's own characters here, not a query or a fragment."""
    scheme, _, rest = url.partition("://")
    bucket, _, key = rest.partition("/")
    return scheme.lower(), bucket, key.lstrip("/")


def known_scheme(scheme: str) -> bool:
    return scheme == "file" or scheme in OBJECT_SCHEMES or scheme in DATABASE_SCHEMES


def parse(
    text: str,
    *,
    format: str | None = None,
    table: str | None = None,
    query: str | None = None,
    mode: Mode = "overwrite",
) -> Location:
    """A location from its text form (and the contract keys that complete it).
    Raises LocationError for an unknown scheme, a password in a URL, or a database URL without a
    table or query."""
    scheme = scheme_of(text)
    if not known_scheme(scheme):
        raise LocationError(
            f"unknown storage scheme '{scheme}:' in {_redacted(text)!r}; meshc reads local paths, "
            f"{', '.join(s + '://' for s in OBJECT_SCHEMES)}, postgresql:// and duckdb: locations"
        )
    url = _canonical(text, scheme)
    if scheme in DATABASE_SCHEMES:
        if _PASSWORD.match(url.split(":", 1)[1]):
            raise LocationError(
                f"{_redacted(url)} holds a password: remove it and set PGPASSWORD (or a ~/.pgpass "
                "entry) where meshc runs, so the contract never carries a secret"
            )
        url, _, fragment = url.partition("#")
        table = table or fragment or None
        if table is None and query is None:
            raise LocationError(
                f"{url} names a database but no table: write {url}#schema.table "
                "(or give `table:` / `query:` in the contract)"
            )
        return Location("table", scheme, url, table=table, query=query, mode=mode)
    if url.startswith("file:"):
        url = re.sub(r"^file:(//)?", "", url)
    kind: Kind = "delta" if format == "delta" else "files"
    return Location(kind, scheme, url, format=format, mode=mode)


def _canonical(text: str, scheme: str) -> str:
    found = _URL.match(text)
    if scheme == "file" or found is None or found["scheme"].lower() == scheme:
        return text
    return f"{scheme}:{found['rest']}"


def _redacted(url: str) -> str:
    return re.sub(r"(//[^/@:]*):[^/@]*@", r"\1:***@", url)
