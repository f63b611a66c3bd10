"""The hand-written baseline for the orders workload of benchmarks/bench_engines.py and
bench_run.py: what a competent Polars user would write to enforce the benchmark contract without
meshc, with the same semantics for the core (shared parts: handwritten_common.py).

    python benchmarks/handwritten_polars.py SOURCE(.csv|.parquet) VALID.parquet QUARANTINE.parquet

- every column is read as text; '' is NULL (meshc's default null_values);
- strict-form casts: a regex decides the form, a non-strict native cast converts, and a present
  value that fails is a cast failure (`<column>.type`) that quarantines its row;
- the 4 rules are expressions with SQL CHECK semantics (NULL is not a violation); a rule that
  reads a column whose cast failed is not evaluated on that row;
- valid rows (typed) and quarantined rows (text as read + reasons as a list of structs) are
  written in one streaming pass (both sinks share the scan and the casts).
Prints one JSON line with the valid and quarantined row counts (from the Parquet metadata).
With MESHC_BENCH_SABOTAGE=1 it ignores the last rule (to test the benchmark's verification).
With a 4th argument `--tuned-reasons` it builds the reasons the faster way meshc does (the same
output; handwritten_common.reasons): the `handwritten-tuned` contender.
"""

from __future__ import annotations

import sys

import polars as pl
from handwritten_common import SABOTAGED, TUNED_FLAG, reasons, scan_text, write_split

STATUSES = ["pending", "shipped", "delivered", "returned"]
FLOAT = r"^(?:[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:[+-]?inf(?:inity)?|nan))$"
INTEGER = r"^[+-]?[0-9]+$"
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
COLUMNS = ["order_id", "order_amount", "order_date", "order_status", "quantity"]


def casts() -> list[pl.Expr]:
    amount = pl.col("order_amount").str.strip_chars(" ")
    date = pl.col("order_date").str.strip_chars(" ")
    qty = pl.col("quantity").str.strip_chars(" ")
    amount_ok = amount.str.contains(FLOAT)
    date_ok = date.str.contains(DATE)
    qty_ok = qty.str.contains(INTEGER)
    amount_c = pl.when(amount_ok).then(amount.cast(pl.Float64, strict=False))
    date_v = pl.when(date_ok).then(date.str.strptime(pl.Date, "%Y-%m-%d", strict=False))
    qty_v = pl.when(qty_ok).then(qty.cast(pl.Int64, strict=False))
    # a present value fails when it does not match the form or the native cast rejects it;
    # NaN is a valid float spelling, read as NULL
    return [
        amount_c.fill_nan(None).alias("amount_v"),
        date_v.alias("date_v"),
        qty_v.alias("qty_v"),
        (pl.col("order_amount").is_not_null() & amount_c.is_null()).alias("f_amount"),
        (pl.col("order_date").is_not_null() & date_v.is_null()).alias("f_date"),
        (pl.col("quantity").is_not_null() & qty_v.is_null()).alias("f_qty"),
    ]


def rules() -> list[pl.Expr]:
    """Violated = predicate is FALSE (NULL passes) and no input failed its cast."""
    return [
        (~(pl.col("amount_v") >= 0)).fill_null(False).and_(~pl.col("f_amount")).alias("r_amount"),
        (~pl.col("order_status").is_in(STATUSES)).fill_null(False).alias("r_status"),
        (~pl.col("qty_v").is_between(1, 100))
        .fill_null(False)
        .and_(~pl.col("f_qty"))
        .alias("r_qty"),
        (~pl.col("order_id").str.contains(r"^ORD-[0-9]+$")).fill_null(False).alias("r_id"),
    ]


# flag, rule_id, rule, column, message
REASONS = [
    (
        "f_amount",
        "order_amount.type",
        "type float",
        "order_amount",
        "value of 'order_amount' cannot be read as float",
    ),
    (
        "f_date",
        "order_date.type",
        "type date",
        "order_date",
        "value of 'order_date' cannot be read as date",
    ),
    (
        "f_qty",
        "quantity.type",
        "type integer",
        "quantity",
        "value of 'quantity' cannot be read as integer",
    ),
    (
        "r_amount",
        "amount_non_negative",
        "order_amount >= 0",
        "order_amount",
        "violates order_amount >= 0",
    ),
    (
        "r_status",
        "status_known",
        "order_status IN ('pending', 'shipped', 'delivered', 'returned')",
        "order_status",
        "violates order_status IN ('pending', 'shipped', 'delivered', 'returned')",
    ),
    (
        "r_qty",
        "quantity_range",
        "quantity BETWEEN 1 AND 100",
        "quantity",
        "violates quantity BETWEEN 1 AND 100",
    ),
    (
        "r_id",
        "order_id_pattern",
        "REGEXP_LIKE(order_id, '^ORD-[0-9]+$')",
        "order_id",
        "violates REGEXP_LIKE(order_id, '^ORD-[0-9]+$')",
    ),
]
FLAGS = [flag for flag, *_ in REASONS][: -1 if SABOTAGED else None]


def reason_expr(tuned: bool) -> pl.Expr:
    entries = [
        (flag, rule_id, rule, column, message, pl.col(column))
        for flag, rule_id, rule, column, message in REASONS
        if flag in FLAGS
    ]
    return reasons(entries, tuned).alias("_meshc_reasons")


def main(source: str, valid_path: str, quarantine_path: str, tuned: bool = False) -> None:
    flagged = scan_text(source, COLUMNS).with_columns(casts()).with_columns(rules())
    flagged = flagged.with_columns(pl.any_horizontal(FLAGS).alias("quarantined"))
    valid = flagged.filter(~pl.col("quarantined")).select(
        "order_id",
        pl.col("amount_v").alias("order_amount"),
        pl.col("date_v").alias("order_date"),
        "order_status",
        pl.col("qty_v").alias("quantity"),
    )
    quarantine = flagged.filter(pl.col("quarantined")).select(*COLUMNS, reason_expr(tuned))
    write_split(valid, quarantine, valid_path, quarantine_path)


if __name__ == "__main__":
    main(*sys.argv[1:4], tuned=TUNED_FLAG in sys.argv[4:])
