"""`--spark-master` / `--spark-conf` of `meshc run` and `meshc mesh`: where the Spark engine's
session runs, over mesh.yaml's `spark:` block (docs/spark.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import typer

MASTER_HELP = (
    "Spark master for --engine spark: local[*], spark://HOST:7077, yarn, ... or a Spark Connect "
    "URL sc://HOST:15002 \\[default: mesh.yaml's spark.master, else local[*]]."
)
CONF_HELP = (
    "Spark conf KEY=VALUE for the session meshc builds (repeatable; over mesh.yaml's). "
    "--spark-master wins over spark.master here (docs/spark.md)."
)


def configure_spark(
    master: str | None, conf_pairs: Sequence[str] | None, mesh_block: Mapping[str, Any] | None
) -> None:
    """Set the process's Spark settings: the flags over mesh.yaml's `spark:` block. Cheap: no
    pyspark import (the session is built only if a Spark run needs it)."""
    from meshc.engines import spark_settings as ss

    try:
        conf = ss.parse_conf(conf_pairs or ())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--spark-conf") from None
    flags = ss.SparkSettings(master, conf, origin=ss.COMMAND_LINE)
    # which of them names the session's place is decided when a Spark run needs it
    # (SparkSettings.place), so a conflict refuses Spark runs only
    ss.configure(flags.over(ss.from_mapping(mesh_block)))
