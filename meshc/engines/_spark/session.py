"""The SparkSession meshc runs on: the active one, else one built from the configured settings
(meshc.engines.spark_settings: a master URL or a Spark Connect `sc://` URL, and Spark conf)."""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

from pyspark.sql import SparkSession

from meshc.engines.spark_settings import Place, SparkSettings, configured
from meshc.errors import EngineNotAvailable

_LOCK = threading.Lock()
CONNECT_DEFAULT_PORT = 15002  # Spark Connect's own default
CONNECT_TIMEOUT_S = 10.0

# Session conf meshc sets on a session it builds (a caller's session is used as it is).
# UTC: naive timestamps and the session's rendering of instants must not depend on the host.
# TIMESTAMP_MICROS: Parquet output in the standard microsecond type, not the legacy INT96.
SESSION_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
# Static conf: only for a session started in this process (a Spark Connect server refuses them).
LOCAL_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}


def get_session(settings: SparkSettings | None = None) -> SparkSession:
    """`settings` given: a session built from them. Otherwise the active session (the caller's,
    classic or Spark Connect) if there is one, else one built from the configured settings
    (default: `local[*]` with Spark's own partitioning). Spark start-up takes seconds."""
    with _LOCK:
        if settings is None:
            active = SparkSession.getActiveSession()
            if active is not None:
                return active
            settings = configured()
        return _build(settings)


def _build(settings: SparkSettings) -> SparkSession:
    place = settings.place()  # the one place that wins, or EngineNotAvailable naming both
    conf = dict(SESSION_CONF) if place.is_connect else {**SESSION_CONF, **LOCAL_CONF}
    if place.is_connect:
        _require_reachable(place)
    try:
        # the winning place once, and no spark.master/spark.remote after it (session_conf)
        builder = SparkSession.builder.appName("meshc")
        builder = builder.remote(place.url) if place.is_connect else builder.master(place.url)
        for key, value in {**conf, **settings.session_conf}.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
    except Exception as exc:  # pyspark raises many kinds; the run cannot start on any of them
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EngineNotAvailable(
            f"cannot start a SparkSession on '{place.url}' ({place.named}): {detail}"
        ) from exc
    if not place.is_connect:
        _require_master(session, place)
        session.sparkContext.setLogLevel("ERROR")
    return session


def _require_master(session: SparkSession, place: Place) -> None:
    """getOrCreate hands back a running session whatever master was asked for: say so rather
    than run somewhere else than configured."""
    running = session.sparkContext.master
    if running != place.url:
        raise EngineNotAvailable(
            f"a SparkSession on '{running}' is already running in this process, so meshc "
            f"cannot start one on '{place.url}' ({place.named}): stop it first, or pass it "
            "(get_engine('spark', session=spark))"
        )


def _require_reachable(place: Place) -> None:
    """A Spark Connect client retries an unreachable server for minutes: fail fast instead."""
    parsed = urlsplit(place.url)
    host, port = parsed.hostname or "localhost", parsed.port or CONNECT_DEFAULT_PORT
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise EngineNotAvailable(
            f"no Spark Connect server answers at {host}:{port} ({place.named}): {exc}; start "
            "one (sbin/start-connect-server.sh, docs/spark.md) or name another place"
        ) from None
