"""What every engine implements: one Protocol, one plan in, one Split out.

Each engine lives in its own private package with the same file names
(`meshc/engines/_<name>/translate.py` for Expr -> native expression, `engine.py` for the
Engine class), and is imported only when asked for (see `meshc.engines.registry`).

The quarantine layout is the same on every engine:
  - the source columns *as read* (raw text for CSV/JSON, so a value that failed its cast is kept
    verbatim and the row can be replayed),
  - `_meshc_reasons`: list<struct<rule_id, rule, column, value, message, severity>> (all strings),
    one entry per failed check of that row, cast failures first, then checks in plan order
    (left out when `include_reasons` is False). `rule` and `message` repeat per failing row and
    can be long, so each engine holds them once: dictionary-encoded (Polars Categorical, Arrow
    dictionary, DuckDB ENUM; Spark builds reasons after its checkpoint). Same values for readers;
    Parquet stores them as strings with dictionary pages,
  - the lineage columns, when the plan has any.
The valid output holds the contract columns cast to their logical types, then the lineage columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from meshc.rules import expr as ir
from meshc.rules.checks import RowCheck
from meshc.types import LogicalType

REASONS = "_meshc_reasons"
REASON_FIELDS = ("rule_id", "rule", "column", "value", "message", "severity")
LINEAGE_COLUMNS = (
    "_meshc_run_id",
    "_meshc_source",
    "_meshc_contract",
    "_meshc_contract_version",
    "_meshc_domain",
    "_meshc_system",
    "_meshc_processed_at",
)


# The masking functions, identical on every engine (the value is first cast to text):
MASKING = {
    "hash": "lower-case hex HMAC-SHA256 of the UTF-8 text, keyed by MESHC_MASKING_KEY(_FILE)",
    "redact": f"the constant {'[REDACTED]'!r}",
    "partial": "'*' for every character but the last four (all '*' when 4 characters or fewer)",
    "nullify": "NULL (the column keeps its type)",
}
REDACTED = "[REDACTED]"


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: LogicalType


def cast_rule_id(column: str) -> str:
    return f"{column}.type"


def cast_message(column: str, ltype: LogicalType) -> str:
    return f"value of '{column}' cannot be read as {ltype}"


@dataclass(frozen=True)
class ValidationPlan:
    """Everything an engine needs to validate one dataset, already compiled and bound."""

    columns: tuple[ColumnSpec, ...]
    checks: tuple[RowCheck, ...]  # CURRENT_DATE etc. already bound to literals
    null_values: tuple[str, ...] = ("",)  # text values read as NULL (text sources only)
    extra_columns: Literal["drop", "keep", "error"] = "drop"
    include_reasons: bool = True
    # lineage column -> value (str, or a tz-aware UTC datetime for _meshc_processed_at); {} = none
    lineage: Mapping[str, Any] = field(default_factory=dict)
    # check id -> a boolean column of the frame, TRUE where that check fails: the verdict of an
    # external validator (a compiled Pandera schema or GX suite, `meshc run --validator`) used
    # instead of the check's predicate. Everything else is unchanged: a row whose input failed its
    # cast is not judged, counts, split, reasons and layout are the engine's own.
    verdicts: Mapping[str, str] = field(default_factory=dict)
    # columns the caller added to the frame (verdicts, row ids): readable, never in any output,
    # never counted as extra columns
    internal_columns: tuple[str, ...] = ()


@dataclass
class Split:
    valid: Any  # the engine's native frame
    quarantine: Any
    rows_in: int
    rows_valid: int
    rows_quarantined: int
    # check id (or cast_rule_id(col)) -> rows failing it, over all rows, warn checks included
    failures: dict[str, int]


class Engine(Protocol):
    name: str

    def read(
        self,
        paths: Sequence[str],
        fmt: str,
        *,
        delimiter: str = ",",
        header: bool = True,
        text_columns: Sequence[str] = (),
    ) -> Any:
        """Read files of one format into a native (lazy where possible) frame. For csv/json/ndjson,
        `text_columns` are read as strings so that casting (and its failures) is meshc's job."""
        ...

    def validate(self, frame: Any, plan: ValidationPlan) -> Split:
        """Cast, evaluate every check and split, in one vectorised pass where the engine allows."""
        ...

    def cast(self, frame: Any, plan: ValidationPlan) -> Any:
        """The contract columns exactly as `validate` types them (null_values applied; a value
        that fails its cast is NULL), then the plan's internal columns as they are; rows in source
        order. What an external validator judges (see meshc.validators)."""
        ...

    def aggregate(self, frame: Any, exprs: Mapping[str, ir.Expr]) -> dict[str, Any]:
        """Evaluate aggregate expressions (ir.Agg trees) over a frame of typed contract columns."""
        ...

    def write(self, frame: Any, path: Path, fmt: str) -> None:
        """Write one file (parquet/csv/json) at exactly `path`; the runner makes it atomic.
        CSV/JSON get `_meshc_reasons` JSON-encoded as a string column."""
        ...

    def mask(self, frame: Any, masks: Mapping[str, str]) -> Any:
        """Mask PII: column -> hash | redact | partial | nullify (see MASKING). Applies to the data
        columns present in `frame` and to `_meshc_reasons[].value` where the reason's column is
        masked, so a quarantine never shows what the valid output hides. NULL stays NULL."""
        ...

    def to_arrow(self, frame: Any) -> Any:
        """The frame as a pyarrow Table (for reports, samples and tests)."""
        ...

    def columns(self, frame: Any) -> list[str]: ...
