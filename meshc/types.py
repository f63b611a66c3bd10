"""meshc's logical type system, shared by every engine.

| logical type   | aliases                          | every engine stores it as           |
|----------------|----------------------------------|-------------------------------------|
| string         | varchar, text                    | UTF-8 string                        |
| integer        | int, bigint, long                | signed 64-bit integer               |
| float          | double                           | IEEE 64-bit float (NaN read as NULL)|
| decimal(p, s)  | numeric(p, s)                    | exact decimal; a value with more    |
|                |                                  | than s digits of scale is a cast    |
|                |                                  | failure, never rounded              |
| boolean        | bool                             | boolean                             |
| date           |                                  | calendar date                       |
| timestamp      | datetime                         | timestamp without time zone (us)    |
| timestamp_tz   | timestamp with time zone,        | UTC instant (us); offsets in the    |
|                | timestamptz                      | input are normalised to UTC         |
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Kind(str, Enum):
    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    TIMESTAMP_TZ = "timestamp_tz"


@dataclass(frozen=True)
class LogicalType:
    """A contract type: its kind, and precision and scale for decimals."""

    kind: Kind
    precision: int | None = None
    scale: int | None = None

    def __str__(self) -> str:
        if self.kind is Kind.DECIMAL:
            return f"decimal({self.precision},{self.scale})"
        return self.kind.value

    @property
    def is_numeric(self) -> bool:
        return self.kind in (Kind.INTEGER, Kind.FLOAT, Kind.DECIMAL)

    @property
    def is_temporal(self) -> bool:
        return self.kind in (Kind.DATE, Kind.TIMESTAMP, Kind.TIMESTAMP_TZ)


STRING = LogicalType(Kind.STRING)
INTEGER = LogicalType(Kind.INTEGER)
FLOAT = LogicalType(Kind.FLOAT)
BOOLEAN = LogicalType(Kind.BOOLEAN)
DATE = LogicalType(Kind.DATE)
TIMESTAMP = LogicalType(Kind.TIMESTAMP)
TIMESTAMP_TZ = LogicalType(Kind.TIMESTAMP_TZ)

ALIASES: dict[str, LogicalType] = {
    "string": STRING,
    "varchar": STRING,
    "text": STRING,
    "integer": INTEGER,
    "int": INTEGER,
    "bigint": INTEGER,
    "long": INTEGER,
    "float": FLOAT,
    "double": FLOAT,
    "boolean": BOOLEAN,
    "bool": BOOLEAN,
    "date": DATE,
    "timestamp": TIMESTAMP,
    "datetime": TIMESTAMP,
    "timestamp with time zone": TIMESTAMP_TZ,
    "timestamptz": TIMESTAMP_TZ,
}
_DECIMAL = re.compile(r"^(?:decimal|numeric)\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
MAX_DECIMAL_PRECISION = 38  # the common maximum of Polars, DuckDB, Spark and Arrow


class UnknownType(ValueError):
    """Raised with a message fit for a diagnostic."""


def parse_type(text: str) -> LogicalType:
    """Parse a contract type string ('bigint', 'decimal(12,2)', ...) into a LogicalType."""
    norm = " ".join(text.strip().lower().split())
    if norm in ALIASES:
        return ALIASES[norm]
    match = _DECIMAL.match(norm)
    if match:
        precision, scale = int(match.group(1)), int(match.group(2))
        if not 1 <= precision <= MAX_DECIMAL_PRECISION:
            raise UnknownType(
                f"decimal precision must be 1..{MAX_DECIMAL_PRECISION}, got {precision}"
            )
        if scale > precision:
            raise UnknownType(f"decimal scale {scale} exceeds precision {precision}")
        return LogicalType(Kind.DECIMAL, precision, scale)
    if norm in ("decimal", "numeric"):
        raise UnknownType("decimal needs a precision and scale, e.g. decimal(12,2)")
    raise UnknownType(f"unknown type '{text}'")
