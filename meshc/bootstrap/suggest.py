"""Rule suggestions that do not learn the defects.

Every threshold here answers one question: is this value part of the distribution, or a defect
that happened to be in the sample? Defects are rare and separated from the bulk, so:

- accepted values come from the values that carry the distribution; values far rarer than the
  rest (a gap of 10x in the frequency ranking) or spelling variants of a common value are
  reported as suspects, never allowed;
- `>= 0` is proposed when at most 2% of the values are negative; an upper bound only when a few
  values (<= 1%) sit beyond the Tukey far fence (Q3 + 3 IQR) *and* at least 5x the largest
  value below them; the bound is twice the largest inlier, rounded up (so the next load's
  slightly larger values still pass);
- uniqueness for key-like columns with at most 1% duplicates; patterns when >= 95% of values
  share a format; a NOT NULL rule when at most 2% of rows are missing.

Each suggestion states its evidence, in the contract (`description`) and in the summary.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from meshc.bootstrap.pii import PiiFlag
from meshc.bootstrap.profile import EMAIL_RE, PHONE_RE, UUID_RE, ColumnStats
from meshc.types import Kind

Placement = Literal["field", "row_rule", "dataset_rule", "note"]

MAX_NULL_SHARE = 0.02
MAX_NEGATIVE_SHARE = 0.02
MAX_OUTLIER_SHARE = 0.01
MAX_DUPLICATE_SHARE = 0.01
MIN_FORMAT_SHARE = 0.95
MAX_ENUM_VALUES = 20
RARITY_GAP = 10.0  # a value this many times rarer than the next one up is a suspect
MAX_SUSPECT_SHARE = 0.05
OUTLIER_GAP = 5.0  # outliers are at least this many times the largest inlier
HEADROOM = 2.0  # an upper bound is this many times the largest inlier, rounded
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


def suggest(stats: ColumnStats, typed: pl.DataFrame) -> list[Suggestion]:
    """Robust rule suggestions for one column."""
    if stats.present < MIN_ROWS:
        return []
    out: list[Suggestion] = []
    for make in (_not_null, _unique, _accepted_values, _non_negative):
        found = make(stats)
        if found is not None:
            out.append(found)
    if stats.ltype.is_numeric:
        bound = _upper_bound(stats, typed)
        if bound is not None:
            out.append(bound)
    if stats.ltype.kind is Kind.STRING and not any(s.kind == "accepted_values" for s in out):
        pattern = _pattern(stats)
        if pattern is not None:
            out.append(pattern)
    return out


def _pct(part: float, whole: float) -> str:
    return f"{part / whole:.2%}" if whole else "0%"


def _not_null(stats: ColumnStats) -> Suggestion | None:
    if not 0 < stats.nulls <= MAX_NULL_SHARE * stats.rows:
        return None
    c = stats.name
    sql = f"{ident(c)} IS NOT NULL"
    evidence = (
        f"{_pct(stats.present, stats.rows)} of {stats.rows:,} rows have a value; "
        f"{stats.nulls:,} missing"
    )
    return _row_rule(c, "not_null", f"{c}_present", sql, f"{c} must be present", evidence)


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
    name = f"{c}_unique"
    payload = {
        "type": "unique",
        "columns": [c],
        "name": name,
        "description": f"{c} identifies a row ({evidence})",
    }
    return Suggestion(c, "unique", f"unique ({c})", evidence, "dataset_rule", name, payload)


def split_values(
    counts: list[tuple[Any, int]],
) -> tuple[list[tuple[Any, int]], list[tuple[Any, int]]]:
    """(values that carry the distribution, suspects), from counts sorted most frequent first."""
    total = sum(n for _, n in counts)
    cut = len(counts)
    for i in range(len(counts) - 1):
        tail = sum(n for _, n in counts[i + 1 :])
        if counts[i][1] >= RARITY_GAP * counts[i + 1][1] and tail <= MAX_SUSPECT_SHARE * total:
            cut = i + 1
            break
    common, suspects = list(counts[:cut]), list(counts[cut:])
    seen = {_spelling(v): v for v, _ in common[:1]}
    kept = []
    for value, n in common:  # a case or spacing variant of a more frequent value is a typo
        key = _spelling(value)
        if key in seen and seen[key] != value:
            suspects.append((value, n))
        else:
            seen.setdefault(key, value)
            kept.append((value, n))
    return kept, suspects


def _spelling(value: Any) -> str:
    return re.sub(r"[\s_-]+", "", str(value)).lower()


def _accepted_values(stats: ColumnStats) -> Suggestion | None:
    if stats.ltype.kind is not Kind.STRING or not stats.top_values:
        return None
    if stats.distinct > 50:
        return None
    common, suspects = split_values(stats.top_values)
    if not 2 <= len(common) <= MAX_ENUM_VALUES or stats.present < 10 * len(common):
        return None
    c = stats.name
    literals = ", ".join(_sql_string(v) for v, _ in common)
    sql = f"{ident(c)} IN ({literals})"
    carried = sum(n for _, n in common)
    evidence = (
        f"{len(common)} values carry {_pct(carried, stats.present)} of {stats.present:,} "
        f"non-null rows"
    )
    if suspects:
        shown = ", ".join(f"{v!r} ({n})" for v, n in suspects[:8])
        evidence += f"; rare values seen and not allowed: {shown}"
    found = _row_rule(
        c,
        "accepted_values",
        f"{c}_accepted_values",
        sql,
        f"{c} is one of the values in use",
        evidence,
    )
    return Suggestion(**{**found.__dict__, "suspects": tuple(suspects)})


def _sql_string(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _non_negative(stats: ColumnStats) -> Suggestion | None:
    if not stats.ltype.is_numeric or not stats.numbers:
        return None
    name = stats.name.lower()
    if _SIGNED_NAME.search(name) or _KEY_NAME.search(name):
        return None
    negatives = int(stats.numbers["negatives"])
    if negatives > MAX_NEGATIVE_SHARE * stats.present:
        return None
    c = stats.name
    evidence = (
        f"{_pct(stats.present - negatives, stats.present)} of {stats.present:,} values "
        f"are >= 0; {negatives:,} negative value(s) seen"
        if negatives
        else f"all {stats.present:,} values are >= 0"
    )
    return _row_rule(
        c, "non_negative", f"{c}_non_negative", f"{ident(c)} >= 0", f"{c} is not negative", evidence
    )


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
    return _row_rule(
        c,
        "upper_bound",
        f"{c}_upper_bound",
        f"{ident(c)} <= {literal}",
        f"{c} is at most {literal}",
        evidence,
    )


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
    sql = f"REGEXP_LIKE({ident(c)}, {_sql_string(regex)})"
    return _row_rule(c, "pattern", f"{c}_format", sql, f"{c} is {what}", evidence)


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
