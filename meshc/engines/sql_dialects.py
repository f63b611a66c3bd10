"""What each SQL dialect meshc writes needs from the shared SQL generator, declared as data.

The generator (meshc.engines.sql_generator) builds one sqlglot tree per IR node in DuckDB's
spelling, which is meshc's canonical SQL: types are DuckDB type names, helper functions sqlglot has
no node for are DuckDB's (`regexp_full_match`, `regexp_replace`, `trunc`, `try`). sqlglot
re-spells types and most functions when it renders another dialect; a `SqlDialect` says the rest:

- `gaps`: the IR node classes the dialect cannot express, each with the reason. The generator
  refuses them with MC390 naming the dialect and the reason, and the emitters list the rules
  that use them as not expressible. tests/test_sql_generator.py fails when an IR node class
  neither renders on a dialect nor is declared here.
- `search`: a regex search (the IR's RegexSearch), in the dialect's regex flavour: RE2's
  `regexp_matches` on DuckDB; RLIKE on Spark, with the pattern rewritten by `java_pattern` so
  java.util.regex reads it as RE2 and Rust do (also the backtracking-free LIKE rewrite).
- `checked`: overflow handling for integer and decimal results, which must be NULL, not an error.
- `integer_sum`: SUM of integers, NULL when the total leaves 64 bits (never an error).
- `truncating_cast`: CAST from a float to an integer already truncates (DuckDB's rounds).
- `functions`: how the dialect writes the DuckDB helper calls of the shared text-cast trees.
- `sqlglot`: the sqlglot dialect that renders the tree to text (`render`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.dialects.spark import Spark

from meshc.engines import spec
from meshc.engines import sql_trees as sb
from meshc.rules import expr as ir
from meshc.rules.regex import java_pattern
from meshc.types import Kind

Rewrite = Callable[[list[exp.Expression]], exp.Expression]


@dataclass(frozen=True)
class SqlDialect:
    """One SQL dialect's profile (see the module docstring)."""

    name: str
    sqlglot: str | type[Dialect]
    search: Callable[[exp.Expression, str, bool], exp.Expression]
    checked: Callable[[exp.Expression, Kind], exp.Expression]
    integer_sum: Callable[[exp.Expression], exp.Expression]
    truncating_cast: bool
    gaps: Mapping[type[ir.Expr], str] = field(default_factory=lambda: MappingProxyType({}))
    functions: Mapping[str, Rewrite] = field(default_factory=lambda: MappingProxyType({}))

    def render(self, tree: exp.Expression, pretty: bool = False) -> str:
        return tree.sql(dialect=self.sqlglot, pretty=pretty)

    def localise(self, tree: exp.Expression) -> exp.Expression:
        """`tree` (built by the DuckDB helpers, with no IR operand inside) with every helper
        call this dialect writes differently rewritten by `functions`."""
        if not self.functions:
            return tree

        def rewrite(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Anonymous):
                spelled = self.functions.get(str(node.this).lower())
                if spelled is not None:
                    return spelled(list(node.expressions))
            return node

        return tree.transform(rewrite)


# -- DuckDB -------------------------------------------------------------------------------------
def _duckdb_search(operand: exp.Expression, pattern: str, case_insensitive: bool) -> exp.Expression:
    # regexp_matches is an unanchored RE2 search; the pattern travels as a literal.
    flagged = ("(?i)" + pattern) if case_insensitive else pattern
    return sb.fn("regexp_matches", operand, sb.string(flagged))


def _duckdb_checked(result: exp.Expression, kind: Kind) -> exp.Expression:
    """DuckDB raises on an integer or decimal result outside its type (which would end the run),
    so the operation runs inside `try()`, which makes it NULL. `try()` refuses aggregates and
    window functions (a Binder error). The engine never meets that: it computes aggregates first
    (SqlGenerator.aggregate_query), so `try()` wraps their results. An expression rendered with
    its aggregates inline (a GX suite's query) meets it: there an integer operation runs on
    HUGEINT operands (a product of two BIGINTs fits in 128 bits) and TRY_CAST brings it back to
    BIGINT, NULL when outside; a decimal one is refused (MC390) rather than left to fail."""
    if not result.find(exp.AggFunc, exp.Window):
        return sb.fn("try", result)
    if kind is not Kind.INTEGER:
        reason = "try() refuses aggregates"
        raise spec.unsupported("decimal arithmetic over an aggregate", "duckdb", reason)
    wide = result.copy()
    for key in ("this", "expression"):
        operand = wide.args.get(key)
        if isinstance(operand, exp.Expression):
            wide.set(key, sb.cast(operand, "HUGEINT"))
    return sb.try_cast(wide, "BIGINT")


def _duckdb_sum(operand: exp.Expression) -> exp.Expression:
    # DuckDB sums BIGINT into HUGEINT: a total outside 64 bits is NULL, as everywhere
    return sb.try_cast(exp.Sum(this=operand), "BIGINT")


DUCKDB = SqlDialect(
    name="duckdb",
    sqlglot="duckdb",
    search=_duckdb_search,
    checked=_duckdb_checked,
    integer_sum=_duckdb_sum,
    truncating_cast=False,  # DuckDB's CAST rounds a float: `trunc` goes first
)


# -- Spark --------------------------------------------------------------------------------------
class MeshcSpark(Spark):
    """Spark 3.4+/4: TRY_CAST exists (sqlglot's Spark writes CAST, which raises under ANSI mode)."""

    class Generator(Spark.Generator):  # type: ignore[valid-type,misc]  # sqlglot's dialect idiom
        TRANSFORMS = {
            **Spark.Generator.TRANSFORMS,
            exp.TryCast: lambda self, e: f"TRY_CAST({self.sql(e, 'this')} AS {self.sql(e, 'to')})",
        }


def _spark_search(operand: exp.Expression, pattern: str, case_insensitive: bool) -> exp.Expression:
    return exp.RegexpLike(
        this=operand, expression=sb.string(java_pattern(pattern, case_insensitive))
    )


_SPARK_TRY: dict[type[exp.Expression], str] = {
    exp.Add: "try_add",
    exp.Sub: "try_subtract",
    exp.Mul: "try_multiply",
}


def _spark_checked(result: exp.Expression, kind: Kind) -> exp.Expression:
    """Spark's try_* arithmetic where it has one: `a op b` as `try_op(a, b)`, -a as
    try_subtract(0, a), and ABS(a) through it too (ANSI Spark raises on ABS(-2^63))."""
    if isinstance(result, exp.Neg):
        return sb.fn("try_subtract", exp.Literal.number(0), result.this)
    if isinstance(result, exp.Abs):
        value = result.this
        negative = exp.LT(this=sb.paren(value), expression=exp.Literal.number(0))
        return sb.case([(negative, sb.fn("try_subtract", exp.Literal.number(0), value))], value)
    name = _SPARK_TRY.get(type(result))
    if name is None:
        return result
    return sb.fn(name, result.this, result.expression)


def _spark_full_match(args: list[exp.Expression]) -> exp.Expression:
    """The text cast's pre-check: RLIKE is a search, so the pattern is anchored."""
    text, pattern = args
    assert isinstance(pattern, exp.Literal)
    anchored = sb.string(java_pattern(f"^(?:{pattern.this})$"))
    return exp.RegexpLike(this=text, expression=anchored)


def _spark_replace(args: list[exp.Expression]) -> exp.Expression:
    """Back references: DuckDB writes \\1, Java $1."""
    text, pattern, replacement = args
    assert isinstance(replacement, exp.Literal)
    java = re.sub(r"\\([0-9])", r"$\1", replacement.this)
    return sb.fn("regexp_replace", text, pattern, sb.string(java))


SPARK = SqlDialect(
    name="spark",
    sqlglot=MeshcSpark,
    search=_spark_search,
    checked=_spark_checked,
    # ANSI Spark's SUM raises on a 64-bit overflow (TRY_CAST around it is too late); try_sum is NULL
    integer_sum=lambda operand: sb.fn("try_sum", operand),
    truncating_cast=True,
    functions=MappingProxyType(
        {"regexp_full_match": _spark_full_match, "regexp_replace": _spark_replace}
    ),
)

DIALECTS: Mapping[str, SqlDialect] = MappingProxyType({d.name: d for d in (DUCKDB, SPARK)})


def sql_dialect(name: str) -> SqlDialect:
    """The profile of a dialect meshc writes SQL for ('duckdb', 'spark')."""
    return DIALECTS[name]
