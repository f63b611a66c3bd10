"""The one SQL generator (meshc.engines.sql_generator) and its dialect profiles (sql_dialects).

Every IR node class renders on every SQL dialect or is declared in that dialect's gaps table; a
declared gap is MC390 naming the dialect, the reason and the rule's location, and the emitters
list the rules it stops instead of failing. On Spark, the rendered SQL runs on the real session
and agrees with DuckDB, nested casts included (the Spark rewrite used to miss nested helpers).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from meshc.engines import spec, sql, sql_dialects
from meshc.errors import UnsupportedConstruct
from meshc.rules import expr as ir
from meshc.rules.checks import Origin, SqlRule
from meshc.types import (
    BOOLEAN,
    DATE,
    FLOAT,
    INTEGER,
    STRING,
    TIMESTAMP,
    TIMESTAMP_TZ,
    Kind,
    LogicalType,
)

S, N, F, D = ir.Col("s", STRING), ir.Col("i", INTEGER), ir.Col("f", FLOAT), ir.Col("d", DATE)
B, TS, TZ = ir.Col("b", BOOLEAN), ir.Col("ts", TIMESTAMP), ir.Col("tz", TIMESTAMP_TZ)


# One small instance of every IR node class (the test below fails when a class has none).
SAMPLES: dict[type[ir.Expr], ir.Expr] = {
    ir.Col: S,
    ir.Lit: ir.Lit(dt.date(2024, 2, 29), DATE),
    ir.Compare: ir.Compare("<", N, ir.Lit(3, INTEGER)),
    ir.And: ir.And(B, ir.Compare("=", S, ir.Lit("a", STRING))),
    ir.Or: ir.Or(B, ir.IsNull(S)),
    ir.Not: ir.Not(B),
    ir.IsNull: ir.IsNull(S, negated=True),
    ir.InList: ir.InList(S, (ir.Lit("a", STRING), ir.Lit("b", STRING))),
    ir.Between: ir.Between(N, ir.Lit(1, INTEGER), ir.Lit(9, INTEGER), negated=True),
    ir.RegexSearch: ir.RegexSearch(S, "^a(?s:.*)b$", case_insensitive=True),
    ir.Arith: ir.Arith("*", N, ir.Lit(2, INTEGER), INTEGER),
    ir.Neg: ir.Neg(N),
    ir.Case: ir.Case(((B, S),), ir.Lit("z", STRING), STRING),
    ir.Coalesce: ir.Coalesce((S, ir.Lit("z", STRING)), STRING),
    ir.Cast: ir.Cast(S, INTEGER),
    ir.StrFn: ir.StrFn("abs", N),
    ir.Substring: ir.Substring(S, 2, 3),
    ir.Concat: ir.Concat((S, S)),
    ir.DateAdd: ir.DateAdd(D, 1, "month"),
    ir.DateDiffDays: ir.DateDiffDays(D, ir.Lit(dt.date(2024, 1, 1), DATE)),
    ir.CurrentDate: ir.Compare("<=", D, ir.CurrentDate()),
    ir.CurrentTimestamp: ir.Compare("<=", TZ, ir.CurrentTimestamp()),
    ir.IsDuplicate: ir.IsDuplicate((S, N)),
    ir.Agg: ir.Agg("sum", N, INTEGER),
}


def test_every_ir_node_class_has_a_sample() -> None:
    missing = set(spec.node_classes()) - set(SAMPLES)
    assert not missing, (
        f"new IR node(s) {sorted(c.__name__ for c in missing)}: add a sample here, then a "
        "handler in meshc/engines/sql_generator.py or a gap in each dialect's profile"
    )


@pytest.mark.parametrize("name", sorted(sql_dialects.DIALECTS))
@pytest.mark.parametrize(
    "kind", sorted(SAMPLES, key=lambda c: c.__name__), ids=lambda c: c.__name__
)
def test_every_ir_node_renders_or_is_a_declared_gap(name: str, kind: type[ir.Expr]) -> None:
    dialect = sql_dialects.sql_dialect(name)
    node = SAMPLES[kind]
    if kind in dialect.gaps:
        with pytest.raises(UnsupportedConstruct, match=f"MC390 .*{kind.__name__}.*on {name}: "):
            sql.expression(node, name)
        return
    text = sql.expression_sql(node, name)
    assert sqlglot.parse_one(text, read=dialect.sqlglot) is not None


def test_profiles_are_frozen_data() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        sql_dialects.SPARK.name = "x"  # type: ignore[misc]
    for dialect in sql_dialects.DIALECTS.values():
        assert all(reason.strip() for reason in dialect.gaps.values())
        assert set(dialect.gaps) <= set(spec.node_classes())


# -- a declared gap -----------------------------------------------------------------------------
NO_REGEX = "this dialect has no regex search"


@pytest.fixture()
def spark_without_regex(monkeypatch: pytest.MonkeyPatch) -> sql_dialects.SqlDialect:
    """The Spark profile with one more gap, installed as 'spark' (a table edit, nothing else)."""
    profile = dataclasses.replace(
        sql_dialects.SPARK, gaps=MappingProxyType({ir.RegexSearch: NO_REGEX})
    )
    monkeypatch.setattr(sql_dialects, "DIALECTS", {**sql_dialects.DIALECTS, "spark": profile})
    return profile


def test_a_gap_is_mc390_naming_the_dialect_reason_and_rule(
    spark_without_regex: sql_dialects.SqlDialect,
) -> None:
    generator = sql.SqlGenerator(spark_without_regex)
    check = SqlRule(
        id="code_rule",
        severity="error",
        rule="NOT code ILIKE 'a%b'",
        origin=Origin("contracts/t.yaml", 12, 7),
        description=None,
        expr=ir.Not(SAMPLES[ir.RegexSearch]),
        sql="NOT code ILIKE 'a%b'",
    )
    with pytest.raises(UnsupportedConstruct) as caught:
        generator.rule(check)
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.render() == (
        "contracts/t.yaml:12:7: MC390 rule code_rule: RegexSearch is not supported "
        f"on spark: {NO_REGEX}"
    )


CONTRACT = """
info: {version: 1, name: "codes", domain: "t", owner: "t@example.com"}
model:
  fields:
    - {name: code, type: string}
    - {name: qty, type: integer}
quality:
  row_rules:
    - {name: positive, sql: "qty > 0"}
    - {name: starts_with_a, sql: "code LIKE 'a%'"}
"""


def test_emitters_list_the_rules_a_dialect_cannot_express(
    spark_without_regex: sql_dialects.SqlDialect,
) -> None:
    from meshc.emit import emit_contract
    from meshc.emit.sql_emit import emit_sql
    from meshc.loader import loads_contract
    from meshc.rules.compiler import compile_contract

    compiled = compile_contract(loads_contract(CONTRACT))
    pattern = "starts_with_a"
    text, gaps = emit_sql(compiled, "spark")
    assert [(g.target, g.rule_id) for g in gaps] == [("sql_spark", pattern)]
    assert f"-- not included: {pattern} (rule {pattern}: RegexSearch is not" in text
    assert "RLIKE" not in text and "positive" in text
    duckdb_text, duckdb_gaps = emit_sql(compiled, "duckdb")
    assert not duckdb_gaps and "regexp_matches" in duckdb_text.lower()
    listed = {(g.target, g.rule_id) for g in emit_contract(compiled, b"").gaps}
    assert {("sql_spark", pattern), ("gx_spark", pattern)} <= listed
    assert ("sql_duckdb", pattern) not in listed and ("gx_sql", pattern) not in listed


# -- Spark: the rendered SQL runs, and agrees with DuckDB ---------------------------------------
def _dec() -> LogicalType:
    return LogicalType(Kind.DECIMAL, 10, 2)


M = ir.Col("m", _dec())
# Nested casts: the Spark rewrite of the DuckDB tree used to stop at the first rewritten helper,
# leaving DuckDB's `try(...)` and `regexp_full_match(...)` inside, which Spark does not have.
NESTED = {
    "decimal_product_to_integer": ir.Cast(
        ir.Arith("*", M, ir.Lit(Decimal("2"), _dec()), _dec()), INTEGER
    ),
    "text_to_integer_to_text_to_date": ir.Cast(ir.Cast(ir.Cast(S, INTEGER), STRING), DATE),
    "abs_of_a_difference": ir.StrFn("abs", ir.Arith("-", N, ir.Lit(7, INTEGER), INTEGER)),
    "text_to_timestamp_of_a_concat": ir.Cast(ir.Concat((S, ir.Lit("T10:00", STRING))), TIMESTAMP),
}
DUCKDB_ONLY = ("TRY(", "REGEXP_FULL_MATCH", "TRUNC(", "REGEXP_MATCHES")


@pytest.mark.parametrize("name", sorted(NESTED))
def test_spark_sql_of_nested_expressions_has_no_duckdb_helpers(name: str) -> None:
    text = sql.expression_sql(NESTED[name], "spark").upper()
    assert not [h for h in DUCKDB_ONLY if h in text], text


ROWS: list[dict[str, Any]] = [
    {"s": "12", "i": 5, "f": 2.5, "d": dt.date(2024, 1, 31), "b": True, "m": Decimal("3.25"),
     "ts": dt.datetime(2024, 1, 31, 10, 0), "tz": dt.datetime(2024, 1, 31, 10, 0, tzinfo=dt.timezone.utc)},
    {"s": "a-b", "i": -3, "f": -1.5, "d": dt.date(2023, 12, 1), "b": False, "m": Decimal("-1.50"),
     "ts": dt.datetime(2023, 12, 1, 0, 0), "tz": dt.datetime(2023, 12, 1, 23, 0, tzinfo=dt.timezone.utc)},
    {"s": None, "i": None, "f": None, "d": None, "b": None, "m": None, "ts": None, "tz": None},
]  # fmt: skip
TYPES = {"s": STRING, "i": INTEGER, "f": FLOAT, "d": DATE, "b": BOOLEAN, "m": None}
TYPES.update({"ts": TIMESTAMP, "tz": TIMESTAMP_TZ})


def _table(dialect: str) -> str:
    """The rows as one SELECT of typed literals (written by the generator itself)."""
    generator = sql.SqlGenerator(sql_dialects.sql_dialect(dialect))
    selects = []
    for n, row in enumerate(ROWS):
        items = [sql.alias(exp.Literal.number(n), "n")]
        for column, value in row.items():
            ltype = TYPES[column] or _dec()
            items.append(sql.alias(generator(ir.Lit(value, ltype)), column))
        selects.append(sql.select(*items))
    union: exp.Expression = selects[0]
    for other in selects[1:]:
        union = exp.Union(this=union, expression=other, distinct=False)
    return sql_dialects.sql_dialect(dialect).render(union)


def _values(run: Any, node: ir.Expr, dialect: str) -> list[Any]:
    tree = sql.expression(node, dialect)
    if any(isinstance(n, ir.Agg) for n in node.walk()):
        query = sql.select(sql.alias(tree, "v")).from_("t")
    else:
        query = sql.select(sql.alias(tree, "v")).from_("t").order_by("n")
    return [_plain(v) for v in run(sql_dialects.sql_dialect(dialect).render(query))]


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if isinstance(value, float | Decimal):
        return float(value)
    return value


COMPARED = {
    **{f"node_{k.__name__}": v for k, v in SAMPLES.items() if k not in (ir.CurrentTimestamp,)},
    **{f"nested_{k}": v for k, v in NESTED.items()},
}


@pytest.fixture(scope="module")
def duckdb_run() -> Any:
    pytest.importorskip("duckdb")
    from meshc.engines._duckdb.engine import connect  # the engine's own session (UTC)

    con = connect()
    con.execute(f"CREATE TABLE t AS {_table('duckdb')}")
    yield lambda text: [r[0] for r in con.execute(text).fetchall()]
    con.close()


@pytest.fixture(scope="module")
def spark_run() -> Any:
    pytest.importorskip("pyspark")
    from meshc.engines._spark.session import get_session

    spark = get_session()
    spark.sql(_table("spark")).createOrReplaceTempView("t")
    return lambda text: [r[0] for r in spark.sql(text).collect()]


@pytest.mark.spark
@pytest.mark.parametrize("name", sorted(COMPARED))
def test_spark_sql_runs_and_agrees_with_duckdb(name: str, duckdb_run: Any, spark_run: Any) -> None:
    node = COMPARED[name]
    assert _values(spark_run, node, "spark") == _values(duckdb_run, node, "duckdb")


def _run_sql(dialect: str, text: str) -> list[Any]:
    """One query on the dialect's own engine session (DuckDB's connection, the shared Spark)."""
    if dialect == "spark":
        from meshc.engines._spark.session import get_session

        return list(get_session().sql(text).collect()[0])
    from meshc.engines._duckdb.engine import connect

    con = connect()
    try:
        return list(con.execute(text).fetchall()[0])
    finally:
        con.close()


@pytest.mark.parametrize("dialect", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_integer_results_over_aggregates_are_null_on_overflow(dialect: str) -> None:
    # docs/semantics.md "Integer overflow": NULL, never an error (DuckDB's try() refuses
    # aggregates; Spark's SUM raises under ANSI where try_sum is NULL)
    profile = sql_dialects.sql_dialect(dialect)
    generator = sql.SqlGenerator(profile)
    rows = [sql.select(sql.alias(generator(ir.Lit(v, INTEGER)), "i")) for v in (2**63 - 1, 1)]
    table = exp.Subquery(
        this=exp.Union(this=rows[0], expression=rows[1], distinct=False), alias="t"
    )
    top, count_all = (
        ir.Agg("max", ir.Col("i", INTEGER), INTEGER),
        ir.Agg("count_all", None, INTEGER),
    )
    nodes = [
        ir.Agg("sum", ir.Col("i", INTEGER), INTEGER),
        ir.Arith("*", top, ir.Lit(2, INTEGER), INTEGER),
        ir.Neg(ir.Arith("-", ir.Lit(0, INTEGER), top, INTEGER)),
        ir.Compare(">=", ir.Arith("*", count_all, ir.Lit(2, INTEGER), INTEGER), ir.Lit(4, INTEGER)),
    ]
    items = [sql.alias(sql.expression(n, dialect), f"v{k}") for k, n in enumerate(nodes)]
    query = sql.select(*items).from_(table)
    assert _run_sql(dialect, profile.render(query)) == [None, None, 2**63 - 1, True]
