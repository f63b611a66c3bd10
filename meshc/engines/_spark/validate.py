"""Cast, check and split one frame in a single flagged pass (cached once, counted once)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import reduce
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from meshc.engines._spark.cast import cast_column
from meshc.engines._spark.io import TEXT_SOURCE_ATTR
from meshc.engines._spark.translate import literal, quote, translate
from meshc.engines.base import REASONS, Split, ValidationPlan, cast_message, cast_rule_id
from meshc.errors import SourceError
from meshc.rules.checks import RowCheck

_QUARANTINED = "__meshc_q"


# Internal column names go by position, so no contract column name can collide with them.
def _text_name(i: int) -> str:
    return f"__meshc_s{i}"


def _typed_name(i: int) -> str:
    return f"__meshc_t{i}"


def _cast_failed_name(i: int) -> str:
    return f"__meshc_cf{i}"


def _check_failed_name(j: int) -> str:
    return f"__meshc_f{j}"


def validate(frame: DataFrame, plan: ValidationPlan) -> Split:
    source = [c for c in frame.columns if c not in plan.internal_columns]
    extras = _check_columns(source, plan)
    # A local checkpoint rather than cache(): it is computed once (by the counting job) and
    # reused by both outputs, and unlike a cached plan it can never be matched by a later
    # query over the same path whose file has since changed (that served stale rows).
    flagged = _flag(frame, plan, extras).localCheckpoint(eager=False)
    rows_in, rows_quarantined, failures = _count(flagged, plan)
    quarantined = F.col(_QUARANTINED)
    valid = flagged.filter(~quarantined).select(*_valid_columns(plan, extras))
    # as read, except that null_values ("" by default) are NULL, as on every engine
    text_source = getattr(frame, TEXT_SOURCE_ATTR, True)
    types = {f.name: f.dataType for f in frame.schema.fields}
    quarantine_cols = [
        _null_mapped(quote(c), types[c], text_source, plan.null_values).alias(c) for c in source
    ]
    if plan.include_reasons:
        # built after the checkpoint, for quarantined rows only: every reason repeats its rule's
        # text and message (an IN list can be 80 KB), so the checkpoint holds flags, not reasons
        names = [*(c.name for c in plan.columns), *extras]
        quarantine_cols.append(_reasons(plan, names).alias(REASONS))
    quarantine = flagged.filter(quarantined).select(*quarantine_cols, *_lineage(plan))
    return Split(
        valid=valid,
        quarantine=quarantine,
        rows_in=rows_in,
        rows_valid=rows_in - rows_quarantined,
        rows_quarantined=rows_quarantined,
        failures=failures,
    )


def cast(frame: DataFrame, plan: ValidationPlan) -> DataFrame:
    """The typed contract columns (a failed cast is NULL) and the plan's internal columns."""
    _check_columns([c for c in frame.columns if c not in plan.internal_columns], plan)
    text_source = getattr(frame, TEXT_SOURCE_ATTR, True)
    types = {f.name: f.dataType for f in frame.schema.fields}
    columns = []
    for spec in plan.columns:
        raw = _null_mapped(quote(spec.name), types[spec.name], text_source, plan.null_values)
        typed, ok = cast_column(raw, types[spec.name], spec.type)
        columns.append(F.when(ok, typed).alias(spec.name))
    return frame.select(*columns, *(quote(c) for c in plan.internal_columns))


def _check_columns(source: list[str], plan: ValidationPlan) -> list[str]:
    """The extra source columns; a missing contract column or forbidden extra is an error."""
    wanted = [c.name for c in plan.columns]
    missing = [c for c in wanted if c not in source]
    if missing:
        raise SourceError(f"source lacks contract column(s): {', '.join(missing)}")
    extras = [c for c in source if c not in wanted]
    if extras and plan.extra_columns == "error":
        raise SourceError(f"source has columns the contract does not declare: {', '.join(extras)}")
    return extras


def _flag(frame: DataFrame, plan: ValidationPlan, extras: list[str]) -> DataFrame:
    """Source columns + null-mapped text + typed values + cast and check flags."""
    text_source = getattr(frame, TEXT_SOURCE_ATTR, True)
    types = {f.name: f.dataType for f in frame.schema.fields}
    names = [*(c.name for c in plan.columns), *extras]
    text = {n: _as_text(quote(n), types[n], text_source, plan.null_values) for n in names}
    step1 = [quote(c) for c in frame.columns]
    step1 += [text[n].alias(_text_name(i)) for i, n in enumerate(names)]
    for i, spec in enumerate(plan.columns):
        raw = _null_mapped(quote(spec.name), types[spec.name], text_source, plan.null_values)
        typed, ok = cast_column(raw, types[spec.name], spec.type)
        step1.append(F.when(ok, typed).alias(_typed_name(i)))
        step1.append((raw.isNotNull() & ~ok).alias(_cast_failed_name(i)))
    flagged = frame.select(*step1)
    resolver = _resolver(plan, names)
    # violated only when the predicate is FALSE: NULL counts as a pass
    index = {spec.name: i for i, spec in enumerate(plan.columns)}
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
    typed = {spec.name: F.col(_typed_name(i)) for i, spec in enumerate(plan.columns)}
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
    for i, spec in enumerate(plan.columns):
        entries.append(
            F.when(
                F.col(_cast_failed_name(i)),
                _reason(
                    cast_rule_id(spec.name),
                    f"type {spec.type}",
                    spec.name,
                    F.col(_text_name(i)),
                    cast_message(spec.name, spec.type),
                    "error",
                ),
            )
        )
    for j, check in enumerate(plan.checks):
        entries.append(F.when(F.col(_check_failed_name(j)), _check_reason(check, position)))
    if not entries:
        return F.array().cast(T.ArrayType(_REASON_TYPE))
    return F.filter(F.array(*entries), lambda entry: entry.isNotNull())


def _check_reason(check: RowCheck, position: Mapping[str, int]) -> Column:
    first = check.columns[0] if check.columns else None
    value = F.lit(None)
    if first is not None and first in position:
        value = F.col(_text_name(position[first]))
    message = check.description or f"violates {check.rule}"
    return _reason(check.id, check.rule, first, value, message, check.severity)


def _reason(
    rule_id: str, rule: str, column: str | None, value: Column, message: str, severity: str
) -> Column:
    return F.struct(
        F.lit(rule_id).alias("rule_id"),
        F.lit(rule).alias("rule"),
        F.lit(column).cast(T.StringType()).alias("column"),
        value.cast(T.StringType()).alias("value"),
        F.lit(message).alias("message"),
        F.lit(severity).alias("severity"),
    )


_REASON_TYPE = T.StructType(
    [
        T.StructField(n, T.StringType())
        for n in ("rule_id", "rule", "column", "value", "message", "severity")
    ]
)


def _count(flagged: DataFrame, plan: ValidationPlan) -> tuple[int, int, dict[str, int]]:
    """Rows, quarantined rows and failures per check id, in one aggregation (one Spark job)."""

    def total(name: str) -> Column:
        return F.coalesce(F.sum(F.col(name).cast(T.LongType())), F.lit(0))

    aggs = [F.count(F.lit(1)).alias("__rows"), total(_QUARANTINED).alias("__quarantined")]
    aggs += [total(_cast_failed_name(i)).alias(f"c{i}") for i in range(len(plan.columns))]
    aggs += [total(_check_failed_name(j)).alias(f"k{j}") for j in range(len(plan.checks))]
    row = flagged.agg(*aggs).collect()[0]
    counts: dict[str, int] = {}
    for i, spec in enumerate(plan.columns):
        if row[f"c{i}"]:
            counts[cast_rule_id(spec.name)] = int(row[f"c{i}"])
    for j, check in enumerate(plan.checks):
        counts[check.id] = counts.get(check.id, 0) + int(row[f"k{j}"])
    return int(row["__rows"]), int(row["__quarantined"]), counts


def _valid_columns(plan: ValidationPlan, extras: list[str]) -> list[Column]:
    columns = [F.col(_typed_name(i)).alias(spec.name) for i, spec in enumerate(plan.columns)]
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
