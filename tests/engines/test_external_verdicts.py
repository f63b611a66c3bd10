"""`Engine.cast` and `ValidationPlan.verdicts` on every engine: what `--validator` stands on.

An external verdict column replaces a check's predicate; the engine still skips rows whose input
failed its cast, lays out reasons as usual, and never shows internal columns in an output.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest

from meshc.engines.base import REASONS, ColumnSpec, ValidationPlan
from meshc.rules import expr as ir
from meshc.rules.checks import Origin, SqlRule
from meshc.types import INTEGER, STRING

VERDICT = "__verdict_0"
SOURCE = pa.table(
    {
        "id": ["a", "b", "c", "d"],
        "amount": ["1", "x", "3", "4"],  # 'x' fails its cast
        VERDICT: [False, True, True, False],  # the validator fails b (unreadable) and c
    }
)
CHECK = SqlRule(
    id="amount_pos",
    severity="error",
    rule="amount >= 0",
    origin=Origin("t.yaml", 1, 1),
    description=None,
    expr=ir.Compare(">=", ir.Col("amount", INTEGER), ir.Lit(0, INTEGER)),
    sql="amount >= 0",
)
PLAN = ValidationPlan(
    columns=(ColumnSpec("id", STRING), ColumnSpec("amount", INTEGER)),
    checks=(CHECK,),
    verdicts={"amount_pos": VERDICT},
    internal_columns=(VERDICT,),
)
ENGINES = ["polars", "pandas", "duckdb", pytest.param("spark", marks=pytest.mark.spark)]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[Any]:
    from tests.conformance.corpus import engine_for

    yield engine_for(request.param)


def native(engine: Any, table: pa.Table) -> Any:
    if engine.name == "polars":
        import polars as pl

        return pl.from_arrow(table)
    if engine.name == "pandas":
        return table.to_pandas()
    if engine.name == "duckdb":
        return engine.con.from_arrow(table)
    return engine.session.createDataFrame(table.to_pandas())


def test_the_verdict_replaces_the_predicate(engine: Any) -> None:
    split = engine.validate(native(engine, SOURCE), PLAN)
    valid = engine.to_arrow(split.valid).to_pylist()
    quarantine = sorted(engine.to_arrow(split.quarantine).to_pylist(), key=lambda r: r["id"])
    assert [r["id"] for r in valid] == ["a", "d"]
    assert [r["id"] for r in quarantine] == ["b", "c"]
    # b failed its cast: it is not judged by the check, whatever the verdict says
    assert [r["rule_id"] for r in quarantine[0][REASONS]] == ["amount.type"]
    reason = quarantine[1][REASONS][0]
    assert (reason["rule_id"], reason["column"], reason["value"]) == ("amount_pos", "amount", "3")
    assert split.failures == {"amount.type": 1, "amount_pos": 1}
    assert VERDICT not in valid[0] and VERDICT not in quarantine[0]


def test_without_verdicts_the_predicate_judges(engine: Any) -> None:
    plain = ValidationPlan(columns=PLAN.columns, checks=PLAN.checks)
    split = engine.validate(native(engine, SOURCE.drop_columns([VERDICT])), plain)
    assert (split.rows_valid, split.rows_quarantined) == (3, 1)


def test_cast_types_the_contract_columns_and_keeps_internal_ones(engine: Any) -> None:
    typed = engine.to_arrow(engine.cast(native(engine, SOURCE), PLAN))
    assert typed.column_names == ["id", "amount", VERDICT]
    assert typed.column("amount").to_pylist() == [1, None, 3, 4]
    assert typed.column(VERDICT).to_pylist() == [False, True, True, False]


def test_java_patterns_fold_case_by_unicode_for_every_inline_i() -> None:
    from meshc.rules.regex import java_pattern

    assert java_pattern("(?i)^é$") == "(?d)(?iu)^é\\z"
    assert java_pattern("a(?i:é)") == "(?d)a(?iu:é)"
    assert java_pattern("[(?i)]") == "(?d)[(?i)]"  # inside a class it is not a flag
