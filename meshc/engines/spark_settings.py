"""Where meshc's Spark session runs: a master URL or a Spark Connect URL, and Spark conf.

Public and free of pyspark (the CLI and mesh.yaml set it before any engine is imported). The Spark
engine reads it only when it has to build a session itself: a session the caller passes, or the
active one, is used as it is.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

DEFAULT_MASTER = "local[*]"


@dataclass(frozen=True)
class SparkSettings:
    """`master`: `local[*]`, `spark://host:port`, `yarn`, ... or `sc://host:port` (Spark Connect).
    `conf`: Spark conf applied when meshc builds the session (over meshc's own defaults)."""

    master: str | None = None
    conf: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_connect(self) -> bool:
        return (self.master or "").startswith("sc://")

    @property
    def on_this_machine(self) -> bool:
        """Whether a session built from these settings would run every executor on this machine,
        decided without building one. `spark.master` / `spark.remote` in `conf` and SPARK_REMOTE
        in the environment also say where pyspark's builder goes, so each must be local too."""
        named = (self.conf.get("spark.master"), self.conf.get("spark.remote"))
        places = [self.master or DEFAULT_MASTER, *named, os.environ.get("SPARK_REMOTE")]
        return all(runs_on_this_machine(p) for p in places if p)

    def over(self, base: SparkSettings) -> SparkSettings:
        """These settings where given, `base` for the rest (a CLI flag over mesh.yaml)."""
        return SparkSettings(self.master or base.master, {**base.conf, **self.conf})


def runs_on_this_machine(master: str) -> bool:
    """Whether a session on `master` has all its executors on this machine, so they can read and
    write its temporary folder: `local`, `local[N]`, `local[*]`, `local[N,F]`, and
    `local-cluster[N,C,M]` (Spark's test cluster: executors in separate JVMs, on this machine).
    Anything else is a cluster: `spark://`, `yarn`, `k8s://`, and `sc://` (Spark Connect: the
    server's executors, wherever the server runs)."""
    return master == "local" or master.startswith(("local[", "local-cluster["))


_CONFIGURED = SparkSettings()


def configure(settings: SparkSettings) -> None:
    """The settings of the session meshc builds in this process when none is active or given
    (set by `meshc run/mesh --spark-master/--spark-conf` and mesh.yaml's `spark:` block)."""
    global _CONFIGURED
    _CONFIGURED = settings


def configured() -> SparkSettings:
    return _CONFIGURED


def parse_conf(pairs: Iterable[str]) -> dict[str, str]:
    """`key=value` strings (the CLI's repeated --spark-conf) as a dict; ValueError naming a pair
    without `=` or with an empty key."""
    conf: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--spark-conf expects KEY=VALUE, got '{pair}'")
        conf[key.strip()] = value
    return conf


def from_mapping(block: Mapping[str, object] | None) -> SparkSettings:
    """mesh.yaml's `spark:` block ({master: URL, conf: {key: value}}); values become strings as
    Spark conf is text (`true`, `4`)."""
    if not block:
        return SparkSettings()
    conf = block.get("conf") or {}
    assert isinstance(conf, Mapping)  # the schema allows only a mapping here
    master = block.get("master")
    return SparkSettings(
        str(master) if master else None, {str(k): _conf_text(v) for k, v in conf.items()}
    )


def _conf_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
