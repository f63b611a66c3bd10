"""The hand-written Polars baseline for the wide workload (benchmarks/wide_spec.py: 30 columns,
30 rules, `hash`, `partial` and `redact` masking), with the semantics of handwritten_polars.py:

    python benchmarks/handwritten_wide_polars.py SOURCE VALID.parquet QUARANTINE.parquet

- text read, '' as NULL; strict-form casts (regex + non-strict cast) whose failures quarantine the
  row (`<column>.type`); a rule is not evaluated on a row where its column failed its cast;
- a rule is violated when its predicate is FALSE (NULL is not a violation);
- masked fields are masked in the valid rows, in the quarantined rows and in the reasons' values;
- both outputs are written by one streaming query;
- with a 4th argument `--tuned-reasons`, reasons are built the faster way and `hash` is the
  native HMAC of the polars-hash plugin, as meshc does them (handwritten_common).
"""

from __future__ import annotations

import datetime as dt
import sys

import polars as pl
import wide_spec as spec
from handwritten_common import SABOTAGED, TUNED_FLAG, masked, reasons, scan_text, write_split

FLOAT = r"^(?:[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:[+-]?inf(?:inity)?|nan))$"
INTEGER = r"^[+-]?[0-9]+$"
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
TYPED = [f for f in spec.FIELDS if f.type != "string"]
RULES = spec.RULES[: -1 if SABOTAGED else None]


def cast(field: spec.Field) -> list[pl.Expr]:
    """The typed value `_v_<name>` and the cast-failure flag `_f_<name>`."""
    text = pl.col(field.name).str.strip_chars(" ")
    if field.type == "integer":
        value = pl.when(text.str.contains(INTEGER)).then(text.cast(pl.Int64, strict=False))
    elif field.type == "float":
        value = pl.when(text.str.contains(FLOAT)).then(text.cast(pl.Float64, strict=False))
    else:
        value = pl.when(text.str.contains(DATE)).then(
            text.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        )
    failed = pl.col(field.name).is_not_null() & value.is_null()
    if field.type == "float":
        value = value.fill_nan(None)  # NaN is a valid spelling, read as NULL
    return [value.alias(f"_v_{field.name}"), failed.alias(f"_f_{field.name}")]


def violated(rule: spec.Rule) -> pl.Expr:
    typed = any(f.name == rule.column for f in TYPED)
    col = pl.col(f"_v_{rule.column}" if typed else rule.column)
    a = rule.args
    if rule.kind == "between":
        ok = col.is_between(a[0], a[1])
    elif rule.kind == "ge":
        ok = col >= a[0]
    elif rule.kind == "date_ge":
        ok = col >= dt.date.fromisoformat(str(a[0]))
    elif rule.kind == "in":
        ok = col.is_in(list(a))
    elif rule.kind == "regex":
        ok = col.str.contains(str(a[0]))
    elif rule.kind == "max_len":
        ok = col.str.len_chars() <= a[0]
    else:
        ok = col.str.len_chars().is_between(a[0], a[1])
    bad = (~ok).fill_null(False)
    return (bad & ~pl.col(f"_f_{rule.column}") if typed else bad).alias(f"_r_{rule.name}")


def reason_expr(tuned: bool) -> pl.Expr:
    def value(column: str) -> pl.Expr:
        return pl.col(f"_m_{column}" if column in spec.MASKS else column)

    entries = [
        (
            f"_f_{f.name}",
            f"{f.name}.type",
            f"type {f.type}",
            f.name,
            f"value of '{f.name}' cannot be read as {f.type}",
            value(f.name),
        )
        for f in TYPED
    ] + [
        (f"_r_{r.name}", r.name, r.sql, r.column, f"violates {r.sql}", value(r.column))
        for r in RULES
    ]
    return reasons(entries, tuned).alias("_meshc_reasons")


def main(source: str, valid_path: str, quarantine_path: str, tuned: bool = False) -> None:
    flags = [f"_f_{f.name}" for f in TYPED] + [f"_r_{r.name}" for r in RULES]
    flagged = (
        scan_text(source, spec.COLUMNS)
        .with_columns(e for f in TYPED for e in cast(f))
        .with_columns(violated(r) for r in RULES)
        .with_columns(pl.any_horizontal(flags).alias("_quarantined"))
    )
    typed = {f.name for f in TYPED}
    valid = flagged.filter(~pl.col("_quarantined")).select(
        masked(pl.col(c), spec.MASKS[c], tuned).alias(c)
        if c in spec.MASKS
        else pl.col(f"_v_{c}" if c in typed else c).alias(c)
        for c in spec.COLUMNS
    )
    quarantine = (
        flagged.filter(pl.col("_quarantined"))
        .with_columns(masked(pl.col(c), m, tuned).alias(f"_m_{c}") for c, m in spec.MASKS.items())
        .select(
            *(pl.col(f"_m_{c}" if c in spec.MASKS else c).alias(c) for c in spec.COLUMNS),
            reason_expr(tuned),
        )
    )
    write_split(valid, quarantine, valid_path, quarantine_path)


if __name__ == "__main__":
    main(*sys.argv[1:4], tuned=TUNED_FLAG in sys.argv[4:])
