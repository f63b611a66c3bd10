"""Rules that pass `check` run on every engine: no regex or LIKE that makes Spark backtrack for
minutes or overflow its stack, no literal or arity an engine cannot evaluate, no constant rules,
unknown columns named as such, and reversed min/max caught for every ordered type."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from meshc.checking import run_check
from meshc.diagnostics import Diagnostic
from meshc.rules.regex import check_regex, like_to_regex
from meshc.rules.sql import RuleProblem, compile_sql
from meshc.rules.typecheck import INTERVAL_LIMITS, MAX_FUNCTION_ARGS
from meshc.types import DATE, STRING, TIMESTAMP, parse_type

COLUMNS = {"s": STRING, "d": DATE, "t": TIMESTAMP}


def check_contract(tmp_path: Path, fields: str, rules: str = "") -> list[Diagnostic]:
    path = tmp_path / "c.yaml"
    text = "info: {version: 1, name: c, domain: x}\nmodel:\n  fields:\n" + textwrap.indent(
        textwrap.dedent(fields), "    "
    )
    if rules:
        text += "quality:\n  row_rules:\n" + textwrap.indent(textwrap.dedent(rules), "    ")
    path.write_text(text)
    return run_check([str(path)]).diagnostics


def codes(diagnostics: list[Diagnostic]) -> list[str]:
    return [d.code for d in diagnostics]


# -- item 15: regexes Java's backtracking engine cannot run in bounded time ---------------------
# Each overflowed the stack or ran past 8 s on a 3,000-10,000-character value on Java 17.
JAVA_UNSAFE = [
    r"^(a|a)*$",  # alternation in a repeated group: StackOverflowError
    r"^(a|b)*$",
    r"^([a-z]+\.)*$",  # a quantifier in a repeated group: StackOverflowError
    r"^(\.[a-z]+)*$",
    r"(x+)+y",
    r".*.*@",  # two overlapping unbounded quantifiers, unanchored: polynomial
    r"^.*.*.*@",
    r".*foo.*bar",
    r"a{0,50}a{0,50}a{0,50}b",
    r"a{1001}",  # beyond RE2's repetition limit (DuckDB errors)
    r"a{,3}",  # a repetition in Java, literal text in RE2
]


@pytest.mark.parametrize("pattern", JAVA_UNSAFE)
def test_patterns_that_backtrack_without_bound_on_java_are_refused(pattern: str) -> None:
    with pytest.raises(RuleProblem) as info:
        compile_sql(f"REGEXP_LIKE(s, '{pattern}')", COLUMNS)
    assert info.value.code == "MC315" and info.value.offset == 0
    assert info.value.hint


# Everyday shapes stay accepted (the repository's own contracts use these).
JAVA_SAFE = [
    r"^[A-Z]{2}-\d{4}$",
    r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$",
    r"^[a-z0-9._%+-]+@[a-z0-9.-]+[.][a-z]{2,}$",
    r"^(ORD|INV)-[0-9]+$",
    r"^FY20(24|25)-Q[1-4]$",
    r"^\d+(\.\d+)?$",
    r"^(ab)*$",  # a fixed-width repeated group loops without recursion
    r"^(-[0-9]{3})+$",
    r"^.*@example\.com$",  # one ambiguous quantifier, anchored
    r"[a-z]+@[a-z]+\.[a-z]+",
    r"(?i)^abc$",
    r"a(?i:b)c",
    r"[0-9]{3}-[0-9]{2}-[0-9]{4}",
]


@pytest.mark.parametrize("pattern", JAVA_SAFE)
def test_everyday_patterns_stay_accepted(pattern: str) -> None:
    compile_sql(f"REGEXP_LIKE(s, '{pattern}')", COLUMNS)


@pytest.mark.parametrize("flags", ["(?is)", "(?im)", "(?s)", "(?x)", "(?-i:", "(?i-s:"])
def test_inline_flags_other_than_i_are_refused_whatever_they_start_with(flags: str) -> None:
    tail = "a)" if flags.endswith(":") else "a"
    with pytest.raises(RuleProblem) as info:
        compile_sql(f"REGEXP_LIKE(s, '{flags}{tail}')", COLUMNS)
    assert "(?i)" in info.value.message


def test_a_single_character_alternation_gets_the_class_as_hint(tmp_path: Path) -> None:
    diags = check_contract(
        tmp_path,
        "- {name: s, type: string, pattern: '^(a|b)*$'}\n",
        "- sql: \"REGEXP_LIKE(s, '^(a|b)*$')\"\n",
    )
    # the field pattern and the rule are both reported in one run (no phases)
    assert sorted(codes(diags)) == ["MC203", "MC315"]
    assert all("[ab]*" in (d.hint or "") for d in diags) and diags[0].line == 4
    diags = check_contract(
        tmp_path,
        "- {name: s, type: string}\n",
        "- sql: \"REGEXP_LIKE(s, '^(a|b)*$')\"\n",
    )
    assert codes(diags) == ["MC315"] and (diags[0].line, diags[0].col) == (7, 13)
    assert "[ab]*" in (diags[0].hint or "")


def test_like_needs_no_limit_its_java_form_is_the_same_match() -> None:
    """Spark gets LIKE with atomic groups (see java_pattern); the match is unchanged: Python's
    backtracking engine reads the atomic form too, so compare the two on tricky values."""
    from meshc.rules.regex import java_pattern

    for like in ["%a%a%b", "%ab%ab%", "a%_%c", "%%x", "%a_a%"]:
        plain = like_to_regex(like)
        atomic = java_pattern(plain)[len("(?d)") :].replace("\\z", "\\Z")
        for value in ["aab", "abab", "ababab", "abc", "axc", "aac", "x", "aaa", "abaab", "a\nab"]:
            expected = re.search(plain, value) is not None
            assert (re.search(atomic, value) is not None) == expected, (like, value)
    compile_sql("s LIKE '" + "%a" * 11 + "%b'", COLUMNS)  # the issue's pattern is accepted


# Largest accepted shapes, each on the value that makes it work hardest.
SPARK_WORST_CASES = [
    (r"^\d*\d*$", "1" * 10_000 + "x"),
    (r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", "a@" + "." * 10_000),
    (r"[a-z]+@[a-z]+\.[a-z]+", "a" * 10_000),
    (r"^.*@example\.com$", "@example.co" * 900),
    (r"^(ab)*$", "ab" * 5_000 + "a"),
    (r"^(ab)*$", "ab" * 5_000),
    (r"^(-[0-9]{3})+$", "-123" * 2_500 + "-"),
]
SPARK_LIKES = [
    ("%a%a%a%a%a%a%a%a%a%a%a%b", "a" * 10_000),
    ("%a%a%a%a%a%a%a%a%a%a%a%b", "a" * 10_000 + "b"),
    ("%ab%ab%ab%ab%ab%ab%c%", "ab" * 5_000),
    ("%a_a_a_a%b", "a" * 10_000),
]


@pytest.mark.spark
def test_accepted_shapes_finish_on_long_values_on_spark() -> None:
    """On the real Spark session, the issue's LIKE (which hung on 3,000 characters) and the most
    expensive accepted regex shapes complete on 10,000-character values, with the verdict of
    Polars (Rust regex, linear time: Python's re would backtrack as badly as Java)."""
    pytest.importorskip("pyspark")
    import polars as pl
    from pyspark.sql import functions as F

    from meshc.engines._spark.session import get_session
    from meshc.rules.regex import java_pattern, portable_regex

    for pattern, _ in SPARK_WORST_CASES:
        check_regex(pattern)
    cases = [(portable_regex(p), v) for p, v in SPARK_WORST_CASES]
    cases += [(like_to_regex(p), v) for p, v in SPARK_LIKES]
    frame = get_session().createDataFrame(list(enumerate(v for _, v in cases)), "i int, v string")
    verdict = F.lit(None)
    for k, (pattern, _) in enumerate(cases):  # each row meets only its own pattern
        verdict = F.when(F.col("i") == k, F.col("v").rlike(java_pattern(pattern))).otherwise(
            verdict
        )
    rows = frame.select("i", verdict.alias("m")).collect()
    expected = [pl.Series([v]).str.contains(p).item() for p, v in cases]
    assert sorted((r["i"], r["m"]) for r in rows) == list(enumerate(expected))


# -- item 16: literals and arity every engine can evaluate --------------------------------------
@pytest.mark.parametrize("unit,limit", sorted(INTERVAL_LIMITS.items()))
def test_interval_magnitudes_are_bounded_to_ten_thousand_years(unit: str, limit: int) -> None:
    column = "d" if unit in ("year", "month", "day") else "t"
    compile_sql(f"{column} + INTERVAL '{limit}' {unit} > {column}", COLUMNS)
    for sign in ("+", "-"):
        sql = f"{column} {sign} INTERVAL '{limit + 1}' {unit} > {column}"
        with pytest.raises(RuleProblem) as info:
            compile_sql(sql, COLUMNS)
        assert info.value.code == "MC316" and info.value.offset == sql.index("'")


def test_the_issues_interval_is_refused_with_a_location(tmp_path: Path) -> None:
    diags = check_contract(
        tmp_path,
        "- {name: order_date, type: date}\n",
        "- sql: \"order_date + INTERVAL '999999999999' DAY > order_date\"\n",
    )
    assert codes(diags) == ["MC316"] and (diags[0].line, diags[0].col) == (7, 35)


@pytest.mark.parametrize("function", ["CONCAT", "COALESCE"])
def test_variadic_functions_take_a_bounded_number_of_arguments(function: str) -> None:
    at_limit = ", ".join(["s"] * MAX_FUNCTION_ARGS)
    compile_sql(f"{function}({at_limit}) <> ''", COLUMNS)
    with pytest.raises(RuleProblem) as info:
        compile_sql(f"{function}({at_limit}, s) <> ''", COLUMNS)
    assert info.value.code == "MC317"


def test_a_float_literal_that_overflows_is_refused() -> None:
    with pytest.raises(RuleProblem) as info:
        compile_sql("LENGTH(s) < 1e400", COLUMNS)
    assert info.value.code == "MC316"


# -- item 18: constant rules and unknown columns -----------------------------------------------
@pytest.mark.parametrize(
    "sql", ["1=1 --", "TRUE", "1/0 = 1", "CURRENT_DATE > DATE '2020-01-01'", "NULL IS NULL"]
)
def test_a_row_rule_that_reads_no_column_is_an_error(tmp_path: Path, sql: str) -> None:
    diags = check_contract(tmp_path, "- {name: s, type: string}\n", f'- sql: "{sql}"\n')
    assert codes(diags) == ["MC318"] and diags[0].line == 7 and diags[0].hint


def test_an_unknown_column_wins_over_the_type_error_it_causes(tmp_path: Path) -> None:
    diags = check_contract(
        tmp_path, "- {name: amount, type: float}\n", '- sql: "nonexistent_column > 0"\n'
    )
    assert codes(diags) == ["MC305"] and (diags[0].line, diags[0].col) == (7, 13)
    assert "unknown column 'nonexistent_column'" in diags[0].message


def test_an_undeclared_column_that_type_checks_as_text_stays_a_warning(tmp_path: Path) -> None:
    diags = check_contract(
        tmp_path, "- {name: amount, type: float}\n", "- sql: \"status IN ('a', 'b')\"\n"
    )
    assert codes(diags) == ["MC310"]


# -- item 19: min > max for every ordered type --------------------------------------------------
@pytest.mark.parametrize(
    "ftype,low,high",
    [
        ("decimal(12,2)", "100000", "0.01"),
        ("float", "10", "2.5"),
        ("float", "2.5", "1"),
        ("integer", "10", "9"),
        ("date", "'2024-02-01'", "'2024-01-31'"),
        ("timestamp", "'2024-01-01 10:00:00'", "'2024-01-01 09:59:59'"),
        # 11:00 UTC after 10:00 UTC, although the text sorts the other way
        ("timestamptz", "'2024-01-01T09:00:00-02:00'", "'2024-01-01T10:00:00Z'"),
    ],
)
def test_min_above_max_is_found_for_every_ordered_type(
    tmp_path: Path, ftype: str, low: str, high: str
) -> None:
    parse_type(ftype)
    diags = check_contract(tmp_path, f"- {{name: x, type: '{ftype}', min: {low}, max: {high}}}\n")
    assert codes(diags) == ["MC204"] and diags[0].line == 4
    ok = check_contract(tmp_path, f"- {{name: x, type: '{ftype}', min: {high}, max: {low}}}\n")
    assert codes(ok) == []


def test_row_count_min_above_max_is_found(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "info: {version: 1, name: c, domain: x}\n"
        "model:\n  fields:\n    - {name: s, type: string}\n"
        "quality:\n  dataset_rules:\n    - {type: row_count, min: 10, max: 5}\n"
    )
    assert codes(run_check([str(path)]).diagnostics) == ["MC204"]
