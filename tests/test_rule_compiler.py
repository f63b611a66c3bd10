"""The rule compiler: whitelist, column resolution, types, ids."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from meshc.checking import run_check
from meshc.rules import expr as ir
from meshc.rules.sql import RuleProblem, compile_sql, rule_id_for
from meshc.types import DATE, FLOAT, INTEGER, STRING

COLUMNS = {"order_id": STRING, "order_amount": FLOAT, "order_date": DATE, "qty": INTEGER}

HOSTILE = [
    "order_amount >= 0; DROP TABLE orders",
    "(SELECT COUNT(*) FROM read_csv('/etc/passwd')) > 0",
    "java_method('java.lang.System', 'getenv', 'HOME') IS NOT NULL",
    "order_id IN (SELECT order_id FROM orders)",
    "reflect('java.lang.Thread', 'sleep', 100000) IS NULL",
    "read_text('/etc/passwd') IS NOT NULL",
    "current_setting('home_directory') = ''",
    "getenv('HOME') = 'x'",
    "pg_sleep(10) IS NULL",
]


@pytest.mark.parametrize("sql", HOSTILE)
def test_hostile_sql_is_rejected(sql: str) -> None:
    with pytest.raises(RuleProblem) as info:
        compile_sql(sql, COLUMNS)
    assert info.value.code in {"MC302", "MC303", "MC304"}


@pytest.mark.parametrize("sql", HOSTILE[:4])
def test_check_rejects_hostile_rules_with_a_location(tmp_path: Path, sql: str) -> None:
    path = tmp_path / "c.yaml"
    quoted = sql.replace("'", "''")
    path.write_text(
        textwrap.dedent(f"""\
        info: {{version: 1, name: orders, domain: crm}}
        model:
          fields:
            - {{name: order_id, type: string}}
            - {{name: order_amount, type: float}}
        quality:
          row_rules:
            - sql: '{quoted}'
        """)
    )
    result = run_check([str(path)])
    assert result.errors == 1
    (diag,) = result.diagnostics
    assert diag.line == 8 and diag.col >= 12
    assert diag.code in {"MC302", "MC304"}


def test_semicolon_inside_a_string_is_data() -> None:
    lowered = compile_sql("order_id = 'a; DROP TABLE x; --'", COLUMNS)
    assert isinstance(lowered, ir.Compare) and lowered.right == ir.Lit(
        "a; DROP TABLE x; --", STRING
    )


def test_unknown_column_suggests_the_close_name() -> None:
    with pytest.raises(RuleProblem) as info:
        compile_sql("order_amout >= 0", COLUMNS)
    assert info.value.code == "MC305" and "order_amount" in (info.value.hint or "")


def test_column_case_is_as_declared() -> None:
    with pytest.raises(RuleProblem) as info:
        compile_sql("ORDER_AMOUNT >= 0", COLUMNS)
    assert "order_amount" in (info.value.hint or "")


@pytest.mark.parametrize(
    "sql,hint",
    [
        ("order_date > 5", "CAST"),
        ("order_date > '2024-01-01'", "DATE '2024-01-01'"),
        ("order_id + 1 > 2", "CONCAT"),
        ("LENGTH(qty) > 1", "CAST"),
    ],
)
def test_type_errors_are_compile_errors(sql: str, hint: str) -> None:
    with pytest.raises(RuleProblem) as info:
        compile_sql(sql, COLUMNS)
    assert info.value.code == "MC306" and hint in (info.value.hint or "")


def test_non_boolean_rule_is_rejected() -> None:
    with pytest.raises(RuleProblem) as info:
        compile_sql("order_amount * 2", COLUMNS)
    assert info.value.code == "MC307"


def test_like_is_lowered_to_an_anchored_regex() -> None:
    lowered = compile_sql("order_id LIKE 'A_1%'", COLUMNS)
    assert lowered == ir.RegexSearch(ir.Col("order_id", STRING), "^A(?s:.)1(?s:.*)$")
    escaped = compile_sql("order_id LIKE 'A!%' ESCAPE '!'", COLUMNS)
    assert isinstance(escaped, ir.RegexSearch) and escaped.pattern == "^A%$"


def test_non_portable_regex_is_rejected() -> None:
    with pytest.raises(RuleProblem) as info:
        compile_sql("REGEXP_LIKE(order_id, '^(?=A)')", COLUMNS)
    assert "lookaround" in info.value.message


def test_date_arithmetic_and_literals() -> None:
    lowered = compile_sql("order_date >= CURRENT_DATE - INTERVAL '30' DAY", COLUMNS)
    assert lowered == ir.Compare(
        ">=", ir.Col("order_date", DATE), ir.DateAdd(ir.CurrentDate(), -30, "day")
    )
    bound = ir.bind_now(lowered, __import__("datetime").date(2024, 3, 1), None)
    assert isinstance(bound, ir.Compare) and isinstance(bound.right, ir.DateAdd)
    assert bound.right.operand == ir.Lit(__import__("datetime").date(2024, 3, 1), DATE)


def test_integer_literals_are_64_bit() -> None:
    compile_sql("qty <= 9223372036854775807", COLUMNS)
    with pytest.raises(RuleProblem):
        compile_sql("qty <= 9223372036854775808", COLUMNS)


def test_aggregates_only_in_dataset_rules() -> None:
    with pytest.raises(RuleProblem) as info:
        compile_sql("SUM(order_amount) > 0", COLUMNS)
    assert "dataset_rules" in (info.value.hint or "")
    agg = compile_sql("SUM(order_amount) > 0", COLUMNS, aggregate=True)
    assert isinstance(agg, ir.Compare) and isinstance(agg.left, ir.Agg)
    with pytest.raises(RuleProblem):
        compile_sql("order_amount > 0", COLUMNS, aggregate=True)


def test_rule_ids_are_stable_across_formatting() -> None:
    assert rule_id_for("order_amount >= 0") == rule_id_for("  order_amount   >=  0 ")
    assert rule_id_for("order_amount >= 0") != rule_id_for("order_amount > 0")
