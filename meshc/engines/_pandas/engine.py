"""The pandas engine: nullable and arrow-backed dtypes (see dtypes.py), pyarrow kernels for
regex and UTF-8, vectorised masks throughout (no Python loop over rows in `validate`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from meshc.engines import spec
from meshc.engines._pandas import io
from meshc.engines._pandas.cast import cast_stored, cast_text
from meshc.engines._pandas.dtypes import STRING_DTYPE, fails, from_arrow, to_arrow
from meshc.engines._pandas.native import Env, Native
from meshc.engines._pandas.reasons import Reason, build_reasons
from meshc.engines._pandas.translate import translate
from meshc.engines.base import (
    REASONS,
    EngineLifecycle,
    Split,
    ValidationPlan,
    refuse_unknown_options,
)
from meshc.rules import expr as ir
from meshc.types import Kind


class PandasEngine(EngineLifecycle):
    """In-memory pandas DataFrames; `close` has nothing to release."""

    name = "pandas"

    def read(
        self,
        paths: Sequence[str],
        fmt: str,
        *,
        delimiter: str = ",",
        header: bool = True,
        text_columns: Sequence[str] = (),
    ) -> pd.DataFrame:
        # Text formats read every column as text; `text_columns` must be in every file.
        return io.read(paths, fmt, delimiter, header, required=text_columns)

    def validate(self, frame: pd.DataFrame, plan: ValidationPlan) -> Split[pd.DataFrame]:
        predicates = _translate_checks(plan)  # fail before any work
        source, internal = _split_internal(frame, plan)
        extra = spec.check_columns([str(c) for c in source.columns], plan)
        missing = _missing_values(source, plan)
        typed, cast_failed = _cast_columns(source, missing, plan)
        env = Env(pd.concat([typed, _as_text(source, missing, extra)], axis=1), len(source))
        failed = {cid: fails(predicate(env)) for cid, predicate in predicates.items()}
        for cid, column in plan.verdicts.items():
            failed[cid] = internal[column].fillna(False).to_numpy(dtype=bool)
        for check in plan.checks:  # a value that could not be read is not judged by other checks
            for column in check.columns:
                if column in cast_failed:
                    failed[check.id] = failed[check.id] & ~cast_failed[column]
        quarantined = np.zeros(len(source), dtype=bool)
        for mask in cast_failed.values():
            quarantined |= mask
        for check in plan.checks:
            if check.severity == "error":
                quarantined |= failed[check.id]
        valid = typed[~quarantined]
        if plan.extra_columns == "keep":
            valid = pd.concat([valid, _as_text(source, missing, extra)[~quarantined]], axis=1)
        # as read, except that null_values ("" by default) are NULL, as on every engine
        quarantine = source.mask(missing)[quarantined].reset_index(drop=True)
        if plan.include_reasons:
            quarantine[REASONS] = _reasons(source, missing, quarantined, cast_failed, failed, plan)
        failures = spec.failure_counts(
            plan,
            {name: int(mask.sum()) for name, mask in cast_failed.items()},
            [int(failed[c.id].sum()) for c in plan.checks],
        )
        return spec.counted_split(
            _with_lineage(valid.reset_index(drop=True), plan),
            _with_lineage(quarantine, plan),
            rows_in=len(source),
            rows_quarantined=int(quarantined.sum()),
            failures=failures,
        )

    def cast(self, frame: pd.DataFrame, plan: ValidationPlan) -> pd.DataFrame:
        source, internal = _split_internal(frame, plan)
        spec.check_columns([str(c) for c in source.columns], plan)
        typed, _ = _cast_columns(source, _missing_values(source, plan), plan)
        return pd.concat([typed, internal], axis=1)

    def aggregate(self, frame: pd.DataFrame, exprs: Mapping[str, ir.Expr]) -> dict[str, Any]:
        data = frame.reset_index(drop=True)
        compiled = {name: translate(e) for name, e in exprs.items()}  # fail before any work
        return {name: to_arrow(f(Env(data, 1))).to_pylist()[0] for name, f in compiled.items()}

    def write(self, frame: pd.DataFrame, path: Path, fmt: str) -> None:
        io.write(frame, Path(path), fmt)

    def mask(self, frame: pd.DataFrame, masks: Mapping[str, str]) -> pd.DataFrame:
        from meshc.engines._pandas.mask import mask_frame

        return mask_frame(frame, masks)

    def to_arrow(self, frame: pd.DataFrame) -> pa.Table:
        return io.to_arrow(frame)

    def head(self, frame: pd.DataFrame, n: int) -> pa.Table:
        # typed as the whole frame: Arrow infers an object column's type from its values, and
        # the first n may all be None (a null column where to_arrow gives strings)
        schema = pa.Schema.from_pandas(frame, preserve_index=False)
        rows = pa.Table.from_pandas(frame.head(n), schema=schema, preserve_index=False)
        return rows.replace_schema_metadata(None)

    def columns(self, frame: pd.DataFrame) -> list[str]:
        return [str(c) for c in frame.columns]


def create(**options: Any) -> PandasEngine:
    """The registry's entry point; the pandas engine takes no options."""
    refuse_unknown_options("pandas", options, ())
    return PandasEngine()


# -- validate's stages -----------------------------------------------------------------------------
def _translate_checks(plan: ValidationPlan) -> dict[str, Native]:
    """Each check's predicate (but those the plan's verdicts decide); an MC390 names its check."""
    predicates: dict[str, Native] = {}
    for check in plan.checks:
        if check.id not in plan.verdicts:
            with spec.located(check):
                predicates[check.id] = translate(check.predicate)
    return predicates


def _split_internal(frame: pd.DataFrame, plan: ValidationPlan) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(source, internal columns), both on a RangeIndex (literals and masks align on it); an
    earlier run's reasons and lineage are neither (spec.source_columns)."""
    frame = frame.reset_index(drop=True)
    internal = [c for c in frame.columns if c in plan.internal_columns]
    names = set(spec.source_columns([str(c) for c in frame.columns], plan))
    if len(names) == len(frame.columns):
        return frame, frame.iloc[:, :0]
    source = frame[[c for c in frame.columns if str(c) in names]]
    source.attrs = dict(frame.attrs)
    return source, frame[internal]


def _is_text_source(source: pd.DataFrame, plan: ValidationPlan) -> bool:
    """As the plan says (read from csv/json or not); an in-memory frame is text when every
    column holds strings."""
    if plan.text_source is not None:
        return plan.text_source
    types = pd.api.types
    return all(types.is_string_dtype(t) or types.is_object_dtype(t) for t in source.dtypes)


def _missing_values(source: pd.DataFrame, plan: ValidationPlan) -> pd.DataFrame:
    """Per cell: NULL as read, or one of the plan's null_values in a text source."""
    missing = source.isna()
    if _is_text_source(source, plan) and plan.null_values:
        missing |= source.isin(list(plan.null_values))
    return missing


def _cast_columns(
    source: pd.DataFrame,
    missing: pd.DataFrame,
    plan: ValidationPlan,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    text = _is_text_source(source, plan)
    typed: dict[str, pd.Series] = {}
    failed: dict[str, np.ndarray] = {}
    for column_spec in plan.columns:
        column = source[column_spec.name]
        if text:
            values, bad = cast_text(_text(column, missing[column_spec.name]), column_spec.type)
        else:
            values, bad = cast_stored(column, column_spec.type)
        typed[column_spec.name], failed[column_spec.name] = values, bad
    return pd.DataFrame(typed, index=source.index), failed


def _text(column: pd.Series, missing: pd.Series) -> pd.Series:
    return column.astype(STRING_DTYPE).mask(missing.to_numpy(dtype=bool))


def _as_text(source: pd.DataFrame, missing: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Extra columns as text (kept in the valid output, readable by rules as strings)."""
    return pd.DataFrame({n: _raw_text(source[n], missing[n]) for n in names}, index=source.index)


def _raw_text(column: pd.Series, missing: pd.Series) -> pd.Series:
    """A column's value as read, as text; NULL when missing."""
    if not pd.api.types.is_string_dtype(column.dtype) or isinstance(column.dtype, pd.ArrowDtype):
        column = from_arrow(to_arrow(column).cast(pa.large_string()), Kind.STRING)
    return _text(column, missing)


def _reasons(
    source: pd.DataFrame,
    missing: pd.DataFrame,
    quarantined: np.ndarray,
    cast_failed: dict[str, np.ndarray],
    failed: dict[str, np.ndarray],
    plan: ValidationPlan,
) -> pd.Series:
    """Reasons for the quarantined rows only: cast failures in column order, then checks."""
    rows = source[quarantined]
    raw = {n: to_arrow(_raw_text(rows[n], missing[n][quarantined])) for n in rows.columns}
    none = pa.nulls(len(rows), pa.string())
    reasons = [
        _reason(cast_failed[c.name][quarantined], spec.cast_reason(c), raw[c.name])
        for c in plan.columns
    ]
    for check in plan.checks:
        reason = spec.check_reason(check)
        values = raw.get(reason.column, none) if reason.column else none
        reasons.append(_reason(failed[check.id][quarantined], reason, values))
    built = build_reasons(reasons, len(rows))
    return pd.Series(pd.arrays.ArrowExtensionArray(built))


def _reason(failed: np.ndarray, reason: spec.ReasonSpec, values: pa.Array) -> Reason:
    return Reason(
        failed, reason.rule_id, reason.rule, reason.column, values, reason.message, reason.severity
    )


def _with_lineage(frame: pd.DataFrame, plan: ValidationPlan) -> pd.DataFrame:
    if not plan.lineage:
        return frame
    columns = {}
    for name, value in plan.lineage.items():
        if name == "_meshc_processed_at":
            stamp = pa.scalar(value, pa.timestamp("us", tz="UTC"))
            columns[name] = from_arrow(pa.repeat(stamp, len(frame)), Kind.TIMESTAMP_TZ)
        else:
            text = pa.scalar(None if value is None else str(value), pa.large_string())
            columns[name] = from_arrow(pa.repeat(text, len(frame)), Kind.STRING)
    return pd.concat([frame, pd.DataFrame(columns, index=frame.index)], axis=1)
