"""Where meshc's Spark session runs: a master URL or a Spark Connect URL, and Spark conf.

Public and free of pyspark (the CLI and mesh.yaml set it before any engine is imported). The Spark
engine reads it only when it has to build a session itself: a session the caller passes, or the
active one, is used as it is.

Several places can name where the session runs: `--spark-master`, `--spark-conf spark.master` or
`spark.remote`, mesh.yaml's `spark:` block (its `master` and its `conf`), SPARK_REMOTE in the
environment. `SparkSettings.place` is the one rule that picks one of them (docs/spark.md, "Where
the session runs"); the session meshc builds and `on_this_machine` both use its answer.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from meshc.errors import EngineNotAvailable

DEFAULT_MASTER = "local[*]"
# The conf keys that name a place rather than configure the session: folded into `place()`.
PLACE_KEYS = ("spark.master", "spark.remote")
WHERE_DOCS = "docs/spark.md: where the session runs"


@dataclass(frozen=True)
class Origin:
    """How one layer of settings is spelled to its user, for messages naming a value's source."""

    master: str  # a format of {value}
    conf: str  # a format of {key} and {value}


COMMAND_LINE = Origin("--spark-master {value}", "--spark-conf {key}={value}")
MESH_YAML = Origin("mesh.yaml spark.master: {value}", "mesh.yaml spark.conf {key}: {value}")
OPTIONS = Origin("master='{value}'", "conf={{'{key}': '{value}'}}")  # get_engine("spark", ...)


@dataclass(frozen=True)
class Place:
    """Where a session runs (`url`) and who said so (`named`, e.g. `--spark-master local[1]`).
    `key`: the setting of its layer that named it (`master`, or the conf key `spark.master` /
    `spark.remote`), so `meshc check` can point at it in mesh.yaml; empty for the environment
    and the default."""

    url: str
    named: str
    key: str = field(default="", compare=False)

    @property
    def is_connect(self) -> bool:
        return self.url.startswith("sc://")


@dataclass(frozen=True)
class SparkSettings:
    """`master`: `local[*]`, `spark://host:port`, `yarn`, ... or `sc://host:port` (Spark Connect).
    `conf`: Spark conf applied when meshc builds the session (over meshc's own defaults).
    `origin` says who set them (in messages); `base` is the layer under them (mesh.yaml under
    the CLI flags, see `over`)."""

    master: str | None = None
    conf: Mapping[str, str] = field(default_factory=dict)
    origin: Origin = field(default=OPTIONS, compare=False)
    base: SparkSettings | None = None

    def place(self) -> Place:
        """Where a session built from these settings runs: the first layer that names a place
        (its `master`, else its conf's `spark.remote`/`spark.master`), else SPARK_REMOTE, else
        `local[*]`. EngineNotAvailable, naming both values, when pyspark could not honour the
        winner: a master next to a Connect URL in one layer, or next to SPARK_REMOTE."""
        named = self.named_place()
        remote = os.environ.get("SPARK_REMOTE")
        place = named or (
            Place(remote, f"SPARK_REMOTE={remote} (environment)")
            if remote
            else Place(DEFAULT_MASTER, f"the default {DEFAULT_MASTER}")
        )
        _require_buildable(place)
        return place

    def named_place(self) -> Place | None:
        """The place the layers name, by the rule of `place` but without the environment
        (SPARK_REMOTE, MASTER) or the default: None when no layer names one; PlaceConflict when
        a layer names two. `meshc check` judges mesh.yaml's block alone with it (MC407): the
        environment belongs to the machine of a run, not to the file."""
        return next((p for layer in self._layers() if (p := layer._own_place())), None)

    @property
    def is_connect(self) -> bool:
        return self.place().is_connect

    @property
    def on_this_machine(self) -> bool:
        """Whether a session built from these settings would run every executor on this machine,
        decided without building one, from the place that wins (refused when none can)."""
        return runs_on_this_machine(self.place().url)

    @property
    def session_conf(self) -> dict[str, str]:
        """The conf of every layer, upper layers over lower ones, without the keys that name a
        place: the builder gets the winning place once (a later `.config("spark.master")` would
        silently move the session)."""
        merged: dict[str, str] = {}
        for layer in reversed(list(self._layers())):
            merged.update(layer.conf)
        return {k: v for k, v in merged.items() if k not in PLACE_KEYS}

    def over(self, base: SparkSettings) -> SparkSettings:
        """These settings where given, `base` for the rest (a CLI flag over mesh.yaml)."""
        under = base if self.base is None else self.base.over(base)
        return SparkSettings(self.master, self.conf, self.origin, under)

    def _layers(self) -> Iterator[SparkSettings]:
        layer: SparkSettings | None = self
        while layer is not None:
            yield layer
            layer = layer.base

    def _own_place(self) -> Place | None:
        """The place this layer names. spark-submit's rule: `--master` wins over `--conf
        spark.master`; a master next to a Connect URL is refused (spark-submit: "Remote cannot
        be specified with master"; pyspark's builder alike), and so are two conf keys naming
        two places (neither comes first)."""
        named = (
            [Place(self.master, self.origin.master.format(value=self.master), "master")]
            if self.master
            else []
        )
        for key in PLACE_KEYS:
            if value := self.conf.get(key):
                named.append(Place(value, self.origin.conf.format(key=key, value=value), key))
        for other in named[1:]:
            if other.is_connect != named[0].is_connect or (
                other.url != named[0].url and not self.master
            ):
                raise PlaceConflict(named[0], other)
        return named[0] if named else None


def _require_buildable(place: Place) -> None:
    """pyspark's builder refuses a master while SPARK_REMOTE is set and a Connect URL while MASTER
    is set (CANNOT_CONFIGURE_SPARK_CONNECT_MASTER): say which two values, and who set them."""
    remote, master = os.environ.get("SPARK_REMOTE"), os.environ.get("MASTER")
    if remote and not place.is_connect:
        raise PlaceConflict(place, Place(remote, f"SPARK_REMOTE={remote} (environment)"))
    if master and place.is_connect:
        raise PlaceConflict(place, Place(master, f"MASTER={master} (environment)"))


class PlaceConflict(EngineNotAvailable):
    """Two settings name places for the session and pyspark cannot honour both: `first` (the
    one the rule reads first) and `other`; `problem` says so without the fix."""

    def __init__(self, first: Place, other: Place) -> None:
        self.first, self.other = first, other
        why = (
            ", a master and a Spark Connect server, which pyspark cannot combine"
            if first.is_connect != other.is_connect
            else ""
        )
        self.problem = f"{first.named} and {other.named} name two places for the Spark session{why}"
        super().__init__(f"{self.problem}: keep one of them ({WHERE_DOCS})")


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
        return SparkSettings(origin=MESH_YAML)
    conf = block.get("conf") or {}
    assert isinstance(conf, Mapping)  # the schema allows only a mapping here
    master = block.get("master")
    return SparkSettings(
        str(master) if master else None,
        {str(k): _conf_text(v) for k, v in conf.items()},
        origin=MESH_YAML,
    )


def _conf_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
