"""Rendered Spark SQL (validation_spark.sql, the gx_spark row conditions) run on a real Spark session
give `meshc run`'s verdicts, also where java.util.regex differs from Rust/RE2: its `$` matches
before a final line terminator, so 'abc\\n' must fail '^abc$' as it does on every engine."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("pyspark")

from meshc.loader import loads_contract  # noqa: E402
from meshc.rules.compiler import compile_contract  # noqa: E402

pytestmark = pytest.mark.spark

CONTRACT = """
info: {version: 1, name: "regex_codes", domain: "t", owner: "t@example.com"}
model:
  fields:
    - {name: row_key, type: string}
    - {name: code, type: string, pattern: '^abc$'}
    - {name: qty, type: string}
quality:
  row_rules:
    - sql: "code LIKE 'ab_'"
    - sql: "code ILIKE 'AB%C'"
    - sql: "code RLIKE 'b.$'"
    - sql: "COALESCE(CAST(qty AS INTEGER), -1) > 0"
quarantine: {enabled: true, target: "quarantine/t/regex_codes", include_error_reason: true}
"""
# 'abc\n' and '5\n' end in a newline: Java's `$` alone would accept them, meshc never does.
# 'ab\r': Java's `.` alone would not match '\r', Rust's and RE2's do.
ROWS = [
    ("r1", "abc", "5"),
    ("r2", "abc\n", "5\n"),
    ("r3", "ABC", "7"),
    ("r4", "ab\nc", "x"),
    ("r5", None, None),
    ("r6", "ab\r", "1"),
]
COLUMNS = ("row_key", "code", "qty")


@pytest.fixture(scope="module")
def compiled() -> Any:
    return compile_contract(loads_contract(CONTRACT))


@pytest.fixture(scope="module")
def spark() -> Any:
    from meshc.engines._spark.session import get_session

    return get_session()


def engine_verdicts(compiled: Any, engine: Any, frame: Any) -> dict[str, list[str]]:
    """row_key -> sorted ids of the checks `meshc run` says the row breaks."""
    from meshc import DataProcessor

    result = DataProcessor(compiled.contract, engine).run(frame)
    verdicts: dict[str, list[str]] = {
        row["row_key"]: [] for row in result.valid_arrow().to_pylist()
    }
    for row in result.quarantine_arrow().to_pylist():
        verdicts[row["row_key"]] = sorted(r["rule_id"] for r in row["_meshc_reasons"])
    return verdicts


def spark_frame(spark: Any) -> Any:
    from pyspark.sql import types as T

    schema = T.StructType([T.StructField(c, T.StringType()) for c in COLUMNS])
    return spark.createDataFrame(ROWS, schema)


@pytest.fixture(scope="module")
def expected(compiled: Any, spark: Any) -> dict[str, list[str]]:
    """The Polars and Spark engines agree; the rendered SQL must say the same."""
    import polars as pl

    from meshc.engines._spark.engine import create

    polars = engine_verdicts(compiled, "polars", pl.DataFrame(ROWS, schema=COLUMNS, orient="row"))
    on_spark = engine_verdicts(compiled, create(session=spark), spark_frame(spark))
    assert polars == on_spark
    assert polars["r1"] == [] and polars["r2"] != []  # the case this file is about
    return polars


def test_rendered_spark_sql_regex_verdicts_match_meshc_run(
    compiled: Any, spark: Any, expected: dict[str, list[str]]
) -> None:
    from meshc.emit.sql_emit import RULE_IDS, render_validation_sql

    spark_frame(spark).createOrReplaceTempView(compiled.contract.info.name)
    sql = render_validation_sql(compiled, "spark").rstrip().rstrip(";")
    flagged = {row["row_key"]: sorted(row[RULE_IDS]) for row in spark.sql(sql).collect()}
    assert flagged == {k: ids for k, ids in expected.items() if ids}


def test_spark_gx_regex_row_conditions_match_meshc_run(
    compiled: Any, spark: Any, expected: dict[str, list[str]]
) -> None:
    """The gx_spark fallback filters NOT(rule): a row it keeps breaks the rule."""
    from meshc.emit.gx_emit import not_rule_condition

    frame = spark_frame(spark)
    for check in compiled.evaluable_row_checks:
        kept = {
            row["row_key"]
            for row in frame.filter(not_rule_condition(check.predicate, "spark")).collect()
        }
        assert kept == {k for k, ids in expected.items() if check.id in ids}, check.id
