"""Profiling: find the datasets in a landing folder, read a sample as meshc's runner reads it, and
compute every column's statistics as one `select` of aggregates.

Two passes over the (sampled) frame, each a single lazy `select`:

1. `text_forms`: for text columns, how many values parse by each documented form
   (docs/semantics.md). Type inference (types.py) reads only this.
2. `column_stats`: on the frame cast exactly as `meshc run` casts it, the statistics the rule
   suggestions need (nulls, distinct counts, quantiles, lengths, format matches).

Value counts for low-cardinality columns and shape counts are small group-bys on the sample.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from meshc.engines.profiling import cast_column, cast_text
from meshc.types import BOOLEAN, DATE, FLOAT, INTEGER, TIMESTAMP, Kind, LogicalType

SUFFIX_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
TEXT_FORMATS = ("csv", "json", "ndjson")
# Text that landing systems write for "no value"; added to source.options.null_values when seen.
NULL_TOKENS = ("NULL", "null", "N/A", "n/a", "None")
_SEP = "\x1f"  # joins column and statistic in aggregate aliases

# no repeated group: meshc check refuses those (Java's regex backtracks exponentially on them)
EMAIL_RE = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
PHONE_RE = r"^\+?[0-9][0-9 ().-]{5,18}[0-9]$"
UUID_RE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_DECIMAL_FORM = r"^[+-]?[0-9]+(\.[0-9]+)?$"
_OFFSET = r"(Z|[+-][0-9]{2}:[0-9]{2})$"
# Unambiguous non-ISO date spellings meshc does not read (reported, never typed as dates).
ALT_DATE_FORMATS = {
    "YYYY/MM/DD": r"^[0-9]{4}/(0[1-9]|1[0-2])/(0[1-9]|[12][0-9]|3[01])$",
    "DD.MM.YYYY": r"^(0[1-9]|[12][0-9]|3[01])\.(0[1-9]|1[0-2])\.[0-9]{4}$",
    "YYYYMMDD": r"^(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$",
    "DD-Mon-YYYY": r"^(0?[1-9]|[12][0-9]|3[01])-"
    r"(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)-[0-9]{4}$",
}
_CANDIDATES: dict[str, LogicalType] = {
    "integer": INTEGER,
    "float": FLOAT,
    "boolean": BOOLEAN,
    "date": DATE,
    "timestamp": TIMESTAMP,
}


@dataclass(frozen=True)
class Dataset:
    """One dataset in the landing folder: a file, or a folder of files of one format."""

    name: str
    location: Path  # the file or folder, as found
    paths: tuple[Path, ...]
    format: str
    delimiter: str = ","
    null_values: tuple[str, ...] = ("",)

    @property
    def is_text(self) -> bool:
        return self.format in TEXT_FORMATS


@dataclass
class TextForms:
    """Pass 1 for one text column: how many non-null values parse by each documented form."""

    values: int
    parses: dict[str, int]  # candidate type -> values that cast cleanly
    decimal_form: int  # values of the form [+-]digits[.digits]
    leading_zero: int  # integers written with a leading zero (zip codes, phone numbers)
    zero_one: int  # values that are exactly 0 or 1
    fraction_min: int | None  # shortest / longest fraction among values with a '.'
    fraction_max: int | None
    with_fraction: int
    integer_digits: int  # most integer digits, leading zeros not counted
    with_offset: int  # timestamps carrying Z or +HH:MM
    with_time: int
    alt_dates: dict[str, int] = field(default_factory=dict)


@dataclass
class ColumnStats:
    """Pass 2 for one column, on its typed values."""

    name: str
    ltype: LogicalType
    rows: int
    nulls: int
    distinct: int
    numbers: dict[str, float] = field(default_factory=dict)  # quantiles, min, max, negatives
    lengths: tuple[int, int] | None = None
    formats: dict[str, int] = field(default_factory=dict)  # email/phone/uuid -> matches
    top_values: list[tuple[Any, int]] = field(default_factory=list)  # low cardinality only
    top_shape: tuple[str, int] | None = None

    @property
    def present(self) -> int:
        return self.rows - self.nulls


# -- finding datasets ------------------------------------------------------------------------


def discover(landing: Path, fmt: str | None = None) -> list[Dataset]:
    """Each file directly in `landing` is a dataset; so is each sub-folder (all its files)."""
    if landing.is_file():
        return [dataset_for(landing, [landing], fmt)]
    from meshc.runner.sources import hidden_below  # the rule `meshc run` reads folders by

    found = []
    for entry in sorted(landing.iterdir()):
        if hidden_below(landing, entry):
            continue
        files = (
            [entry]
            if entry.is_file()
            else sorted(f for f in entry.rglob("*") if f.is_file() and not hidden_below(entry, f))
        )
        files = [f for f in files if (fmt or SUFFIX_FORMATS.get(f.suffix.lower()))]
        if files:
            found.append(dataset_for(entry, files, fmt))
    return found


def dataset_for(location: Path, files: list[Path], fmt: str | None) -> Dataset:
    formats = {fmt or SUFFIX_FORMATS.get(f.suffix.lower()) for f in files} - {None}
    if len(formats) != 1:
        from meshc.errors import SourceError

        raise SourceError(
            f"{location}: files of several formats ({', '.join(sorted(map(str, formats)))}); "
            "a dataset folder holds files of one format"
        )
    chosen = formats.pop()
    assert chosen is not None
    if chosen == "json":
        chosen = "json" if _is_json_array(files[0]) else "ndjson"
    delimiter = _sniff_delimiter(files[0]) if chosen == "csv" else ","
    return Dataset(
        identifier(location.name.split(".")[0]), location, tuple(files), chosen, delimiter
    )


def identifier(text: str) -> str:
    """A contract-safe identifier (`^[A-Za-z_][A-Za-z0-9_]*$`) from a file or folder name."""
    name = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_").lower() or "dataset"
    return name if not name[0].isdigit() else f"_{name}"


def _sniff_delimiter(path: Path) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        header = handle.readline()
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _is_json_array(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(4096).lstrip()
    return head.startswith(b"[")


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """How the profiled rows were drawn: stated in the contract's header comment."""

    rows: int  # rows profiled
    total: int  # rows in the input
    seed: int

    def describe(self) -> str:
        if self.rows >= self.total:
            return f"all {self.total:,} rows"
        return (
            f"a uniform random sample of {self.rows:,} of {self.total:,} rows (simple random "
            f"sampling without replacement over the whole input, seed {self.seed})"
        )


def sample_indices(total: int, rows: int | None, seed: int) -> list[int] | None:
    """Sorted row numbers of a uniform sample of `rows` out of `total`; None when all are kept."""
    if rows is None or rows >= total:
        return None
    import random

    return sorted(random.Random(seed).sample(range(total), rows))


def read_sample(
    dataset: Dataset, sample_rows: int | None, seed: int = 0
) -> tuple[Dataset, pl.DataFrame, Sample]:
    """A uniform random sample of `sample_rows` rows over the whole input (all when None), read
    as `meshc run` reads it: text sources as strings with null_values applied, Parquet with its
    stored types. Two streamed passes: count the rows, then keep the seeded random row numbers,
    so a file sorted by time or key is profiled across its whole range, not only its head.
    Returns the dataset with the null tokens it found."""
    from meshc.engines.profiling import read

    paths = [str(p) for p in dataset.paths]
    columns = _columns(dataset)
    lazy = read(paths, dataset.format, delimiter=dataset.delimiter, text_columns=columns)
    total = int(lazy.select(pl.len()).collect(engine="streaming").item())
    picks = sample_indices(total, sample_rows, seed)
    if picks is not None:
        row = "__meshc_row"
        lazy = lazy.with_row_index(row).filter(pl.col(row).is_in(picks)).drop(row)
    frame = lazy.collect(engine="streaming")
    if dataset.is_text:
        dataset = _with_null_tokens(dataset, frame)
        frame = frame.with_columns(
            pl.when(~pl.col(c).is_in(list(dataset.null_values))).then(pl.col(c)).alias(c)
            for c, t in frame.schema.items()
            if t == pl.String
        )
    return dataset, frame, Sample(frame.height, total, seed)


def _columns(dataset: Dataset) -> list[str]:
    if dataset.format in ("json", "ndjson"):
        from meshc.engines.profiling import read

        schema = read([str(p) for p in dataset.paths], dataset.format).collect_schema()
        return [c for c, t in schema.items() if not t.is_nested()]
    return []


def _with_null_tokens(dataset: Dataset, frame: pl.DataFrame) -> Dataset:
    strings = [c for c, t in frame.schema.items() if t == pl.String]
    if not strings:
        return dataset
    seen = frame.select(
        pl.any_horizontal(pl.col(c).is_in([tok]).any() for c in strings).alias(tok)
        for tok in NULL_TOKENS
    ).row(0, named=True)
    tokens = tuple(tok for tok in NULL_TOKENS if seen[tok])
    if not tokens:
        return dataset
    from dataclasses import replace

    return replace(dataset, null_values=("", *tokens))


# -- pass 1: text forms ----------------------------------------------------------------------


def text_forms(frame: pl.DataFrame, columns: Sequence[str]) -> dict[str, TextForms]:
    """One select of aggregates over every text column."""
    exprs: list[pl.Expr] = []
    for c in columns:
        exprs.extend(_form_exprs(c))
    if not exprs:
        return {}
    row = frame.lazy().select(exprs).collect().row(0, named=True)
    return {c: _forms_from(row, c) for c in columns}


def _form_exprs(c: str) -> list[pl.Expr]:
    raw = pl.col(c)
    text = raw.str.strip_chars(" ")
    out = [raw.is_not_null().sum().alias(f"{c}{_SEP}values")]
    for key, ltype in _CANDIDATES.items():
        _, ok = cast_text(raw, ltype)
        out.append((ok & raw.is_not_null()).sum().alias(f"{c}{_SEP}parse:{key}"))
    frac = text.str.extract(r"\.([0-9]+)$", 1).str.len_chars()
    whole = text.str.extract(r"^[+-]?0*([0-9]*)", 1).str.len_chars()
    decimal = text.str.contains(_DECIMAL_FORM)
    out += [
        decimal.sum().alias(f"{c}{_SEP}decimal_form"),
        text.str.contains(r"^[+-]?0[0-9]").sum().alias(f"{c}{_SEP}leading_zero"),
        text.is_in(["0", "1"]).sum().alias(f"{c}{_SEP}zero_one"),
        frac.filter(decimal).min().alias(f"{c}{_SEP}fraction_min"),
        frac.filter(decimal).max().alias(f"{c}{_SEP}fraction_max"),
        frac.filter(decimal).is_not_null().sum().alias(f"{c}{_SEP}with_fraction"),
        whole.filter(decimal).max().alias(f"{c}{_SEP}integer_digits"),
        text.str.contains(_OFFSET).sum().alias(f"{c}{_SEP}with_offset"),
        text.str.contains(r"[T ][0-9]{2}:[0-9]{2}").sum().alias(f"{c}{_SEP}with_time"),
    ]
    out += [
        text.str.contains(rx).sum().alias(f"{c}{_SEP}alt:{label}")
        for label, rx in ALT_DATE_FORMATS.items()
    ]
    return out


def _forms_from(row: dict[str, Any], c: str) -> TextForms:
    def get(stat: str) -> Any:
        return row[f"{c}{_SEP}{stat}"]

    return TextForms(
        values=int(get("values")),
        parses={key: int(get(f"parse:{key}")) for key in _CANDIDATES},
        decimal_form=int(get("decimal_form")),
        leading_zero=int(get("leading_zero")),
        zero_one=int(get("zero_one")),
        fraction_min=get("fraction_min"),
        fraction_max=get("fraction_max"),
        with_fraction=int(get("with_fraction")),
        integer_digits=int(get("integer_digits") or 0),
        with_offset=int(get("with_offset")),
        with_time=int(get("with_time")),
        alt_dates={label: int(get(f"alt:{label}")) for label in ALT_DATE_FORMATS},
    )


# -- pass 2: statistics on typed values ------------------------------------------------------


def typed_frame(frame: pl.DataFrame, types: dict[str, LogicalType]) -> pl.DataFrame:
    """The frame cast exactly as `meshc run` casts it; values that fail become NULL."""
    exprs = []
    for c, ltype in types.items():
        typed, ok = cast_column(pl.col(c), frame.schema[c], ltype)
        exprs.append(pl.when(ok).then(typed).alias(c))
    return frame.lazy().select(exprs).collect()


def column_stats(typed: pl.DataFrame, *, low_cardinality: int = 50) -> dict[str, ColumnStats]:
    """One select of aggregates over every column, then value counts where cardinality is low."""
    exprs: list[pl.Expr] = []
    kinds = {c: _kind(t) for c, t in typed.schema.items()}
    for c, kind in kinds.items():
        exprs.extend(_stat_exprs(c, kind))
    row = typed.lazy().select(exprs).collect().row(0, named=True)
    out = {}
    for c, kind in kinds.items():
        stats = _stats_from(row, c, kind, typed.height)
        if kind is Kind.STRING:
            if stats.distinct <= low_cardinality:
                stats.top_values = _value_counts(typed, c)
            stats.top_shape = _top_shape(typed, c)
        out[c] = stats
    return out


def _kind(dtype: pl.DataType) -> Kind:
    if dtype == pl.String:
        return Kind.STRING
    if dtype.is_integer():
        return Kind.INTEGER
    if dtype.is_float():
        return Kind.FLOAT
    if isinstance(dtype, pl.Decimal):
        return Kind.DECIMAL
    if dtype == pl.Boolean:
        return Kind.BOOLEAN
    if dtype == pl.Date:
        return Kind.DATE
    return Kind.TIMESTAMP


_QUANTILES = {
    "q001": 0.001,
    "q01": 0.01,
    "q25": 0.25,
    "q50": 0.5,
    "q75": 0.75,
    "q99": 0.99,
    "q999": 0.999,
}


def _stat_exprs(c: str, kind: Kind) -> list[pl.Expr]:
    col = pl.col(c)
    out = [col.null_count().alias(f"{c}{_SEP}nulls"), col.n_unique().alias(f"{c}{_SEP}distinct")]
    if kind in (Kind.INTEGER, Kind.FLOAT, Kind.DECIMAL, Kind.DATE):
        num = numeric(col, kind)
        out += [num.quantile(q, "nearest").alias(f"{c}{_SEP}{k}") for k, q in _QUANTILES.items()]
        out += [
            num.min().alias(f"{c}{_SEP}min"),
            num.max().alias(f"{c}{_SEP}max"),
            (num < 0).sum().alias(f"{c}{_SEP}negatives"),
        ]
    if kind is Kind.STRING:
        length = col.str.len_chars()
        out += [length.min().alias(f"{c}{_SEP}len_min"), length.max().alias(f"{c}{_SEP}len_max")]
        for label, rx in (("email", EMAIL_RE), ("uuid", UUID_RE)):
            out.append(col.str.contains(rx).sum().alias(f"{c}{_SEP}fmt:{label}"))
        out.append(_phone(col).sum().alias(f"{c}{_SEP}fmt:phone"))
    return out


def numeric(col: pl.Expr, kind: Kind) -> pl.Expr:
    """A column's values as floats for quantiles and ranges; dates as days since 1970-01-01."""
    return (col.cast(pl.Int32) if kind is Kind.DATE else col).cast(pl.Float64)


def _phone(col: pl.Expr) -> pl.Expr:
    """The phone form, with at least 7 digits, and not a date in any spelling we know."""
    dates = [r"^[0-9]{4}-[0-9]{2}-[0-9]{2}", *ALT_DATE_FORMATS.values()]
    looks_like_date = pl.any_horizontal(col.str.contains(rx) for rx in dates)
    return col.str.contains(PHONE_RE) & (col.str.count_matches("[0-9]") >= 7) & ~looks_like_date


def _stats_from(row: dict[str, Any], c: str, kind: Kind, rows: int) -> ColumnStats:
    def get(stat: str) -> Any:
        return row.get(f"{c}{_SEP}{stat}")

    nulls = int(get("nulls"))
    distinct = int(get("distinct")) - (1 if nulls else 0)  # n_unique counts NULL once
    stats = ColumnStats(c, LogicalType(kind), rows, nulls, distinct)
    if kind in (Kind.INTEGER, Kind.FLOAT, Kind.DECIMAL, Kind.DATE) and get("min") is not None:
        stats.numbers = {k: float(get(k)) for k in (*_QUANTILES, "min", "max", "negatives")}
    if kind is Kind.STRING:
        if get("len_min") is not None:
            stats.lengths = (int(get("len_min")), int(get("len_max")))
        stats.formats = {k: int(get(f"fmt:{k}")) for k in ("email", "phone", "uuid")}
    return stats


def _value_counts(typed: pl.DataFrame, c: str) -> list[tuple[Any, int]]:
    counts = (
        typed.lazy()
        .select(pl.col(c))
        .drop_nulls()
        .group_by(c)
        .len()
        .sort(["len", c], descending=[True, False])
        .collect()
    )
    return [(v, int(n)) for v, n in counts.iter_rows()]


def shape_expr(col: pl.Expr) -> pl.Expr:
    """A value's shape: digits -> 9, ASCII upper -> A, lower -> a, the rest kept."""
    return (
        col.str.replace_all("[0-9]", "9")
        .str.replace_all("[A-Z]", "A")
        .str.replace_all("[a-z]", "a")
    )


def _top_shape(typed: pl.DataFrame, c: str) -> tuple[str, int] | None:
    shapes = (
        typed.lazy()
        .select(shape_expr(pl.col(c)).alias("shape"))
        .drop_nulls()
        .group_by("shape")
        .len()
        .sort(["len", "shape"], descending=[True, False])
        .head(1)
        .collect()
    )
    if shapes.height == 0:
        return None
    shape, count = shapes.row(0)
    return str(shape), int(count)
