"""The one SparkSession meshc creates (lazily), tuned for a small local machine."""

from __future__ import annotations

import threading

from pyspark.sql import SparkSession

_LOCK = threading.Lock()
_SESSION: SparkSession | None = None

# UTC: naive timestamps and the session's rendering of instants must not depend on the host.
# TIMESTAMP_MICROS: Parquet output in the standard microsecond type, not the legacy INT96.
SESSION_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def get_session() -> SparkSession:
    """The shared local session, created on first use (Spark start-up takes seconds)."""
    global _SESSION
    with _LOCK:
        if _SESSION is None or _SESSION.sparkContext._jsc is None:  # stopped by someone
            builder = SparkSession.builder.master("local[2]").appName("meshc")
            for key, value in SESSION_CONF.items():
                builder = builder.config(key, value)
            _SESSION = builder.getOrCreate()
            _SESSION.sparkContext.setLogLevel("ERROR")
        return _SESSION
