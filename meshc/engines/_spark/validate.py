"""Cast, check and split one frame in a single flagged pass (cached once, counted once)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import reduce
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from meshc.engines import spec
from meshc.engines._spark.cast import cast_column
from meshc.engines._spark.translate import literal, quote, translate
from meshc.engines.base import REASON_FIELDS, REASONS, Split, ValidationPlan
from meshc.errors import SourceError
from meshc.rules import expr as ir
from meshc.rules.checks import RowCheck

_QUARANTINED = spec.QUARANTINED
_ROW = spec.ROW_NUMBER
_text_name = spec.text_column
_typed_name = spec.typed_column
_cast_failed_name = spec.cast_failed_column
_check_failed_name = spec.check_failed_column


def validate(frame: DataFrame, plan: ValidationPlan) -> Split:
    source = spec.source_columns(frame.columns, plan)
    extras = spec.check_columns(source, plan)
    reorders = _compares_rows(plan)
    # numbered as read, before a check that compares rows shuffles them (see _in_source_order)
    numbered = frame.select("*", F.monotonically_increasing_id().alias(_ROW)) if reorders else frame
    # A local checkpoint rather than cache(): it is computed once (by the counting job) and
    # reused by both outputs, and unlike a cached plan it can never be matched by a later
    # query over the same path whose file has since changed (that served stale rows).
    flagged = _flag(numbered, plan, extras).localCheckpoint(eager=False)
    rows_in, rows_quarantined, failures = _count(flagged, plan)
    ordered = _in_source_order(flagged) if reorders else flagged
    quarantined = F.col(_QUARANTINED)
    valid = ordered.filter(~quarantined).select(*_valid_columns(plan, extras))
    # as read, except that null_values ("" by default) are NULL, as on every engine
    text_source = plan.text_source is not False  # unknown: String columns are text
    types = {f.name: f.dataType for f in frame.schema.fields}
    quarantine_cols = [
        _null_mapped(quote(c), types[c], text_source, plan.null_values).alias(c) for c in source
    ]
    if plan.include_reasons:
        # built after the checkpoint, for quarantined rows only: every reason repeats its rule's
        # text and message (an IN list can be 80 KB), so the checkpoint holds flags, not reasons
        names = [*(c.name for c in plan.columns), *extras]
        quarantine_cols.append(_reasons(plan, names).alias(REASONS))
    quarantine = ordered.filter(quarantined).select(*quarantine_cols, *_lineage(plan))
    return spec.counted_split(
        valid, quarantine, rows_in=rows_in, rows_quarantined=rows_quarantined, failures=failures
    )


def cast(frame: DataFrame, plan: ValidationPlan) -> DataFrame:
    """The typed contract columns (a failed cast is NULL) and the plan's internal columns."""
    spec.check_columns(frame.columns, plan)
    text_source = plan.text_source is not False  # unknown: String columns are text
    types = {f.name: f.dataType for f in frame.schema.fields}
    columns = []
    for col in plan.columns:
        raw = _null_mapped(quote(col.name), types[col.name], text_source, plan.null_values)
        typed, ok = cast_column(raw, types[col.name], col.type)
        columns.append(F.when(ok, typed).alias(col.name))
    return frame.select(*columns, *(quote(c) for c in plan.internal_columns))


def _in_source_order(flagged: DataFrame) -> DataFrame:
    """The rows back in the order they were read. A check that compares rows with each other
    (`unique`: a window partitioned by the key) shuffles them into groups of a key, so they were
    numbered before it (monotonically_increasing_id grows within a partition and from one
    partition to the next). Sorted after the checkpoint, so Spark sorts each output's own rows
    and columns (the filter and the projection go below the sort), not every flag of every row;
    the sort's sample reads the checkpoint, not the window again."""
    return flagged.orderBy(_ROW)


def _compares_rows(plan: ValidationPlan) -> bool:
    """A check this engine evaluates (not an external verdict) holds a duplicate test."""
    return any(
        isinstance(node, ir.IsDuplicate)
        for check in plan.checks
        if check.id not in plan.verdicts
        for node in check.predicate.walk()
    )


def _flag(frame: DataFrame, plan: ValidationPlan, extras: list[str]) -> DataFrame:
    """Source columns + null-mapped text + typed values + cast and check flags."""
    text_source = plan.text_source is not False  # unknown: String columns are text
    types = {f.name: f.dataType for f in frame.schema.fields}
    names = [*(c.name for c in plan.columns), *extras]
    text = {n: _as_text(quote(n), types[n], text_source, plan.null_values) for n in names}
    step1 = [quote(c) for c in frame.columns]
    step1 += [text[n].alias(_text_name(i)) for i, n in enumerate(names)]
    for i, col in enumerate(plan.columns):
        raw = _null_mapped(quote(col.name), types[col.name], text_source, plan.null_values)
        typed, ok = cast_column(raw, types[col.name], col.type)
        step1.append(F.when(ok, typed).alias(_typed_name(i)))
        step1.append((raw.isNotNull() & ~ok).alias(_cast_failed_name(i)))
    flagged = frame.select(*step1)
    resolver = _resolver(plan, names)
    # violated only when the predicate is FALSE: NULL counts as a pass
    index = {col.name: i for i, col in enumerate(plan.columns)}
    failed = [
        (_violated(c, plan, resolver) & ~_unreadable(c, index)).alias(_check_failed_name(j))
        for j, c in enumerate(plan.checks)
    ]
    flagged = flagged.select("*", *failed)
    return flagged.select("*", _quarantined(plan).alias(_QUARANTINED))


def _violated(check: RowCheck, plan: ValidationPlan, resolver: Any) -> Column:
    """The predicate is FALSE (NULL is a pass), or an external validator's verdict says so."""
    if check.id in plan.verdicts:
        return F.coalesce(quote(plan.verdicts[check.id]), F.lit(False))
    with spec.located(check):
        return F.coalesce(~translate(check.predicate, resolver), F.lit(False))


def _unreadable(check: Any, index: dict[str, int]) -> Column:
    """True when a column the check reads failed its cast: such a value is not judged by checks."""
    flags = [F.col(_cast_failed_name(index[c])) for c in check.columns if c in index]
    return reduce(lambda a, b: a | b, flags, F.lit(False))


def _null_mapped(
    column: Column, dtype: T.DataType, text_source: bool, null_values: tuple[str, ...]
) -> Column:
    if text_source and isinstance(dtype, T.StringType) and null_values:
        return F.when(~column.isin(*null_values) | column.isNull(), column)
    return column


def _as_text(
    column: Column, dtype: T.DataType, text_source: bool, null_values: tuple[str, ...]
) -> Column:
    """A column's value as read, as text (NULL for a null value), for reasons and extras."""
    mapped = _null_mapped(column, dtype, text_source, null_values)
    return mapped if isinstance(dtype, T.StringType) else mapped.try_cast(T.StringType())


def _resolver(plan: ValidationPlan, names: list[str]) -> Any:
    """Checks read typed contract columns; other columns (rules over undeclared columns) their
    text."""
    typed = {col.name: F.col(_typed_name(i)) for i, col in enumerate(plan.columns)}
    text = {n: F.col(_text_name(i)) for i, n in enumerate(names)}

    def column(name: str) -> Column:
        if name in typed:
            return typed[name]
        if name in text:
            return text[name]
        raise SourceError(f"a rule reads column '{name}', which the source lacks")

    return column


def _quarantined(plan: ValidationPlan) -> Column:
    flags = [F.col(_cast_failed_name(i)) for i in range(len(plan.columns))]
    flags += [
        F.col(_check_failed_name(j)) for j, c in enumerate(plan.checks) if c.severity == "error"
    ]
    result = F.lit(False)
    for flag in flags:
        result = result | flag
    return result


def _reasons(plan: ValidationPlan, names: list[str]) -> Column:
    """list<struct> of the row's failures: casts in column order, then checks in plan order."""
    position = {n: i for i, n in enumerate(names)}
    entries: list[Column] = []
    for i, column in enumerate(plan.columns):
        reason = _reason(spec.cast_reason(column), F.col(_text_name(i)))
        entries.append(F.when(F.col(_cast_failed_name(i)), reason))
    for j, check in enumerate(plan.checks):
        entries.append(F.when(F.col(_check_failed_name(j)), _check_reason(check, position)))
    if not entries:
        return F.array().cast(T.ArrayType(_REASON_TYPE))
    return F.filter(F.array(*entries), lambda entry: entry.isNotNull())


def _check_reason(check: RowCheck, position: Mapping[str, int]) -> Column:
    reason = spec.check_reason(check)
    value = F.lit(None)
    if reason.column is not None and reason.column in position:
        value = F.col(_text_name(position[reason.column]))
    return _reason(reason, value)


def _reason(reason: spec.ReasonSpec, value: Column) -> Column:
    fields = {
        "rule_id": F.lit(reason.rule_id),
        "rule": F.lit(reason.rule),
        "column": F.lit(reason.column).cast(T.StringType()),
        "value": value.cast(T.StringType()),
        "message": F.lit(reason.message),
        "severity": F.lit(reason.severity),
    }
    return F.struct(*(fields[name].alias(name) for name in REASON_FIELDS))


_REASON_TYPE = T.StructType([T.StructField(n, T.StringType()) for n in REASON_FIELDS])


def _count(flagged: DataFrame, plan: ValidationPlan) -> tuple[int, int, dict[str, int]]:
    """Rows, quarantined rows and failures per check id, in one aggregation (one Spark job)."""

    def total(name: str) -> Column:
        return F.coalesce(F.sum(F.col(name).cast(T.LongType())), F.lit(0))

    aggs = [F.count(F.lit(1)).alias("__rows"), total(_QUARANTINED).alias("__quarantined")]
    aggs += [total(_cast_failed_name(i)).alias(f"c{i}") for i in range(len(plan.columns))]
    aggs += [total(_check_failed_name(j)).alias(f"k{j}") for j in range(len(plan.checks))]
    row = flagged.agg(*aggs).collect()[0]
    casts = {col.name: row[f"c{i}"] for i, col in enumerate(plan.columns)}
    counts = spec.failure_counts(plan, casts, [row[f"k{j}"] for j in range(len(plan.checks))])
    return int(row["__rows"]), int(row["__quarantined"]), counts


def _valid_columns(plan: ValidationPlan, extras: list[str]) -> list[Column]:
    columns = [F.col(_typed_name(i)).alias(col.name) for i, col in enumerate(plan.columns)]
    if plan.extra_columns == "keep":
        offset = len(plan.columns)
        columns += [F.col(_text_name(offset + k)).alias(n) for k, n in enumerate(extras)]
    return [*columns, *_lineage(plan)]


def _lineage(plan: ValidationPlan) -> list[Column]:
    return [_lineage_value(v).alias(name) for name, v in plan.lineage.items()]


def _lineage_value(value: Any) -> Column:
    if isinstance(value, dt.datetime):
        return literal(value, None)  # an instant (UTC)
    return F.lit(None if value is None else str(value)).cast(T.StringType())
