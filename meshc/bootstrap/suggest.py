"""Rule suggestions that do not learn the defects, and do not quarantine clean data.

Every threshold here answers one question: is this value part of the distribution, or a defect
that happened to be in the sample? Defects are rare and separated from the bulk, so:

- accepted values keep every value seen in the sample, except typos: a case, space, `_`/`-` or
  one-or-two-letter variant of a value at least 50x more frequent (reported as suspects);
- ranges (`BETWEEN lo AND hi`, integer, decimal, double and date columns) come from the quartiles
  with a margin of 3 IQR (Tukey's far fence), clipped at the observed min/max widened by 1% of
  the range of the values inside the fences (a sample's extremes are not the input's) and at 0
  when the column is non-negative; a name and values that read as a calendar or clock field
  (month 1..12, day 1..31, hour 0..23, minute/second 0..59, percentage 0..100) get that domain;
- where no range is written (a heavy clean tail): `>= 0` when at most 0.5% of the values are
  negative (more, and it is a signed quantity, a dew point, whose negatives are clean); an upper
  bound only when a few values (<= 1%) sit beyond the far fence *and* at least 5x the largest
  value below them (twice the largest inlier, rounded up);
- uniqueness for key-like columns with at most 1% duplicates; patterns when >= 95% of values
  share a format. NOT NULL (`required`) only when no value is missing in the sample (facts).

Each suggestion states its evidence and the share of the profiled rows it would quarantine. A
rule whose rejected values are not separated from the bulk (values just beyond the fence, a
continuing tail) would quarantine clean rows: above `max_clean_share` it is a **suspect**,
reported and written commented out, never enforced.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import polars as pl

from meshc.bootstrap.pii import PiiFlag
from meshc.bootstrap.profile import EMAIL_RE, PHONE_RE, UUID_RE, ColumnStats
from meshc.bootstrap.profile import numeric as profile_numeric
from meshc.types import Kind

Placement = Literal["field", "row_rule", "dataset_rule", "note", "suspect"]

MAX_NEGATIVE_SHARE = 0.005  # more negatives than this: a signed quantity (dew point)
MAX_DUPLICATE_SHARE = 0.01
MIN_FORMAT_SHARE = 0.95
MAX_ENUM_VALUES = 20
TYPO_RATIO = 50.0  # a typo's correct spelling is at least this many times more frequent
MAX_CLEAN_SHARE = 0.001  # a rule quarantining more clean profiled rows than this is a suspect
FENCE = 3.0  # Tukey's far fence: Q1 - 3 IQR .. Q3 + 3 IQR
NEAR = 2.0  # rejected values within this many times the fence's distance from the median are
# the tail continuing (clean), not separated defects
MAX_OUTLIER_SHARE = 0.01
OUTLIER_GAP = 5.0  # outliers are at least this many times the largest inlier
HEADROOM = 2.0  # an upper bound is this many times the largest inlier, rounded
EXTREME_HEADROOM = 0.01  # a range reaches this share of its inliers' range beyond min/max
MAX_DOMAIN_MISS = 0.01  # at most this share of values outside a calendar/clock domain
MIN_ROWS = 20  # below this, statistics are not evidence

_KEY_NAME = re.compile(r"(^|_)(id|key|uuid|guid|code|number|no|nr|ref)$")
_SIGNED_NAME = re.compile(
    r"lat|lon|lng|balance|delta|change|diff|offset|temp|profit|pnl|adjust|"
    r"variance|margin|net_|_net|growth"
)


@dataclass(frozen=True)
class Suggestion:
    """One proposed rule (or a note), with the evidence behind it.

    `rule_id` is the id `meshc run` reports for it, so the summary can show how many landing rows
    it quarantines. `payload` is what the writer puts into the contract."""

    column: str
    # required, not_null, unique, accepted_values, non_negative, upper_bound, pattern, pii,
    # type (a note on the inferred type), skipped (a column left out)
    kind: str
    rule: str
    evidence: str
    placement: Placement
    rule_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    suspects: tuple[tuple[Any, int], ...] = ()
    sample_share: float | None = None  # share of the profiled rows the rule would quarantine
    clean_share: float | None = None  # ... of which not explained as defects by the evidence


def facts(stats: ColumnStats, pii: PiiFlag | None, type_note: str | None) -> list[Suggestion]:
    """What is true of the sample and always written: required, PII, type notes."""
    c = stats.name
    out = []
    if stats.rows > 0 and stats.nulls == 0:
        out.append(
            Suggestion(
                c,
                "required",
                "required",
                f"no value missing in {stats.rows:,} rows",
                "field",
                f"{c}.required",
                {"required": True},
            )
        )
    if pii is not None:
        out.append(
            Suggestion(
                c,
                "pii",
                "pii: true",
                pii.evidence + "; choose a masking for silver/gold",
                "field",
                None,
                {"pii": True},
            )
        )
    if type_note:
        out.append(Suggestion(c, "type", "type", type_note, "note"))
    return out


def suggest(
    stats: ColumnStats, typed: pl.DataFrame, max_clean_share: float = MAX_CLEAN_SHARE
) -> list[Suggestion]:
    """Robust rule suggestions for one column; those that would quarantine more than
    `max_clean_share` of clean profiled rows come back as suspects."""
    if stats.present < MIN_ROWS:
        return []
    out: list[Suggestion] = []
    for make in (_unique, _accepted_values):
        found = make(stats)
        if found is not None:
            out.append(found)
    ranged = _range(stats, typed)
    if ranged is not None:
        out.append(ranged)
    if ranged is None or ranged.clean_share is None or ranged.clean_share > max_clean_share:
        # no range to enforce (a heavy clean tail): the bounds that hold without cutting it
        for fallback in (_non_negative(stats), _upper_bound(stats, typed)):
            out += [fallback] if fallback is not None else []
    if stats.ltype.kind is Kind.STRING and not any(s.kind == "accepted_values" for s in out):
        pattern = _pattern(stats)
        if pattern is not None:
            out.append(pattern)
    return [_suspect(s) if (s.clean_share or 0) > max_clean_share else s for s in out]


def _suspect(found: Suggestion) -> Suggestion:
    evidence = f"{found.evidence}; suspect: not enforced, it would quarantine clean rows"
    return replace(found, placement="suspect", evidence=evidence)


def _pct(part: float, whole: float) -> str:
    return f"{part / whole:.2%}" if whole else "0%"


def _quarantines(rejected: int, rows: int) -> str:
    return f"would quarantine {rejected:,} of {rows:,} profiled rows ({_pct(rejected, rows)})"


def _unique(stats: ColumnStats) -> Suggestion | None:
    if stats.ltype.kind not in (Kind.STRING, Kind.INTEGER):
        return None
    key_like = bool(_KEY_NAME.search(stats.name.lower())) or (
        stats.formats.get("uuid", 0) >= 0.99 * stats.present
    )
    duplicates = stats.present - stats.distinct
    if not key_like or duplicates > MAX_DUPLICATE_SHARE * stats.present:
        return None
    c = stats.name
    evidence = (
        f"{_pct(stats.distinct, stats.present)} of {stats.present:,} values are distinct; "
        f"{duplicates:,} repeated value(s) seen"
        if duplicates
        else f"all {stats.present:,} values are distinct"
    )
    evidence += "; " + _quarantines(2 * duplicates, stats.rows)
    name = f"{c}_unique"
    payload = {
        "type": "unique",
        "columns": [c],
        "name": name,
        "description": f"{c} identifies a row ({evidence})",
    }
    share = 2 * duplicates / stats.rows
    return Suggestion(
        c, "unique", f"unique ({c})", evidence, "dataset_rule", name, payload, (), share, 0.0
    )


@dataclass(frozen=True)
class Typo:
    value: Any
    count: int
    of: Any  # the frequent value it misspells
    of_count: int


def split_values(
    counts: list[tuple[Any, int]], ratio: float = TYPO_RATIO
) -> tuple[list[tuple[Any, int]], list[Typo]]:
    """(values to accept, typos), from counts sorted most frequent first. Every value seen is
    accepted unless it is a case/space variant or a near spelling (edit distance 1 from a value of
    4-7 characters, 2 from a longer one) of a value at least `ratio` times more frequent: a rare
    but legitimate value is kept."""
    kept, typos = [], []
    for value, n in counts:
        match = next(
            (
                (u, m)
                for u, m in counts
                if m >= ratio * n and u != value and _misspells(str(value), str(u))
            ),
            None,
        )
        if match is None:
            kept.append((value, n))
        else:
            typos.append(Typo(value, n, *match))
    return kept, typos


def _misspells(value: str, of: str) -> bool:
    if _spelling(value) == _spelling(of):
        return True
    allowed = 0 if len(of) < 4 else 1 if len(of) < 8 else 2
    return allowed > 0 and edit_distance(value.lower(), of.lower(), allowed) <= allowed


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, or limit + 1 once it is known to exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _spelling(value: Any) -> str:
    return re.sub(r"[\s_-]+", "", str(value)).lower()


def _accepted_values(stats: ColumnStats) -> Suggestion | None:
    if stats.ltype.kind is not Kind.STRING or not stats.top_values:
        return None
    if stats.distinct > 50:
        return None
    common, typos = split_values(stats.top_values)
    if not 2 <= len(common) <= MAX_ENUM_VALUES or stats.present < 10 * len(common):
        return None
    c = stats.name
    literals = ", ".join(_sql_string(v) for v, _ in common)
    sql = f"{ident(c)} IN ({literals})"
    rejected = sum(t.count for t in typos)
    evidence = f"every value seen in {stats.present:,} non-null rows"
    if typos:
        shown = ", ".join(
            f"{t.value!r} ({t.count}, a variant of {t.of!r} seen {t.of_count:,} times)"
            for t in typos[:8]
        )
        evidence += f" except typos: {shown}"
    evidence += "; " + _quarantines(rejected, stats.rows)
    found = _row_rule(
        c,
        "accepted_values",
        f"{c}_accepted_values",
        sql,
        f"{c} is one of the values in use",
        evidence,
    )
    return replace(
        found,
        suspects=tuple((t.value, t.count) for t in typos),
        sample_share=rejected / stats.rows,
        clean_share=0.0,  # only typos of frequent values are left out
    )


def _sql_string(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _non_negative_column(stats: ColumnStats) -> bool:
    if not stats.ltype.is_numeric or not stats.numbers:
        return False
    name = stats.name.lower()
    if _SIGNED_NAME.search(name) or _KEY_NAME.search(name):
        return False
    return stats.numbers["negatives"] <= MAX_NEGATIVE_SHARE * stats.present


def _non_negative(stats: ColumnStats) -> Suggestion | None:
    if not _non_negative_column(stats):
        return None
    negatives = int(stats.numbers["negatives"])
    c = stats.name
    evidence = (
        f"{_pct(stats.present - negatives, stats.present)} of {stats.present:,} values "
        f"are >= 0; {negatives:,} negative value(s) seen"
        if negatives
        else f"all {stats.present:,} values are >= 0"
    )
    evidence += "; " + _quarantines(negatives, stats.rows)
    found = _row_rule(
        c, "non_negative", f"{c}_non_negative", f"{ident(c)} >= 0", f"{c} is not negative", evidence
    )
    return replace(found, sample_share=negatives / stats.rows, clean_share=0.0)


# (name pattern, low, high, what): calendar and clock fields, percentages
_DOMAINS = (
    (re.compile(r"(^|_)month$"), 1, 12, "a month"),
    (re.compile(r"(^|_)(day|day_of_month|dom)$"), 1, 31, "a day of the month"),
    (re.compile(r"(^|_)hour$"), 0, 23, "an hour"),
    (re.compile(r"(^|_)(minute|second)$"), 0, 59, "a minute or second"),
    (re.compile(r"(^|_)(pct|percent|percentage)$|(^|_)(pct|percent)_"), 0, 100, "a percentage"),
)


def _domain(stats: ColumnStats, typed: pl.DataFrame) -> Suggestion | None:
    """A calendar/clock/percentage range when the name says so and the values agree (the 1st
    to 99th percentiles inside the domain, at most 1% of values outside it)."""
    n = stats.numbers
    if stats.ltype.kind not in (Kind.INTEGER, Kind.FLOAT, Kind.DECIMAL):
        return None
    for pattern, low, high, what in _DOMAINS:
        if not pattern.search(stats.name.lower()):
            continue
        if not (low <= n["q01"] and n["q99"] <= high):
            return None
        col = pl.col(stats.name)
        outside = int(typed.select(((col < low) | (col > high)).sum()).item())
        if outside > MAX_DOMAIN_MISS * stats.present:
            return None
        c = stats.name
        evidence = (
            f"the name reads as {what} and {_pct(stats.present - outside, stats.present)} of "
            f"{stats.present:,} values are within {low}..{high}; "
            + _quarantines(outside, stats.rows)
        )
        found = _row_rule(
            c,
            "range",
            f"{c}_range",
            f"{ident(c)} BETWEEN {low} AND {high}",
            f"{c} is {what}",
            evidence,
        )
        return replace(found, sample_share=outside / stats.rows, clean_share=0.0)
    return None


def _range(stats: ColumnStats, typed: pl.DataFrame) -> Suggestion | None:
    """`BETWEEN lo AND hi` from the quartiles with a 3 IQR margin, clipped at the observed
    min/max (never wider than what was seen) and at 0 for a non-negative column. Rejected values
    within NEAR times the fence's distance from the median are the tail continuing: clean rows."""
    n = stats.numbers
    kind = stats.ltype.kind
    if not n or _KEY_NAME.search(stats.name.lower()):
        return None
    domain = _domain(stats, typed)
    if domain is not None:
        return domain
    iqr = n["q75"] - n["q25"]
    if iqr <= 0:
        return None
    fence_lo, fence_hi = n["q25"] - FENCE * iqr, n["q75"] + FENCE * iqr
    # the sample's extremes are not the input's (nor the next load's): 1% of the range of the
    # values inside the fences as headroom (an outlier defect does not widen it)
    headroom = EXTREME_HEADROOM * (min(fence_hi, n["max"]) - max(fence_lo, n["min"]))
    lo = max(fence_lo, n["min"] - headroom)
    hi = min(fence_hi, n["max"] + headroom)
    if _non_negative_column(stats):
        lo = max(lo, 0.0)
    lo, hi = _round_out(lo, hi, kind)
    col = profile_numeric(pl.col(stats.name), kind)
    mid = n["q50"]
    below, above = col < lo, col > hi
    near = (below & (col >= mid - NEAR * (mid - lo))) | (above & (col <= mid + NEAR * (hi - mid)))
    counts = typed.select((below | above).sum().alias("out"), near.sum().alias("near")).row(0)
    rejected, clean = int(counts[0] or 0), int(counts[1] or 0)
    c = stats.name
    low, high = _literal(lo, kind), _literal(hi, kind)
    evidence = (
        f"Q1 {_literal(n['q25'], kind)}, median {_literal(mid, kind)}, "
        f"Q3 {_literal(n['q75'], kind)}, observed {_literal(n['min'], kind)}.."
        f"{_literal(n['max'], kind)}; bounds Q1 - {FENCE:g} IQR .. Q3 + {FENCE:g} IQR "
        f"clipped at the observed values (+1% headroom)"
        + (" and at 0" if lo == 0 and fence_lo < 0 else "")
        + "; "
        + _quarantines(rejected, stats.rows)
    )
    if rejected:
        evidence += f", {clean:,} of them in the tail just beyond the bounds (clean)"
    found = _row_rule(
        c,
        "range",
        f"{c}_range",
        f"{ident(c)} BETWEEN {low} AND {high}",
        f"{c} is within its usual range",
        evidence,
    )
    return replace(found, sample_share=rejected / stats.rows, clean_share=clean / stats.rows)


def _round_out(lo: float, hi: float, kind: Kind) -> tuple[float, float]:
    """Bounds rounded outwards to a step of about 1% of the range (whole units for integers
    and dates), so the literal reads well and never cuts a value it was computed to keep."""
    width = hi - lo
    step = 10 ** (math.floor(math.log10(width)) - 2) if width > 0 else 1.0
    if kind in (Kind.INTEGER, Kind.DATE):
        step = max(1.0, step)
    rounded_lo = math.floor(lo / step + 1e-9) * step
    rounded_hi = math.ceil(hi / step - 1e-9) * step
    return (max(rounded_lo, 0.0) if lo >= 0 else rounded_lo), rounded_hi


def _literal(value: float, kind: Kind) -> str:
    if kind is Kind.DATE:
        day = dt.date(1970, 1, 1) + dt.timedelta(days=int(round(value)))
        return f"DATE '{day.isoformat()}'"
    if kind is Kind.INTEGER or float(value).is_integer():
        return str(int(round(value)))
    return f"{round(value, 10):.10g}"


def _upper_bound(stats: ColumnStats, typed: pl.DataFrame) -> Suggestion | None:
    """A bound only when a few values (at most 1%) sit beyond the far fence and are separated
    from everything below by a factor of OUTLIER_GAP, so a clean (even heavy) tail is never cut."""
    n = stats.numbers
    if not n or _KEY_NAME.search(stats.name.lower()):
        return None
    iqr = n["q75"] - n["q25"]
    fence = n["q75"] + 3 * iqr
    if iqr <= 0 or n["max"] <= fence:
        return None
    top = _top_values(typed, stats.name, int(MAX_OUTLIER_SHARE * stats.present) + 1)
    cut = None
    for i in range(len(top) - 1):
        if top[i] > fence and top[i + 1] > 0 and top[i] >= OUTLIER_GAP * top[i + 1]:
            cut = i  # the deepest gap: every value above it is an outlier
    if cut is None:
        return None
    inner, outer, beyond = top[cut + 1], top[cut], cut + 1
    # headroom for the next load: twice the largest inlier, still well below the outliers
    bound = nice_ceiling(HEADROOM * inner)
    if bound >= outer:
        bound = inner
    c = stats.name
    literal = _number(bound, stats.ltype.kind)
    evidence = (
        f"{_pct(stats.present - beyond, stats.present)} of {stats.present:,} values are "
        f"<= {literal}; {beyond:,} value(s) from {outer:g} up are beyond the far fence "
        f"(Q3 + 3 IQR = {fence:g}) and {outer / inner:.0f}x the largest value below them"
    )
    evidence += "; " + _quarantines(beyond, stats.rows)
    found = _row_rule(
        c,
        "upper_bound",
        f"{c}_upper_bound",
        f"{ident(c)} <= {literal}",
        f"{c} is at most {literal}",
        evidence,
    )
    return replace(found, sample_share=beyond / stats.rows, clean_share=0.0)


def _top_values(typed: pl.DataFrame, c: str, k: int) -> list[float]:
    """The k largest values, largest first."""
    num = pl.col(c).cast(pl.Float64).drop_nulls()
    values = typed.lazy().select(num.top_k(k + 1)).collect().to_series().to_list()
    return sorted((float(v) for v in values), reverse=True)


def nice_ceiling(value: float) -> float:
    """The value rounded up to two significant digits (487.3 -> 490, 1234 -> 1300)."""
    if value <= 0:
        return value
    step = 10 ** (math.floor(math.log10(value)) - 1)
    return math.ceil(value / step - 1e-9) * step


def _number(value: float, kind: Kind) -> str:
    if kind is Kind.INTEGER or float(value).is_integer():
        return str(int(math.ceil(value)))
    return f"{value:.10g}"


def _pattern(stats: ColumnStats) -> Suggestion | None:
    present = stats.present
    for fmt, regex, what in (
        ("email", EMAIL_RE, "an e-mail address"),
        ("uuid", UUID_RE, "a UUID"),
        ("phone", PHONE_RE, "a phone number"),
    ):
        matches = stats.formats.get(fmt, 0)
        if matches >= MIN_FORMAT_SHARE * present and not (fmt == "phone" and _digits_only(stats)):
            return _format_rule(stats, regex, what, matches)
    if stats.top_shape is None or stats.distinct <= MAX_ENUM_VALUES:
        return None
    shape, count = stats.top_shape
    if count < MIN_FORMAT_SHARE * present or len(shape) < 3 or " " in shape:
        return None
    if not set(shape) & {"9", "A"}:  # lower-case words are text, not codes
        return None
    return _format_rule(stats, shape_regex(shape), f"the shape {shape}", count)


def _digits_only(stats: ColumnStats) -> bool:
    return stats.top_shape is not None and set(stats.top_shape[0]) <= {"9"}


def _format_rule(stats: ColumnStats, regex: str, what: str, matches: int) -> Suggestion:
    c = stats.name
    misses = stats.present - matches
    evidence = (
        f"{_pct(matches, stats.present)} of {stats.present:,} values look like {what}; "
        f"{misses:,} do not"
        if misses
        else f"all {stats.present:,} values look like {what}"
    )
    evidence += "; " + _quarantines(misses, stats.rows)
    sql = f"REGEXP_LIKE({ident(c)}, {_sql_string(regex)})"
    found = _row_rule(c, "pattern", f"{c}_format", sql, f"{c} is {what}", evidence)
    # misses of a format >= 95% of values share are malformed values, not a clean tail
    return replace(found, sample_share=misses / stats.rows, clean_share=0.0)


_CLASSES = {"9": "[0-9]", "A": "[A-Z]", "a": "[a-z]"}
_REGEX_SPECIAL = set(".^$*+?()[]{}|\\/")


def shape_regex(shape: str) -> str:
    """'AAA-999999' -> '^[A-Z]{3}-[0-9]{6}$'."""
    parts = []
    for char, run in _runs(shape):
        atom = _CLASSES.get(char) or ("\\" + char if char in _REGEX_SPECIAL else char)
        parts.append(atom if run == 1 else f"{atom}{{{run}}}")
    return "^" + "".join(parts) + "$"


def _runs(text: str) -> list[tuple[str, int]]:
    runs: list[tuple[str, int]] = []
    for char in text:
        if runs and runs[-1][0] == char:
            runs[-1] = (char, runs[-1][1] + 1)
        else:
            runs.append((char, 1))
    return runs


def ident(column: str) -> str:
    """The column as the rule dialect reads it: double-quoted when it is a SQL keyword."""
    from meshc.rules.sql import RuleProblem, compile_sql
    from meshc.types import STRING

    try:
        compile_sql(f"{column} IS NULL", {column: STRING})
    except RuleProblem:
        return f'"{column}"'
    return column


def _row_rule(column: str, kind: str, name: str, sql: str, claim: str, evidence: str) -> Suggestion:
    payload = {"name": name, "sql": sql, "description": f"{claim} ({evidence})"}
    return Suggestion(column, kind, sql, evidence, "row_rule", name, payload)
