"""What must be identical on every engine, written once and used by all of them.

- the text-cast grammar: `meshc.engines.textcast` (patterns, tokens, bounds, and `text_casts`,
  the table every engine fills with one function per logical type text is cast to);
- NULL spellings: `DEFAULT_NULL_VALUES` (text read as NULL unless a contract says otherwise)
  and `NO_NULL_TEXT` (what readers are told NULL looks like, so that they turn nothing into NULL:
  null_values alone decide);
- internal column names: `internal`, and the positional names of the validation pass;
- the checks before reading: `source_files` (files given, a known format, sourcespec's checks);
- the column check: `check_columns` (missing contract columns, undeclared extras, the
  internal prefix refused) over `source_columns` (an earlier run's reasons and lineage left out);
- the reasons: `cast_reason` and `check_reason`, every field of a `_meshc_reasons` entry but the
  row's value (cast failures come first, in column order, then checks in plan order);
- the counts: `failure_counts` (`Split.failures`) and `counted_split` (valid = in - quarantined);
- the translators' shape: `handlers` finds each engine's function per IR node class by name
  (`_in_list` for `InList`), `COMPARISONS` are the six comparison operators (every library
  overloads Python's), and what an engine cannot express is the named error `unsupported`
  (MC390; `no_handler` adds the reason of a refusal in `REFUSED`), located at the check it came
  from by `located`.

Each engine turns these into its own library's expressions; nothing here imports one.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final, TypeVar

from meshc.diagnostics import Diagnostic
from meshc.errors import SourceError, UnsupportedConstruct
from meshc.rules import expr as ir
from meshc.types import Kind

if TYPE_CHECKING:
    from meshc.engines.base import ColumnSpec, Split, ValidationPlan
    from meshc.rules.checks import RowCheck

FrameT = TypeVar("FrameT")  # an engine's native frame (base.FrameT; base imports this module)

# -- NULL spellings --------------------------------------------------------------------------------
# The text values read as NULL when a contract says nothing (source.options.null_values).
DEFAULT_NULL_VALUES: tuple[str, ...] = ("",)
# Given to a CSV reader as its NULL marker: never equal to a real cell, so the reader keeps every
# cell as text ('' included) and the plan's null_values alone decide what is NULL.
NO_NULL_TEXT = "\x1fmeshc:no-null\x1f"


# -- internal column names -------------------------------------------------------------------------
INTERNAL_PREFIX = "__meshc_"


def internal(kind: str, index: int | str = "") -> str:
    """An internal column name. Engines number their columns by position (`typed`, 3), never by
    a contract column's name, so no contract column can collide with them."""
    return f"{INTERNAL_PREFIX}{kind}{index}"


QUARANTINED = internal("q")  # the row goes to the quarantine
ROW_NUMBER = internal("row")  # the source order, where the engine has no order of its own


def typed_column(i: int) -> str:
    """Contract column i, cast to its logical type."""
    return internal("t", i)


def text_column(i: int) -> str:
    """Source column i as read, as text (reasons' values, extras, undeclared rule columns)."""
    return internal("s", i)


def cast_failed_column(i: int) -> str:
    """TRUE where contract column i failed its cast."""
    return internal("cf", i)


def check_failed_column(j: int) -> str:
    """TRUE where check j of the plan is violated."""
    return internal("v", j)


# -- before reading --------------------------------------------------------------------------------
SOURCE_FORMATS = ("csv", "json", "ndjson", "parquet")
# Every engine writes Parquet outputs with one codec: Polars' default. The others default to
# snappy, whose files were 1.6x the size here (docs/benchmarks.md, the 60 GB run).
PARQUET_COMPRESSION: Final = "zstd"


def source_files(
    paths: Sequence[str],
    fmt: str,
    *,
    delimiter: str,
    header: bool,
    required: Sequence[str],
    empty_lines: bool = False,
) -> tuple[str, dict[str, tuple[str, ...]]]:
    """What every reader checks before reading: files are given, the format is known, and each
    file passes sourcespec's checks. The format lower-cased, and by path what the checks found:
    a CSV file's header names; a Parquet file's nested columns outside the contract, which the
    engine must leave unread. `empty_lines`: the reader asks sourcespec about a CSV file's empty
    lines next (they are then counted in the check's pass)."""
    from meshc.engines import sourcespec  # pyarrow: only when reading (base imports this module)

    if not paths:
        raise SourceError("no source files given")
    kind = fmt.lower()
    if kind not in SOURCE_FORMATS:
        raise SourceError(f"unknown source format '{fmt}' (choose {', '.join(SOURCE_FORMATS)})")
    found: dict[str, tuple[str, ...]] = {}
    for path in paths:
        if kind == "csv":
            found[path] = sourcespec.check_csv(
                path, delimiter=delimiter, header=header, required=required, empty_lines=empty_lines
            )
        elif kind == "parquet":
            found[path] = sourcespec.check_parquet(path, required)
    return kind, found


# -- the column check ------------------------------------------------------------------------------
def written_columns(plan: ValidationPlan) -> frozenset[str]:
    """The columns a run writes itself next to the data (`_meshc_reasons`, the lineage columns),
    whether or not this plan writes them; a contract column of that name is the contract's."""
    from meshc.engines.base import LINEAGE_COLUMNS, REASONS  # base imports this module

    return frozenset((REASONS, *LINEAGE_COLUMNS)) - {c.name for c in plan.columns}


def source_columns(names: Sequence[str], plan: ValidationPlan) -> list[str]:
    """The frame's source data, in its order: not the plan's internal columns (verdicts, row
    ids), and not the columns a run writes itself. A meshc output validated again carries an
    earlier run's reasons and lineage: they describe that run, so this run's replace them (or
    leave them out, when it writes none) on every engine, whatever `extra_columns` says."""
    written = written_columns(plan)
    return [n for n in names if n not in plan.internal_columns and n not in written]


def check_columns(names: Sequence[str], plan: ValidationPlan) -> list[str]:
    """The source's extra (undeclared) column names, in source order; raises SourceError when a
    contract column is missing, when there are extras and the contract says `error`, or when a
    source column has the prefix of the internal columns (it would collide with them). Neither
    the plan's internal columns nor the columns a run writes are source columns (see
    `source_columns`)."""
    source = source_columns(names, plan)
    _refuse_collisions(source, plan)
    missing = [c.name for c in plan.columns if c.name not in source]
    if missing:
        raise SourceError(f"source lacks contract column(s): {', '.join(missing)}")
    contract = {c.name for c in plan.columns}
    extras = [n for n in source if n not in contract]
    if extras and plan.extra_columns == "error":
        raise SourceError(f"source has columns the contract does not declare: {', '.join(extras)}")
    return extras


def _refuse_collisions(source: Sequence[str], plan: ValidationPlan) -> None:
    """A column an engine adds itself must not meet a source or contract column of its name
    (every library would fail on the duplicate, or one would silently overwrite the other)."""
    from meshc.engines.base import REASONS  # base imports this module

    internal_named = [n for n in source if n.startswith(INTERNAL_PREFIX)]
    if internal_named:
        raise SourceError(
            f"source column(s) {', '.join(internal_named)}: the prefix '{INTERNAL_PREFIX}' is"
            " reserved for meshc's internal columns (rename them in the source)"
        )
    written = {*plan.lineage, *([REASONS] if plan.include_reasons else [])}
    declared = [c.name for c in plan.columns if c.name in written]
    if declared:
        raise SourceError(
            f"contract column(s) {', '.join(declared)}: this run writes a column of that name"
            " itself (lineage or reasons); rename the field, or turn off `lineage` or"
            " `quarantine.include_error_reason`"
        )


# -- counts ----------------------------------------------------------------------------------------
def failure_counts(
    plan: ValidationPlan, cast_failures: Mapping[str, int], check_failures: Sequence[int]
) -> dict[str, int]:
    """`Split.failures`: a cast id (`<column>.type`) only when some value failed its cast, then
    every check id, 0 when no row fails it (two checks with one id add up). `cast_failures`:
    contract column -> rows that failed its cast; `check_failures`: rows per check, plan order."""
    from meshc.engines.base import cast_rule_id  # base may import this module

    failures = {cast_rule_id(c): int(n) for c, n in cast_failures.items() if n}
    for check, count in zip(plan.checks, check_failures, strict=True):
        failures[check.id] = failures.get(check.id, 0) + int(count)
    return failures


def counted_split(
    valid: FrameT,
    quarantine: FrameT,
    *,
    rows_in: int,
    rows_quarantined: int,
    failures: dict[str, int],
) -> Split[FrameT]:
    """A Split whose valid count follows from the invariant: rows_in = valid + quarantined."""
    from meshc.engines.base import Split

    return Split(
        valid=valid,
        quarantine=quarantine,
        rows_in=rows_in,
        rows_valid=rows_in - rows_quarantined,
        rows_quarantined=rows_quarantined,
        failures=failures,
    )


# -- reasons ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReasonSpec:
    """One entry of `_meshc_reasons` but its `value` (the row's text of `column`, per engine)."""

    rule_id: str
    rule: str
    column: str | None
    message: str
    severity: str


def cast_reason(column: ColumnSpec) -> ReasonSpec:
    from meshc.engines.base import cast_message, cast_rule_id  # base may import this module

    return ReasonSpec(
        rule_id=cast_rule_id(column.name),
        rule=f"type {column.type}",
        column=column.name,
        message=cast_message(column.name, column.type),
        severity="error",
    )


def check_reason(check: RowCheck) -> ReasonSpec:
    """A check names its first column (the value shown); its message is its description."""
    return ReasonSpec(
        rule_id=check.id,
        rule=check.rule,
        column=check.columns[0] if check.columns else None,
        message=check.description or f"violates {check.rule}",
        severity=check.severity,
    )


def can_fail(column: ColumnSpec) -> bool:
    """Whether a cast to the column's type can fail (text is always a string)."""
    return column.type.kind is not Kind.STRING


# -- what an engine cannot express -----------------------------------------------------------------
def unsupported(
    what: ir.Expr | str, engine: str, reason: str | None = None
) -> UnsupportedConstruct:
    """The named error (MC390) for a node or construct `engine` cannot express; never a silent
    fallback. `what` is an IR node (named by its class) or a phrase ("aggregate median")."""
    name = what if isinstance(what, str) else type(what).__name__
    because = f": {reason}" if reason else ""
    return UnsupportedConstruct(
        [Diagnostic("MC390", f"{name} is not supported on {engine}{because}")]
    )


def no_handler(node: ir.Expr, engine: str) -> UnsupportedConstruct:
    """The MC390 of a node `engine`'s translator has no handler for: with the reason when the
    engine refuses the node by design (`REFUSED`), so the message reads alike on every engine."""
    return unsupported(node, engine, REFUSED.get(engine, {}).get(type(node)))


@contextmanager
def located(check: RowCheck) -> Iterator[None]:
    """An MC390 raised inside names `check` and points at the contract line that declared it."""
    try:
        yield
    except UnsupportedConstruct as exc:
        origin = check.origin
        diagnostics = [
            d
            if d.line
            else replace(
                d,
                message=f"rule {check.id}: {d.message}",
                path=origin.path,
                line=origin.line,
                col=origin.col,
            )
            for d in exc.diagnostics
        ]
        raise UnsupportedConstruct(diagnostics) from None


# -- the translators' shape ------------------------------------------------------------------------
COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

# What each engine's translator refuses by design (MC390), with the reason: every other IR node
# class has a handler on every engine (tests/engines/test_ir_coverage.py holds them to that).
_BOUND_PER_RUN = "bound to the run's clock before any engine sees it (meshc.rules.clock)"
_NOW: Mapping[type[ir.Expr], str] = {
    ir.CurrentDate: _BOUND_PER_RUN,
    ir.CurrentTimestamp: _BOUND_PER_RUN,
}
REFUSED: Mapping[str, Mapping[type[ir.Expr], str]] = {
    "polars": _NOW,
    "pandas": _NOW,
    "duckdb": _NOW,
    "spark": _NOW,
}


def node_classes() -> list[type[ir.Expr]]:
    """Every concrete IR node class (the subclasses of `ir.Expr`, at any depth), by name."""
    found: dict[str, type[ir.Expr]] = {}
    pending = list(ir.Expr.__subclasses__())
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return [found[name] for name in sorted(found)]


def handler_name(node: type[ir.Expr]) -> str:
    """The name of a translator's function for `node`: `_` + the class name in snake case."""
    return "_" + re.sub(r"(?<!^)(?=[A-Z])", "_", node.__name__).lower()


def handlers(scope: Mapping[str, Any]) -> dict[type[ir.Expr], Any]:
    """An engine translator's dispatch table, from the functions of its module (`globals()`):
    a node class without a function of its `handler_name` has no handler, so translating it
    raises `unsupported` (tests/engines/test_ir_coverage.py holds every engine to that)."""
    table = {node: scope.get(handler_name(node)) for node in node_classes()}
    return {node: handler for node, handler in table.items() if callable(handler)}
