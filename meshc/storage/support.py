"""Which engine reaches which storage, as data: the runner refuses what an engine cannot reach
before reading anything, `meshc check` names the missing library, and docs/storage.md shows the
same table (tests compare it with this one).

Polars, pandas and DuckDB reach everything through this machine: sources are fetched to the spool
and outputs published from it (meshc.storage.sources / publish). Spark reads what its own executors
can read: local files, and PostgreSQL through JDBC; a Delta table or a bucket needs jars on Spark's
classpath that meshc does not install.
"""

from __future__ import annotations

from dataclasses import dataclass

from meshc.storage.location import Location

STORAGES = ("files", "objects", "delta", "postgresql", "duckdb")
ENGINES = ("polars", "pandas", "duckdb", "spark")

# storage -> (python module that must import, the pip extra that brings it)
REQUIRES: dict[str, tuple[str, str]] = {
    "objects": ("pyarrow.fs", "meshc[polars]"),
    "delta": ("deltalake", "meshc[delta]"),
    "postgresql": ("adbc_driver_postgresql", "meshc[postgresql]"),
    "duckdb": ("duckdb", "meshc[duckdb]"),
}


@dataclass(frozen=True)
class Reach:
    """Whether an engine reaches a kind of storage, and how."""

    supported: bool
    how: str  # how meshc reaches the storage, or what the engine would need


_FETCHED = Reach(True, "fetched to the spool / published from it")
_NATIVE = Reach(True, "read and written by the engine")
SUPPORT: dict[tuple[str, str], Reach] = {
    **{(e, "files"): _NATIVE for e in ENGINES},
    **{(e, s): _FETCHED for e in ("polars", "pandas", "duckdb") for s in STORAGES if s != "files"},
    ("spark", "objects"): Reach(
        False,
        "Spark reads buckets through the hadoop-aws (s3a), gcs-connector or hadoop-azure jars on "
        "its classpath, which meshc does not install: run this contract on polars, pandas or "
        "duckdb, or copy the objects to a path Spark's executors read",
    ),
    ("spark", "delta"): Reach(
        False,
        "Spark reads Delta tables through the delta-spark jars (io.delta:delta-spark_2.13, with "
        "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension), which meshc does not "
        "install: run this contract on polars, pandas or duckdb",
    ),
    ("spark", "postgresql"): Reach(
        True,
        "read through JDBC (the PostgreSQL driver jar: libpostgresql-jdbc-java); tables are "
        "written back through the driver's spool, on a local master only",
    ),
    ("spark", "duckdb"): Reach(
        True,
        "fetched to / published from the driver's spool, on a local master only (a cluster's "
        "executors cannot see it: refused before reading or writing)",
    ),
}


def storage_of(location: Location) -> str:
    if location.kind == "table":
        return location.scheme
    if location.kind == "delta":
        return "delta"
    return "objects" if location.on_object_store else "files"


def reach(engine: str, location: Location) -> Reach:
    """How `engine` reaches `location` (engines outside the table: as Polars does)."""
    storage = storage_of(location)
    return SUPPORT.get((engine, storage)) or SUPPORT[("polars", storage)]
