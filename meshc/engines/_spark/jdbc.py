"""PostgreSQL read by Spark itself, through JDBC: the rows go from the database to the executors,
not through this process (meshc.engines.base.ReadsDatabases).

The driver is the PostgreSQL JDBC jar (Debian: libpostgresql-jdbc-java). A session started with
it (`--spark-conf spark.jars=/usr/share/java/postgresql.jar`) is used as it is; otherwise meshc
adds the jar named by MESHC_POSTGRESQL_JDBC_JAR (default below) to the session on first use
(`ADD JAR`, which also ships it to a cluster's executors).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pyspark.sql import DataFrame, SparkSession

from meshc.errors import SourceError
from meshc.storage.database import table_sql
from meshc.storage.location import Location
from meshc.storage.query import query_problem

JAR_ENV = "MESHC_POSTGRESQL_JDBC_JAR"
DEFAULT_JAR = "/usr/share/java/postgresql.jar"
DRIVER = "org.postgresql.Driver"
# every statement of the JDBC session is read-only: a query can read, never write
READ_ONLY = "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"


def jdbc_options(location: Location) -> dict[str, str]:
    """The JDBC reader's options for `location`: the URL without a user, user from the URL or
    PGUSER, password from PGPASSWORD (pgjdbc also reads ~/.pgpass), and the table or query."""
    parts = urlsplit(location.url)
    netloc = parts.hostname or "localhost"
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    url = "jdbc:" + urlunsplit(("postgresql", netloc, parts.path, parts.query, ""))
    options = {"url": url, "driver": DRIVER, "sessionInitStatement": READ_ONLY}
    user = parts.username or os.environ.get("PGUSER")
    if user:
        options["user"] = user
    if os.environ.get("PGPASSWORD"):
        options["password"] = os.environ["PGPASSWORD"]
    if location.table is not None:
        try:
            options["dbtable"] = table_sql(location.table, "postgresql")
        except ValueError as exc:
            raise SourceError(f"{location.text}: {exc}; nothing was read") from None
    else:
        problem = query_problem(location.query or "", "postgresql")
        if problem is not None:
            raise SourceError(f"{location.text}: {problem}; nothing was read")
        options["query"] = location.query or ""
    return options


def read_postgresql(spark: SparkSession, location: Location) -> DataFrame:
    """The table or query of `location` as a DataFrame (its schema resolved now, so a missing
    table or an unreachable server fails here with a SourceError)."""
    options = jdbc_options(location)
    try:
        return _load(spark, options)
    except Exception as exc:  # py4j and pyspark raise many kinds; all mean "cannot read"
        if DRIVER not in str(exc) or not _add_driver(spark):
            raise _source_error(location, exc) from None
    try:
        return _load(spark, options)
    except Exception as exc:  # noqa: BLE001 - reported as the SourceError
        raise _source_error(location, exc) from None


def _load(spark: SparkSession, options: dict[str, str]) -> DataFrame:
    return spark.read.format("jdbc").options(**options).load()


def driver_jar() -> Path:
    return Path(os.environ.get(JAR_ENV) or DEFAULT_JAR)


def _add_driver(spark: SparkSession) -> bool:
    """Add the configured driver jar to the session; False when there is no such file."""
    jar = driver_jar()
    if not jar.is_file() or "'" in str(jar) or "\\" in str(jar):
        return False
    spark.sql(f"ADD JAR '{jar}'")  # a configured local path (checked above), never contract text
    return True


def _source_error(location: Location, exc: BaseException) -> SourceError:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    cause = next((line for line in lines if "Exception:" in line or "ERROR:" in line), "")
    detail = cause or (lines[0] if lines else type(exc).__name__)
    if DRIVER in detail:
        detail = (
            f"the PostgreSQL JDBC driver ({DRIVER}) is not on Spark's classpath and "
            f"{driver_jar()} does not exist: install libpostgresql-jdbc-java, set {JAR_ENV}, or "
            "start Spark with --spark-conf spark.jars=/path/to/postgresql.jar"
        )
    return SourceError(f"cannot read {location.text} through JDBC: {detail}")
