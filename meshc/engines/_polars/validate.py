"""validate(): cast, evaluate every check and split, as one lazy plan run once.

The base plan adds, next to the source columns (NULL-mapped, otherwise as read):
  - one typed column per contract column,
  - one cast-failure flag per contract column that can fail,
  - one violation flag per check (predicate is FALSE, and no column it reads failed its cast),
  - the quarantine flag.
Three outputs hang off that base (valid rows, quarantined rows with their reasons as a native
list<struct>, and the failure counts) and are collected together with `pl.collect_all`, which
computes the shared base once. Counts and splits therefore come from the same evaluation.
`validate_to_files` streams the same plan to files, masking both outputs on the way when asked
(the runner decides when it may: meshc/runner/masks.py), so a masked output is written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from meshc.engines import spec
from meshc.engines._polars.cast import UTC, cast_column
from meshc.engines._polars.io import plain_strings
from meshc.engines._polars.mask import mask_frame
from meshc.engines._polars.reasons import reasons
from meshc.engines._polars.translate import ENGINE, Translator
from meshc.engines.base import REASONS, Split, ValidationPlan
from meshc.errors import SourceError
from meshc.rules.checks import ForeignKey, RowCheck

if TYPE_CHECKING:
    from polars._typing import EngineType

QUARANTINED = spec.QUARANTINED

check_flag = spec.check_failed_column


@dataclass(frozen=True)
class _Layout:
    """What one plan needs to know about the source frame."""

    source_columns: list[str]
    schema: pl.Schema
    contract: dict[str, Any]  # name -> LogicalType, contract order
    extras: list[str]
    can_fail: list[str]  # contract columns whose cast can fail (cast flag present)
    position: dict[str, int]  # contract column -> its index (internal names go by position)

    def typed_name(self, column: str) -> str:
        return spec.typed_column(self.position[column])

    def cast_flag(self, column: str) -> str:
        return spec.cast_failed_column(self.position[column])


def validate(frame: pl.LazyFrame | pl.DataFrame, plan: ValidationPlan) -> Split:
    """Split `frame` per docs/semantics.md; outputs are eager DataFrames."""
    base, layout = _flagged(frame, plan)
    # One optimised run: collect_all shares the common base (casts, flags, windows) between the
    # three outputs, and reasons are only built for rows that reach the quarantine branch.
    valid, quarantine, counts = _collect_all(
        [
            base.filter(~pl.col(QUARANTINED)).select(_valid_columns(layout, plan)),
            base.filter(pl.col(QUARANTINED)).select(_quarantine_columns(layout, plan)),
            base.select(_count_exprs(layout, plan.checks)),
        ]
    )
    sums = counts.row(0, named=True)
    return Split(
        valid=valid,
        quarantine=quarantine,
        rows_in=int(sums[_ROWS]),
        rows_valid=valid.height,
        rows_quarantined=quarantine.height,
        failures=_failures(sums, layout, plan),
    )


def validate_to_files(
    frame: pl.LazyFrame | pl.DataFrame,
    plan: ValidationPlan,
    paths: tuple[Path, Path, Path],
    masks: Mapping[str, str] | None = None,
) -> Split:
    """The same split, streamed: one pass of Polars' streaming engine writes the valid rows and
    the quarantine to Parquet and the per-row flags to Arrow IPC (`paths`, in that order), so no
    output is ever held in memory; the counts are then summed from the (small, boolean) flags
    file. With `masks`, both outputs are masked (mask.py) in that same pass: the files hold what
    `mask_frame` of the unmasked ones would. The Split's frames are left for the caller to point
    at the files."""
    valid_path, quarantine_path, flags_path = paths
    masks = masks or {}
    base, layout = _flagged(frame, plan)
    flags = base.select(
        QUARANTINED,
        *[layout.cast_flag(c) for c in layout.can_fail],
        *[check_flag(i) for i in range(len(plan.checks))],
    )
    valid = base.filter(~pl.col(QUARANTINED)).select(_valid_columns(layout, plan))
    quarantine = plain_strings(  # the file the runner publishes as written
        base.filter(pl.col(QUARANTINED)).select(_quarantine_columns(layout, plan))
    )
    sinks = [
        mask_frame(valid, masks).sink_parquet(
            valid_path, compression=spec.PARQUET_COMPRESSION, lazy=True
        ),
        mask_frame(quarantine, masks).sink_parquet(
            quarantine_path, compression=spec.PARQUET_COMPRESSION, lazy=True
        ),
        flags.sink_ipc(flags_path, lazy=True),
    ]
    _collect_all(sinks, engine="streaming")
    counts = (
        pl.scan_ipc(flags_path)
        .select(*_count_exprs(layout, plan.checks), pl.col(QUARANTINED).sum().alias(QUARANTINED))
        .collect()
    )
    sums = counts.row(0, named=True)
    return spec.counted_split(
        None,
        None,
        rows_in=int(sums[_ROWS]),
        rows_quarantined=int(sums[QUARANTINED]),
        failures=_failures(sums, layout, plan),
    )


def _flagged(
    frame: pl.LazyFrame | pl.DataFrame, plan: ValidationPlan
) -> tuple[pl.LazyFrame, _Layout]:
    """The base plan: source columns (NULL-mapped), typed columns, cast and check flags, and the
    quarantine flag."""
    lazy = frame.lazy()
    layout = _layout(lazy, plan)
    base = _null_mapped(lazy, layout, plan, plan.text_source)
    base = base.with_columns(_typed_and_flags(layout))
    base = base.with_columns(_check_flags(layout, plan))
    error_flags = [pl.col(layout.cast_flag(c)) for c in layout.can_fail] + [
        pl.col(check_flag(i)) for i, c in enumerate(plan.checks) if c.severity == "error"
    ]
    quarantined = pl.any_horizontal(error_flags) if error_flags else pl.lit(False)
    return base.with_columns(quarantined.alias(QUARANTINED)), layout


def _collect_all(frames: list[pl.LazyFrame], engine: EngineType = "auto") -> list[pl.DataFrame]:
    # scans are lazy: an unreadable file (bad CSV quoting, empty file...) surfaces only here
    try:
        return pl.collect_all(frames, engine=engine)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        raise SourceError(f"cannot read the source: {exc}") from exc


def _layout(lazy: pl.LazyFrame, plan: ValidationPlan) -> _Layout:
    try:
        schema = lazy.collect_schema()
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        raise SourceError(f"cannot read the source: {exc}") from exc
    names = spec.source_columns(schema.names(), plan)
    extras = spec.check_columns(names, plan)
    contract = {c.name: c.type for c in plan.columns}
    unknown = sorted(
        {
            c
            for check in plan.checks
            if not isinstance(check, ForeignKey)
            for c in check.columns
            if c not in schema
        }
    )
    if unknown:
        raise SourceError(f"source lacks column(s) that rules read: {', '.join(unknown)}")
    can_fail = [c.name for c in plan.columns if spec.can_fail(c)]
    position = {c.name: i for i, c in enumerate(plan.columns)}
    return _Layout(names, schema, contract, extras, can_fail, position)


def _null_mapped(
    lazy: pl.LazyFrame, layout: _Layout, plan: ValidationPlan, text_source: bool | None
) -> pl.LazyFrame:
    """Apply null_values to text columns. Frames read from Parquet (plan.text_source False) are
    exempt (stored strings are data); frames built elsewhere (None) are treated as text when
    their column is String."""
    if not plan.null_values or text_source is False:
        return lazy
    nulls = pl.lit(pl.Series(list(plan.null_values), dtype=pl.String)).implode()
    mapped = [
        pl.when(pl.col(c).is_in(nulls)).then(None).otherwise(pl.col(c)).alias(c)
        for c in layout.source_columns
        if layout.schema[c] == pl.String
    ]
    return lazy.with_columns(mapped) if mapped else lazy


def _typed_and_flags(layout: _Layout) -> list[pl.Expr]:
    exprs: list[pl.Expr] = []
    for name, ltype in layout.contract.items():
        typed, ok = cast_column(pl.col(name), layout.schema[name], ltype)
        exprs.append(typed.alias(layout.typed_name(name)))
        if name in layout.can_fail:
            exprs.append((~ok).fill_null(False).alias(layout.cast_flag(name)))
    return exprs


def cast(frame: pl.LazyFrame | pl.DataFrame, plan: ValidationPlan) -> pl.LazyFrame:
    """The typed contract columns (a failed cast is NULL) and the plan's internal columns."""
    lazy = frame.lazy()
    layout = _layout(lazy, plan)
    base = _null_mapped(lazy, layout, plan, plan.text_source)
    typed = [
        cast_column(pl.col(c), layout.schema[c], t)[0].alias(c) for c, t in layout.contract.items()
    ]
    return base.select(*typed, *plan.internal_columns)


def _check_flags(layout: _Layout, plan: ValidationPlan) -> list[pl.Expr]:
    contract = layout.contract

    def column(name: str) -> pl.Expr:
        # implicit (undeclared) columns that rules read are compared as their text
        return pl.col(layout.typed_name(name)) if name in contract else pl.col(name)

    translate = Translator(column)
    flags = []
    for index, check in enumerate(plan.checks):
        if check.id in plan.verdicts:
            violated = pl.col(plan.verdicts[check.id]).fill_null(False)
        elif isinstance(check, ForeignKey):
            raise spec.unsupported("ForeignKey (evaluated by the runner)", ENGINE)
        else:
            with spec.located(check):
                violated = (~translate(check.predicate)).fill_null(False)
        # a column that failed its cast is NULL here; its row is quarantined for the cast only
        failed_inputs = [pl.col(layout.cast_flag(c)) for c in check.columns if c in layout.can_fail]
        if failed_inputs:
            violated = violated & ~pl.any_horizontal(failed_inputs)
        flags.append(violated.alias(check_flag(index)))
    return flags


_ROWS = spec.internal("rows")


def _count_exprs(layout: _Layout, checks: tuple[RowCheck, ...]) -> list[pl.Expr]:
    exprs = [pl.len().alias(_ROWS)]
    exprs += [
        pl.col(layout.cast_flag(c)).sum().alias(f"c{i}") for i, c in enumerate(layout.can_fail)
    ]
    exprs += [pl.col(check_flag(i)).sum().alias(f"k{i}") for i in range(len(checks))]
    return exprs


def _failures(sums: dict[str, Any], layout: _Layout, plan: ValidationPlan) -> dict[str, int]:
    casts = {column: sums[f"c{i}"] for i, column in enumerate(layout.can_fail)}
    return spec.failure_counts(plan, casts, [sums[f"k{i}"] for i in range(len(plan.checks))])


def _lineage(lineage: Mapping[str, Any]) -> list[pl.Expr]:
    exprs = []
    for name, value in lineage.items():
        if isinstance(value, datetime):
            exprs.append(pl.lit(value).cast(pl.Datetime("us", UTC)).alias(name))
        else:
            exprs.append(pl.lit(None if value is None else str(value), pl.String).alias(name))
    return exprs


def _valid_columns(layout: _Layout, plan: ValidationPlan) -> list[pl.Expr]:
    columns = [pl.col(layout.typed_name(c)).alias(c) for c in layout.contract]
    if plan.extra_columns == "keep":
        columns += [pl.col(c).cast(pl.String) for c in layout.extras]
    return columns + _lineage(plan.lineage)


def _quarantine_columns(layout: _Layout, plan: ValidationPlan) -> list[pl.Expr]:
    columns = [pl.col(c) for c in layout.source_columns]
    if plan.include_reasons:
        columns.append(_reasons(layout, plan).alias(REASONS))
    return columns + _lineage(plan.lineage)


def _reasons(layout: _Layout, plan: ValidationPlan) -> pl.Expr:
    """Cast failures in column order, then checks in plan order, warn checks included."""
    entries = [
        (layout.cast_flag(c.name), spec.cast_reason(c))
        for c in plan.columns
        if c.name in layout.can_fail
    ]
    entries += [(check_flag(i), spec.check_reason(c)) for i, c in enumerate(plan.checks)]
    return reasons(entries)
