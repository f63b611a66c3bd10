"""The Spark engine: meshc's Engine Protocol on a (local or user-supplied) SparkSession."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession

from meshc.engines._spark import io
from meshc.engines._spark.session import get_session
from meshc.engines._spark.translate import translate
from meshc.engines._spark.validate import cast as cast_frame
from meshc.engines._spark.validate import validate as validate_frame
from meshc.engines.base import EngineLifecycle, Split, ValidationPlan, refuse_unknown_options
from meshc.engines.spark_settings import SparkSettings, configured, runs_on_this_machine
from meshc.rules import expr as ir


class SparkEngine(EngineLifecycle):
    """Validates Spark DataFrames (classic or Spark Connect) of any session; the session it reads
    with is the one given, else one built from `settings`, else the active one, else one built
    from the configured settings (meshc.engines.spark_settings), found on first use.
    `close` leaves the session running: it is shared or the caller's."""

    name = "spark"

    def __init__(
        self, session: SparkSession | None = None, settings: SparkSettings | None = None
    ) -> None:
        self._session = session
        self._settings = settings

    @property
    def session(self) -> SparkSession:
        if self._session is None:
            self._session = get_session(self._settings)
        return self._session

    def read(
        self,
        paths: Sequence[str],
        fmt: str,
        *,
        delimiter: str = ",",
        header: bool = True,
        text_columns: Sequence[str] = (),
    ) -> DataFrame:
        # text sources are read with every column as a string; text_columns must be in every file
        return io.read(
            self.session, paths, fmt, delimiter=delimiter, header=header, required=text_columns
        )

    def validate(self, frame: DataFrame, plan: ValidationPlan) -> Split[DataFrame]:
        return validate_frame(frame, plan)

    def cast(self, frame: DataFrame, plan: ValidationPlan) -> DataFrame:
        return cast_frame(frame, plan)

    def aggregate(self, frame: DataFrame, exprs: Mapping[str, ir.Expr]) -> dict[str, Any]:
        """One aggregation for all expressions; values come back through Arrow so timestamps
        are UTC-aware and decimals exact."""
        if not exprs:
            return {}
        names = list(exprs)
        columns = [translate(exprs[n]).alias(f"__meshc_a{i}") for i, n in enumerate(names)]
        row = frame.select(*columns).toArrow().to_pylist()[0]
        return {n: row[f"__meshc_a{i}"] for i, n in enumerate(names)}

    def write(self, frame: DataFrame, path: Path, fmt: str) -> None:
        io.write(frame, Path(path), fmt)

    def mask(self, frame: DataFrame, masks: Mapping[str, str]) -> DataFrame:
        from meshc.engines._spark.mask import mask_frame

        return mask_frame(frame, masks) if masks else frame

    def to_arrow(self, frame: DataFrame) -> pa.Table:
        return frame.toArrow()

    def head(self, frame: DataFrame, n: int) -> pa.Table:
        return frame.limit(n).toArrow()

    def columns(self, frame: DataFrame) -> list[str]:
        return list(frame.columns)

    # Distributed: a cluster's executors cannot see this machine's spool (meshc.storage)
    def on_this_machine(self) -> bool:
        """Decided from the session `self.session` would use if one exists, else from the
        settings it would build one from: refusing a run must not start a JVM or join a cluster."""
        session: object = self._session
        if session is None and self._settings is None:
            session = SparkSession.getActiveSession()  # None, starting nothing, when none runs
        if session is None:
            return (self._settings or configured()).on_this_machine
        # a Spark Connect session is not a classic SparkSession: its executors are the server's
        if not isinstance(session, SparkSession):
            return False
        return runs_on_this_machine(session.conf.get("spark.master") or "")

    # ReadsDatabases: PostgreSQL through JDBC, straight to the executors (_spark/jdbc.py)
    def reads_database(self, scheme: str) -> bool:
        return scheme == "postgresql"

    def read_database(self, location: Any) -> DataFrame:
        from meshc.engines._spark.jdbc import read_postgresql

        return read_postgresql(self.session, location)


def create(**options: Any) -> SparkEngine:
    """The registry's entry point: `create(session=spark)` runs on that SparkSession;
    `create(master="spark://host:7077" | "sc://host:15002" | "local[*]", conf={...})` on one
    built from them; with neither, on the active session or one built from the configured
    settings (created lazily)."""
    refuse_unknown_options("spark", options, ("session", "master", "conf"))
    session = options.get("session")
    master, conf = options.get("master"), options.get("conf")
    if session is not None and (master or conf):
        raise TypeError("spark engine: pass either session= or master=/conf=, not both")
    settings = SparkSettings(master, dict(conf or {})) if (master or conf) else None
    return SparkEngine(session, settings)
