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

The boundary is typed: `Engine[FrameT]` is generic in the engine's native frame (a Polars
LazyFrame/DataFrame, a pandas DataFrame, a DuckDB relation, a Spark DataFrame) and `Split[FrameT]`
carries two of them. What only some engines can do is a declared sub-protocol, found with
`isinstance` (`StreamingEngine`, `MasksWhileStreaming`, `Materializing`). Every engine has an
explicit lifecycle: `close()` releases what it holds (DuckDB its connection and spill folder,
Polars its spill folders) and engines are context managers. What a frame *is* (read from a
text source...) travels in the `ValidationPlan`, never as an attribute on the frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Literal, Protocol, TypeVar, runtime_checkable

from meshc.engines.spec import DEFAULT_NULL_VALUES
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


# formats read as raw text (every column a string, `null_values` apply); the others are typed
TEXT_FORMATS = ("csv", "json", "ndjson")


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
    null_values: tuple[str, ...] = DEFAULT_NULL_VALUES  # text read as NULL (text sources only)
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
    # what the frame is: True when read from a text format (csv/json: every column raw text, so
    # `null_values` apply), False when read from typed storage (Parquet) or handed over typed,
    # None when unknown (an in-memory frame): then the engine follows the frame's column types.
    text_source: bool | None = None


FrameT = TypeVar("FrameT")


@dataclass(frozen=True)
class Split(Generic[FrameT]):
    """What `validate` returns. Frozen: a later stage (masking) returns a new Split
    (`dataclasses.replace`) instead of changing this one."""

    valid: FrameT  # the engine's native frame
    quarantine: FrameT
    rows_in: int
    rows_valid: int
    rows_quarantined: int
    # check id (or cast_rule_id(col)) -> rows failing it, over all rows, warn checks included
    failures: dict[str, int]


@runtime_checkable
class Engine(Protocol[FrameT]):
    """What every engine implements, generic in its native frame type."""

    name: str

    def read(
        self,
        paths: Sequence[str],
        fmt: str,
        *,
        delimiter: str = ",",
        header: bool = True,
        text_columns: Sequence[str] = (),
    ) -> FrameT:
        """Read files of one format into a native (lazy where possible) frame. For csv/json/ndjson,
        `text_columns` are read as strings so that casting (and its failures) is meshc's job."""
        ...

    def validate(self, frame: FrameT, plan: ValidationPlan) -> Split[FrameT]:
        """Cast, evaluate every check and split, in one vectorised pass where the engine allows."""
        ...

    def cast(self, frame: FrameT, plan: ValidationPlan) -> FrameT:
        """The contract columns exactly as `validate` types them (null_values applied; a value
        that fails its cast is NULL), then the plan's internal columns as they are; rows in source
        order. What an external validator judges (see meshc.validators)."""
        ...

    def aggregate(self, frame: FrameT, exprs: Mapping[str, ir.Expr]) -> dict[str, Any]:
        """Evaluate aggregate expressions (ir.Agg trees) over a frame of typed contract columns."""
        ...

    def write(self, frame: FrameT, path: Path, fmt: str) -> None:
        """Write one file (parquet/csv/json) at exactly `path`; the runner makes it atomic.
        CSV/JSON get `_meshc_reasons` JSON-encoded as a string column."""
        ...

    def mask(self, frame: FrameT, masks: Mapping[str, str]) -> FrameT:
        """Mask PII: column -> hash | redact | partial | nullify (see MASKING). Applies to the data
        columns present in `frame` and to `_meshc_reasons[].value` where the reason's column is
        masked, so a quarantine never shows what the valid output hides. NULL stays NULL."""
        ...

    def to_arrow(self, frame: FrameT) -> Any:
        """The frame as a pyarrow Table (for reports, samples and tests). (`Any`: pyarrow ships
        no type information.)"""
        ...

    def head(self, frame: FrameT, n: int) -> Any:
        """The first `n` rows (n >= 0) as a pyarrow Table: the columns, types and values of
        `to_arrow(frame)`'s first n rows, computed without converting the rest (what the report's
        samples and `meshc run --show-quarantine` print). The outputs keep the source's row
        order on every engine, whatever checks ran (docs/semantics.md#row-order), so these are
        the first source rows that ended in `frame`."""
        ...

    def columns(self, frame: FrameT) -> list[str]: ...

    def close(self) -> None:
        """Release what the engine holds (DuckDB: its connection; the others hold nothing the
        garbage collector would not free). Frames the engine made are unusable afterwards.
        Idempotent."""
        ...

    def __enter__(self) -> Engine[FrameT]: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@runtime_checkable
class StreamingEngine(Engine[FrameT], Protocol[FrameT]):
    """An engine that validates in bounded memory (Polars): the outputs are written to spill files
    in one streaming pass and come back as lazy frames over them."""

    def validate_streaming(self, frame: FrameT, plan: ValidationPlan) -> Split[FrameT]: ...


@runtime_checkable
class MasksWhileStreaming(StreamingEngine[FrameT], Protocol[FrameT]):
    """A streaming engine that also masks in its one pass (DuckDB, Polars):
    `validate_streaming_masked` is `validate_streaming` then `mask` of both outputs, each output
    written once, masked."""

    def validate_streaming_masked(
        self, frame: FrameT, plan: ValidationPlan, masks: Mapping[str, str]
    ) -> Split[FrameT]: ...


@runtime_checkable
class ReadsDatabases(Engine[FrameT], Protocol[FrameT]):
    """An engine that reads some databases itself (Spark: PostgreSQL through JDBC, so the rows go
    from the database to its executors, not through this process). The others read a database
    source exported to Parquet by meshc.storage."""

    def reads_database(self, scheme: str) -> bool:
        """Whether `read_database` reads databases of this scheme ("postgresql", "duckdb")."""
        ...

    def read_database(self, location: Any) -> FrameT:
        """The table or query of `location` (a meshc.storage.location.Location) as a typed frame."""
        ...


@runtime_checkable
class Distributed(Engine[FrameT], Protocol[FrameT]):
    """An engine whose workers may run on other machines (Spark). meshc.storage fetches sources to
    and stages outputs in this machine's temporary folder: only workers that share this machine
    can read or write there."""

    def on_this_machine(self) -> bool:
        """True when every worker runs on this machine (a local master). Answered without
        starting a session or contacting a cluster: meshc asks it to refuse a run early."""
        ...


@runtime_checkable
class Materializing(Engine[FrameT], Protocol[FrameT]):
    """An engine whose output frames may be lazy (Polars): `materialize` makes one eager."""

    def materialize(self, frame: FrameT) -> FrameT: ...


_Held = TypeVar("_Held", bound="EngineLifecycle")


class EngineLifecycle:
    """The lifecycle half of the Protocol for engines to inherit: a context manager that closes
    the engine on exit; `close` does nothing unless the engine holds something to release."""

    def close(self) -> None:
        return None

    def __enter__(self: _Held) -> _Held:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class EngineFactory(Protocol):
    """The one `create()` every engine module exports (the registry calls it): options by
    keyword, unknown ones refused with TypeError (see `refuse_unknown_options`)."""

    def __call__(self, **options: Any) -> Engine[Any]: ...


def refuse_unknown_options(
    engine: str, options: Mapping[str, object], known: Sequence[str]
) -> None:
    """TypeError naming the options `engine` does not take, and the ones it does."""
    unknown = sorted(set(options) - set(known))
    if unknown:
        takes = f"it takes {', '.join(known)}" if known else "it takes none"
        raise TypeError(f"the {engine} engine has no option {', '.join(unknown)} ({takes})")
