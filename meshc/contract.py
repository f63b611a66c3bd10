"""The contract model: what a validated contract file means, as frozen dataclasses.

Built by `meshc.loader` from YAML that passed the JSON Schema. Every element keeps the JSON
path it came from so later stages (rule compilation, governance) can point at the YAML line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from meshc.located_yaml import JsonPath, Locator
from meshc.storage.location import Location, parse
from meshc.types import LogicalType

Severity = Literal["error", "warn"]
FileFormat = Literal["csv", "parquet", "json", "ndjson", "delta"]
OutputFormat = Literal["parquet", "csv", "json", "delta"]
WriteMode = Literal["overwrite", "append"]


@dataclass(frozen=True)
class Info:
    """The `info` section: who owns the dataset and which version of it this is."""

    version: str
    name: str
    domain: str
    system: str | None = None
    owner: str | None = None
    description: str | None = None
    layer: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])


@dataclass(frozen=True)
class Field:
    """One column of `model.fields`, with its constraints."""

    name: str
    type: LogicalType
    type_text: str
    jpath: JsonPath
    required: bool = False
    unique: bool = False
    primary_key: bool = False
    description: str | None = None
    pii: bool = False
    masking: str | None = None
    accepted_values: tuple[Any, ...] | None = None
    min: Any = None
    max: Any = None
    pattern: str | None = None
    max_length: int | None = None
    references: str | None = None

    @property
    def not_null(self) -> bool:
        return self.required or self.primary_key


@dataclass(frozen=True)
class RowRule:
    """A `quality.row_rules` entry: a SQL condition every row must meet."""

    sql: str
    jpath: JsonPath
    name: str | None = None
    description: str | None = None
    severity: Severity = "error"


@dataclass(frozen=True)
class DatasetRule:
    """A `quality.dataset_rules` entry: a check on the whole dataset."""

    type: Literal["unique", "row_count", "null_ratio", "freshness", "sql"]
    jpath: JsonPath
    name: str | None = None
    description: str | None = None
    severity: Severity = "error"
    columns: tuple[str, ...] = ()
    column: str | None = None
    min: float | None = None
    max: float | None = None
    max_age: str | None = None
    sql: str | None = None


@dataclass(frozen=True)
class Source:
    """Where a run reads the rows from, and how."""

    path: str  # files or a Delta table; for a database: its connection URL (meshc.storage.location)
    format: FileFormat | None = None
    delimiter: str = ","
    header: bool = True
    null_values: tuple[str, ...] = ("",)
    table: str | None = None  # database sources: a table, or
    query: str | None = None  # one SELECT

    @property
    def location(self) -> Location:
        """Raises LocationError when the text names no usable location (`meshc check` says so)."""
        return parse(self.path, format=self.format, table=self.table, query=self.query)


@dataclass(frozen=True)
class Output:
    """Where a run writes the valid rows."""

    target: str  # a folder under the root, an object-store URL, or a database connection URL
    format: OutputFormat = "parquet"
    mode: WriteMode = "overwrite"
    table: str | None = None  # database targets

    @property
    def location(self) -> Location:
        return parse(self.target, format=self.format, table=self.table, mode=self.mode)


@dataclass(frozen=True)
class Quarantine:
    """Where a run writes the failing rows, with their reasons."""

    enabled: bool = True
    target: str | None = None
    include_error_reason: bool = True
    format: OutputFormat = "parquet"
    mode: WriteMode = "overwrite"
    table: str | None = None

    @property
    def location(self) -> Location | None:
        if self.target is None:
            return None
        return parse(self.target, format=self.format, table=self.table, mode=self.mode)


@dataclass(frozen=True)
class Lineage:
    """What a run records about where its rows came from."""

    enabled: bool = False
    columns: bool = True
    openlineage: bool = True


@dataclass(frozen=True)
class TransformInput:
    """A contract a gold transform reads, and the name its SQL gives it."""

    ref: str
    alias: str

    @property
    def domain(self) -> str:
        return self.ref.split(".")[0]

    @property
    def name(self) -> str:
        return self.ref.split(".")[1]


@dataclass(frozen=True)
class Transform:
    """A gold contract's SQL over its inputs."""

    inputs: tuple[TransformInput, ...]
    sql: str
    jpath: JsonPath = ("transform", "sql")


@dataclass(frozen=True)
class Contract:
    """A validated contract file (`meshc.loader` builds it)."""

    info: Info
    fields: tuple[Field, ...]
    row_rules: tuple[RowRule, ...] = ()
    dataset_rules: tuple[DatasetRule, ...] = ()
    max_quarantine_ratio: float | None = None
    extra_columns: Literal["drop", "keep", "error"] = "drop"
    source: Source | None = None
    output: Output | None = None
    quarantine: Quarantine = Quarantine()
    lineage: Lineage = Lineage()
    transform: Transform | None = None
    path: str = "<memory>"
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    locator: Locator | None = field(default=None, compare=False, repr=False)

    @property
    def ref(self) -> str:
        """`domain.name`, how other contracts refer to this one."""
        return f"{self.info.domain}.{self.info.name}"

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def hash(self) -> str:
        """sha256 of the contract's canonical JSON: stable across formatting and comments."""
        import hashlib  # only runs hash contracts: not on the path of `meshc check`

        canonical = json.dumps(self.raw, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
