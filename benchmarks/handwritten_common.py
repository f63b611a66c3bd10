"""What the hand-written Polars scripts of the benchmarks share: reading the source as text with
'' as NULL, HMAC-SHA256 masking, and writing both outputs in one streaming query.

`MESHC_BENCH_SABOTAGE=1` in the environment makes a hand-written script ignore one rule: the
benchmark's own test uses it to prove that a difference in the outputs is caught (exit 1).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os

import polars as pl
import pyarrow.parquet as pq

SABOTAGED = os.environ.get("MESHC_BENCH_SABOTAGE") == "1"
REDACTED = "[REDACTED]"


def scan_text(source: str, columns: list[str]) -> pl.LazyFrame:
    """Every column as text; in a CSV file '' is read as NULL (meshc's default null spelling),
    in Parquet a NULL is a NULL and '' a value."""
    if source.endswith(".parquet"):
        return pl.scan_parquet(source)
    scan = pl.scan_csv(source, infer_schema=False, empty_string_is_null=False, null_values=None)
    return scan.with_columns(
        pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in columns
    )


def masked(value: pl.Expr, method: str, tuned: bool = False) -> pl.Expr:
    """hash: lower-case hex HMAC-SHA256 under MESHC_MASKING_KEY (Python's hmac once per distinct
    value of a batch: Polars has no HMAC expression; tuned, the polars-hash plugin's native
    `hmac_sha256`, as meshc uses it, the same digests); partial: the last 4 characters, the rest
    '*'; redact: a constant."""
    if method == "hash":
        key = os.environ["MESHC_MASKING_KEY"]
        if tuned:
            import polars_hash

            return polars_hash.CryptographicHashingNameSpace(value).hmac_sha256(key=key)
        return value.map_batches(lambda s: _hmac_hex(s, key.encode()), return_dtype=pl.String)
    if method == "redact":
        return pl.when(value.is_not_null()).then(pl.lit(REDACTED))
    length = value.str.len_chars()
    visible = pl.when(length > 4).then(value.str.slice(-4)).otherwise(pl.lit(""))
    return visible.str.pad_start(length, "*")


def _hmac_hex(series: pl.Series, key: bytes) -> pl.Series:
    distinct = series.drop_nulls().unique().to_list()
    digests = {v: hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in distinct}
    return series.replace_strict(digests, default=None, return_dtype=pl.String)


# flag column, rule id, rule text, column, message, value (a String expression)
Reason = tuple[str, str, str, str, str, pl.Expr]
TUNED_FLAG = "--tuned-reasons"
_WIDTH = 4  # digits of a reason's position in its tag


def reasons(entries: list[Reason], tuned: bool) -> pl.Expr:
    """`_meshc_reasons`: one struct per set flag, in `entries` order, as meshc writes them.

    Plain (the baseline): `concat_list` of one `when(flag).then(struct(...))` per reason, the
    obvious form. Tuned (`--tuned-reasons`): the same trick as meshc/engines/_polars/reasons.py,
    since Polars 2.1 builds a list of strings far faster than a list of structs: a list of text
    tags `<position><+ or -><value>` per row, then one `list.eval` that looks the fixed fields
    up by position. Both give the same values and the same schema."""
    if not tuned:
        return pl.concat_list([_struct_reason(*e) for e in entries]).list.drop_nulls()
    tags = [_tag(position, flag, value) for position, (flag, *_, value) in enumerate(entries)]
    tag = pl.element()
    position = tag.str.head(_WIDTH).cast(pl.UInt32)
    positions = list(range(len(entries)))

    def lookup(index: int) -> pl.Expr:
        texts = [e[index] for e in entries]
        return position.replace_strict(positions, texts, return_dtype=pl.String)

    struct = pl.struct(
        rule_id=lookup(1),
        rule=lookup(2),
        column=lookup(3),
        value=pl.when(tag.str.slice(_WIDTH, 1) == "+").then(tag.str.slice(_WIDTH + 1)),
        message=lookup(4),
        severity=pl.lit("error"),
    )
    return pl.concat_list(tags).list.drop_nulls().list.eval(struct)


def _struct_reason(
    flag: str, rule_id: str, rule: str, column: str, message: str, value: pl.Expr
) -> pl.Expr:
    """One reason struct when `flag` is set (NULL otherwise)."""
    return pl.when(pl.col(flag)).then(
        pl.struct(
            rule_id=pl.lit(rule_id),
            rule=pl.lit(rule),
            column=pl.lit(column),
            value=value,
            message=pl.lit(message),
            severity=pl.lit("error"),
        )
    )


def _tag(position: int, flag: str, value: pl.Expr) -> pl.Expr:
    """NULL when the flag is not set; else the position, `-` for a NULL value or `+` and the
    value's text."""
    prefix = f"{position:0{_WIDTH}d}"
    text = pl.when(value.is_null()).then(pl.lit(prefix + "-"))
    return pl.when(pl.col(flag)).then(text.otherwise(pl.concat_str([pl.lit(prefix + "+"), value])))


def write_split(
    valid: pl.LazyFrame, quarantine: pl.LazyFrame, valid_path: str, quar_path: str
) -> None:
    """Both sinks in one streaming query (they share the scan, the casts and the flags), then one
    JSON line with the row counts read from the Parquet footers."""
    pl.collect_all(
        [valid.sink_parquet(valid_path, lazy=True), quarantine.sink_parquet(quar_path, lazy=True)],
        engine="streaming",
    )
    counts = {
        "rows_valid": pq.ParquetFile(valid_path).metadata.num_rows,
        "rows_quarantined": pq.ParquetFile(quar_path).metadata.num_rows,
    }
    print(json.dumps(counts))
