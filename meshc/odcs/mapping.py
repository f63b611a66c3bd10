"""The tables between meshc and ODCS v3, and the report of what did not map."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshc.errors import MeshcError
from meshc.types import Kind, LogicalType

API_VERSION = "v3.2.0"  # the version of the installed standard (open-data-contract-standard)
VENDOR_KEY = "meshc"  # the customProperties entry that keeps what ODCS has no place for
STATUS = "active"  # a meshc contract is enforced as written: ODCS's `active`

# meshc type kind -> ODCS logicalType; the exact meshc type goes to physicalType.
LOGICAL_TYPE: dict[Kind, str] = {
    Kind.STRING: "string",
    Kind.INTEGER: "integer",
    Kind.FLOAT: "number",
    Kind.DECIMAL: "number",
    Kind.BOOLEAN: "boolean",
    Kind.DATE: "date",
    Kind.TIMESTAMP: "timestamp",
    Kind.TIMESTAMP_TZ: "timestamp",
}

# ODCS logicalType -> the meshc type an import uses when physicalType says nothing meshc knows.
MESHC_TYPE: dict[str, str] = {
    "string": "string",
    "integer": "bigint",
    "number": "double",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
}

# meshc severity <-> ODCS quality severity ("info", "warning", "error" in the standard).
TO_ODCS_SEVERITY = {"error": "error", "warn": "warning"}
FROM_ODCS_SEVERITY = {"error": "error", "warning": "warn", "warn": "warn"}

# freshness max_age units <-> ODCS SLA units (ISO-ish: "d", "day", "days"...).
TO_ODCS_UNIT = {"s": "s", "m": "min", "h": "h", "d": "d"}
FROM_ODCS_UNIT = {
    "s": "s", "sec": "s", "second": "s", "seconds": "s",
    "min": "m", "minute": "m", "minutes": "m",
    "h": "h", "hr": "h", "hour": "h", "hours": "h",
    "d": "d", "day": "d", "days": "d",
}  # fmt: skip
FRESHNESS_SLA = ("latency", "freshness")  # SLA properties that say how old the data may be

# meshc keys mapped one-to-one on a field <-> an ODCS property.
FIELD_FLAGS = {"required": "required", "unique": "unique", "description": "description"}


def odcs_logical_type(logical: LogicalType) -> str:
    return LOGICAL_TYPE[logical.kind]


@dataclass(frozen=True)
class NotMapped:
    """One element that has no place on the other side: where it is and why."""

    path: str
    why: str

    def render(self) -> str:
        return f"not mapped: {self.path} ({self.why})"


class OdcsUnavailable(MeshcError):
    """The ODCS package (its JSON Schema) is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "ODCS support needs the open-data-contract-standard package: pip install 'meshc[odcs]'"
        )


def jpath_text(jpath: tuple[Any, ...]) -> str:
    """`schema[0].properties[2].classification` for ('schema', 0, 'properties', 2, ...)."""
    out = ""
    for part in jpath:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<document>"
