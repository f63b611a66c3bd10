"""Type inference: a type is proposed only when every non-null value parses by exactly the form
`meshc run` accepts (docs/semantics.md), so a bootstrapped contract never quarantines a clean
row for a cast. Everything else stays `string`, with a note when the text looks like something
meshc does not read (non-ISO dates).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from meshc.bootstrap.profile import TextForms
from meshc.types import MAX_DECIMAL_PRECISION, Kind, LogicalType, parse_type

_BOOLEAN_NAME = re.compile(
    r"^(is|has|can|should|was|did)_|_(flag|bool)$|^(active|enabled|deleted)$"
)
_DEFAULT_DECIMAL_PRECISION = 18


@dataclass(frozen=True)
class InferredType:
    """A column's contract type, and why (a note for the summary when it is worth reading)."""

    type_text: str
    note: str | None = None

    @property
    def logical(self) -> LogicalType:
        return parse_type(self.type_text)


def infer_text(name: str, forms: TextForms) -> InferredType:
    """The narrowest type every non-null value of a text column parses as."""
    n = forms.values
    if n == 0:
        return InferredType("string", "no values in the sample: typed as string")
    every = {key: count == n for key, count in forms.parses.items()}
    if every["boolean"] and (forms.zero_one < n or _BOOLEAN_NAME.search(name.lower())):
        return InferredType("boolean")
    if every["integer"] or (forms.decimal_form == n and forms.with_fraction == 0):
        return _integer(forms, n)
    if forms.decimal_form == n and _fixed_scale(forms):
        return _decimal(forms)
    if every["float"]:
        return InferredType("double")
    if every["date"]:
        return InferredType("date")
    if every["timestamp"]:
        return InferredType(
            "timestamptz" if forms.with_offset else "timestamp",
            "offsets are normalised to UTC" if forms.with_offset else None,
        )
    return InferredType("string", _string_note(forms, n))


def _integer(forms: TextForms, n: int) -> InferredType:
    if forms.leading_zero:
        return InferredType(
            "string",
            f"{forms.leading_zero} of {n:,} values have leading zeros "
            "(codes, not numbers): kept as string",
        )
    if forms.parses["integer"] < n:
        return InferredType("string", "digits beyond 64-bit integers (identifiers): kept as string")
    if forms.alt_dates.get("YYYYMMDD") == n:
        return InferredType(
            "bigint",
            "looks like dates in YYYYMMDD; meshc reads ISO dates "
            "(YYYY-MM-DD) only, so typed as integer",
        )
    return InferredType("bigint")


def _fixed_scale(forms: TextForms) -> bool:
    """Every value with a fraction has the same number of digits after the point."""
    return (
        forms.with_fraction > 0
        and forms.fraction_min == forms.fraction_max
        and forms.fraction_max is not None
        and 1 <= forms.fraction_max <= 9
    )


def _decimal(forms: TextForms) -> InferredType:
    scale = int(forms.fraction_max or 0)
    # headroom over the widest value seen, so the next load's larger amounts still fit
    precision = min(
        MAX_DECIMAL_PRECISION, max(_DEFAULT_DECIMAL_PRECISION, forms.integer_digits + scale + 2)
    )
    return InferredType(
        f"decimal({precision},{scale})", f"every value has exactly {scale} fraction digit(s)"
    )


def _string_note(forms: TextForms, n: int) -> str | None:
    for label, count in forms.alt_dates.items():
        if count == n:
            return (
                f"looks like dates in {label}; meshc reads ISO (YYYY-MM-DD) only, so kept as string"
            )
    best_key, best = max(forms.parses.items(), key=lambda kv: kv[1])
    if best >= 0.95 * n:
        bad = n - best
        return (
            f"{best / n:.2%} of {n:,} values parse as {best_key}; {bad:,} do not, so kept as "
            f"string (declare {best_key} to quarantine them)"
        )
    return None


def infer_stored(dtype: pl.DataType) -> InferredType:
    """The contract type for a column Parquet stores with its own type."""
    if dtype == pl.Boolean:
        return InferredType("boolean")
    if dtype.is_integer():
        note = "unsigned 64-bit values above 2^63-1 fail the cast" if dtype == pl.UInt64 else None
        return InferredType("bigint", note)
    if dtype.is_float():
        return InferredType("double")
    if isinstance(dtype, pl.Decimal):
        precision = dtype.precision or MAX_DECIMAL_PRECISION
        return InferredType(f"decimal({precision},{dtype.scale})")
    if dtype == pl.Date:
        return InferredType("date")
    if isinstance(dtype, pl.Datetime):
        return InferredType("timestamptz" if dtype.time_zone else "timestamp")
    return InferredType("string")


def kind_of(inferred: InferredType) -> Kind:
    return inferred.logical.kind
