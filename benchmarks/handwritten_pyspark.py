"""The hand-written PySpark baseline of benchmarks/bench_engines.py (`--spark`), local mode:

    python benchmarks/handwritten_pyspark.py orders|wide SOURCE VALID_DIR QUARANTINE_DIR

The semantics of handwritten_polars.py: every column read as text with '' as NULL (CSV), strict-
form casts (regex + try_cast) whose failures quarantine the row, the rules as Spark SQL (`F.expr`
of the contract's own text) where NULL is not a violation and a rule is not evaluated on a row
whose column failed its cast, reasons for quarantined rows only, masking (hash: HMAC-SHA256 hex in
a pandas UDF, as Spark has no HMAC function). The flagged rows are persisted once and written
twice (valid, quarantine), each a folder of Parquet part files.
"""

import hashlib  # no `from __future__ import annotations`: pandas_udf reads the type hints
import hmac
import os
import sys

import wide_spec
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

ORDERS_FIELDS = [
    ("order_id", "string"),
    ("order_amount", "float"),
    ("order_date", "date"),
    ("order_status", "string"),
    ("quantity", "integer"),
]
ORDERS_RULES = [  # name, column, the contract's SQL (bench_run.CONTRACT)
    ("amount_non_negative", "order_amount", "order_amount >= 0"),
    (
        "status_known",
        "order_status",
        "order_status IN ('pending', 'shipped', 'delivered', 'returned')",
    ),
    ("quantity_range", "quantity", "quantity BETWEEN 1 AND 100"),
    ("order_id_pattern", "order_id", "REGEXP_LIKE(order_id, '^ORD-[0-9]+$')"),
]

FLOAT = r"^(?:[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:[+-]?inf(?:inity)?|nan))$"
FORMS = {"integer": r"^[+-]?[0-9]+$", "float": FLOAT, "date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
SPARK_TYPES = {"integer": "BIGINT", "float": "DOUBLE", "date": "DATE"}


def read(spark: SparkSession, source: str, columns: list[str]) -> DataFrame:
    if source.endswith(".parquet"):
        return spark.read.parquet(source)
    frame = spark.read.csv(source, header=True, inferSchema=False)
    return frame.select(*(F.when(F.col(c) != "", F.col(c)).alias(c) for c in columns))


def typed(frame: DataFrame, fields: list[tuple[str, str]]) -> DataFrame:
    """`_raw_<c>` keeps the text as read; `<c>` becomes the typed value; `_f_<c>` the failure."""
    out = frame.select(*frame.columns, *(F.col(c).alias(f"_raw_{c}") for c, _ in fields))
    for name, kind in fields:
        if kind == "string":
            continue
        text = F.trim(F.col(name))
        value = F.when(text.rlike(FORMS[kind]), text.try_cast(SPARK_TYPES[kind]))
        if kind == "float":
            value = F.when(~F.isnan(value), value)  # NaN is a valid spelling, read as NULL
        out = out.withColumn(f"_f_{name}", F.col(name).isNotNull() & value.isNull())
        out = out.withColumn(name, value)
    return out


def masked(value: Column, method: str, key: bytes) -> Column:
    if method == "hash":
        return _hmac_udf(key)(value)
    if method == "redact":
        return F.when(value.isNotNull(), F.lit("[REDACTED]"))
    length = F.length(value)
    visible = F.when(length > 4, F.substring(value, -4, 4)).otherwise(F.lit(""))
    return F.lpad(visible, length, "*")


def _hmac_udf(key: bytes):  # type: ignore[no-untyped-def]
    import pandas as pd

    @F.pandas_udf("string")  # type: ignore[call-overload]
    def hmac_hex(values: pd.Series) -> pd.Series:
        return values.map(
            lambda v: None if v is None else hmac.new(key, v.encode(), hashlib.sha256).hexdigest()
        )

    return hmac_hex


def main(workload: str, source: str, valid_path: str, quarantine_path: str) -> None:
    if workload == "orders":
        fields, rules, masks = ORDERS_FIELDS, ORDERS_RULES, {}
    else:
        fields = [(f.name, f.type) for f in wide_spec.FIELDS]
        rules = [(r.name, r.column, r.sql) for r in wide_spec.RULES]
        masks = wide_spec.MASKS
    key = os.environ.get("MESHC_MASKING_KEY", "").encode()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers need this venv's pandas
    spark = (
        SparkSession.builder.master("local[*]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    columns = [c for c, _ in fields]
    cast_fields = [(c, k) for c, k in fields if k != "string"]
    frame = typed(read(spark, source, columns), fields)
    for name, column, sql in rules:
        bad = F.coalesce(~F.expr(sql), F.lit(False))
        if any(c == column for c, _ in cast_fields):
            bad = bad & ~F.col(f"_f_{column}")
        frame = frame.withColumn(f"_r_{name}", bad)
    flags = [f"_f_{c}" for c, _ in cast_fields] + [f"_r_{n}" for n, _, _ in rules]
    frame = frame.withColumn("_quarantined", F.greatest(*(F.col(f) for f in flags)))
    frame = frame.persist()

    def value(column: str) -> Column:
        raw = F.col(f"_raw_{column}")
        return masked(raw, masks[column], key) if column in masks else raw

    valid = frame.filter(~F.col("_quarantined")).select(
        *(masked(F.col(c), masks[c], key).alias(c) if c in masks else F.col(c) for c in columns)
    )
    valid.write.mode("overwrite").parquet(valid_path)
    entries = [
        F.when(F.col(f"_f_{c}"), _reason(f"{c}.type", f"type {k}", c, value(c), k))
        for c, k in cast_fields
    ] + [F.when(F.col(f"_r_{n}"), _reason(n, sql, c, value(c), None)) for n, c, sql in rules]
    quarantine = frame.filter(F.col("_quarantined")).select(
        *(value(c).alias(c) for c in columns),
        F.filter(F.array(*entries), lambda r: r.isNotNull()).alias("_meshc_reasons"),
    )
    quarantine.write.mode("overwrite").parquet(quarantine_path)
    spark.stop()


def _reason(rule_id: str, rule: str, column: str, value: Column, cast_to: str | None) -> Column:
    message = f"value of '{column}' cannot be read as {cast_to}" if cast_to else f"violates {rule}"
    return F.struct(
        F.lit(rule_id).alias("rule_id"),
        F.lit(rule).alias("rule"),
        F.lit(column).alias("column"),
        value.alias("value"),
        F.lit(message).alias("message"),
        F.lit("error").alias("severity"),
    )


if __name__ == "__main__":
    main(*sys.argv[1:5])
