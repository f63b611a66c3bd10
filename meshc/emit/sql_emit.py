"""Rendered validation SQL for DuckDB and Spark: one query selecting the violating rows.

The query reads a relation named after the contract (`info.name`) holding the contract's *typed*
columns, and returns every row that breaks at least one row check, with `_meshc_rule_ids`: the
ids of the checks it breaks, in contract order (warn checks included; `_meshc_severities` says
which). NULL is not a violation (SQL CHECK semantics), exactly as in `meshc run`.

    WITH checked AS (SELECT *, NOT COALESCE(<predicate>, TRUE) AS "__meshc_v0", ... FROM orders)
    SELECT * EXCLUDE (...), [rule ids of the true flags] AS _meshc_rule_ids FROM checked WHERE ...

The trees come from the DuckDB engine's translator (meshc.engines.sql); Spark text is the
same tree with regex searches written as RLIKE and the few DuckDB-only functions rewritten
(`regexp_full_match` -> an anchored RLIKE, `trunc` before an integer cast -> nothing, since
Spark's cast truncates), then written with sqlglot's Spark generator, which also doubles regex
backslashes for Spark string literals. Every Spark pattern goes through `java_pattern`, as in the
Spark engine, so java.util.regex reads it as RE2/Rust do (`$` -> `\\z`, `(?d)`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlglot import exp
from sqlglot.dialects.spark import Spark

from meshc.engines import sql as sb
from meshc.engines.sql import Translator
from meshc.rules import checks as ck
from meshc.rules import expr as ir
from meshc.rules.regex import java_pattern

RULE_IDS = "_meshc_rule_ids"
DIALECTS = ("duckdb", "spark")


class MeshcSpark(Spark):
    """Spark 3.4+/4: TRY_CAST exists (sqlglot's Spark writes CAST, which raises under ANSI mode)."""

    class Generator(Spark.Generator):  # type: ignore[valid-type,misc]  # sqlglot's dialect idiom
        TRANSFORMS = {
            **Spark.Generator.TRANSFORMS,
            exp.TryCast: lambda self, e: f"TRY_CAST({self.sql(e, 'this')} AS {self.sql(e, 'to')})",
        }


def flag(index: int) -> str:
    return f"__meshc_v{index}"


def translator(dialect: str = "duckdb") -> Translator:
    """The DuckDB translator, plus CURRENT_DATE / CURRENT_TIMESTAMP, which `meshc run` binds to
    its clock but rendered SQL leaves to the database (whose session time zone then applies).
    For Spark, a regex search is RLIKE with the pattern the Spark engine uses (`java_pattern`)."""
    t = Translator()
    t.handlers[ir.CurrentDate] = lambda _: exp.CurrentDate()
    t.handlers[ir.CurrentTimestamp] = lambda _: exp.CurrentTimestamp()
    if dialect == "spark":
        t.handlers[ir.RegexSearch] = lambda n: exp.RegexpLike(
            this=t(n.operand), expression=sb.string(java_pattern(n.pattern, n.case_insensitive))
        )
    return t


def expression_tree(node: ir.Expr, dialect: str) -> exp.Expression:
    tree = translator(dialect)(node)
    return to_spark_tree(tree) if dialect == "spark" else tree


def predicate_tree(check: ck.RowCheck, dialect: str) -> exp.Expression:
    """The check's predicate as a sqlglot tree for `dialect` (TRUE or NULL = pass)."""
    return expression_tree(check.predicate, dialect)


def to_spark_tree(tree: exp.Expression) -> exp.Expression:
    """Rewrite the DuckDB-only function calls of a translated tree into Spark's."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Anonymous):
            return node
        name = str(node.this).lower()
        args = node.expressions
        if name == "regexp_full_match":  # the cast pre-checks; RLIKE is a search, so anchor
            pattern = args[1]
            assert isinstance(pattern, exp.Literal)
            anchored = sb.string(java_pattern(f"^(?:{pattern.this})$"))
            return exp.RegexpLike(this=args[0], expression=anchored)
        if name == "trunc":  # DuckDB's CAST rounds floats; Spark's truncates already
            return args[0]
        if name == "try":  # overflow is NULL: Spark's try_* arithmetic where it has one
            return _spark_try(args[0].transform(rewrite))
        if name == "regexp_replace":  # back references: DuckDB writes \1, Java $1
            replacement = args[2]
            assert isinstance(replacement, exp.Literal)
            java = re.sub(r"\\([0-9])", r"$\1", replacement.this)
            return sb.fn("regexp_replace", args[0], args[1], sb.string(java))
        return node

    return tree.copy().transform(rewrite)


_SPARK_TRY: dict[type[exp.Expression], str] = {
    exp.Add: "try_add",
    exp.Sub: "try_subtract",
    exp.Mul: "try_multiply",
}


def _spark_try(inner: exp.Expression) -> exp.Expression:
    """DuckDB's `try(a op b)` as Spark's `try_op(a, b)`; -a as try_subtract(0, a), and ABS(a)
    through it too (ANSI Spark raises on ABS(-2^63))."""
    if isinstance(inner, exp.Neg):
        return sb.fn("try_subtract", exp.Literal.number(0), inner.this)
    if isinstance(inner, exp.Abs):
        value = inner.this
        negative = exp.LT(this=sb.paren(value), expression=exp.Literal.number(0))
        return sb.case([(negative, sb.fn("try_subtract", exp.Literal.number(0), value))], value)
    name = _SPARK_TRY.get(type(inner))
    if name is None:
        return inner
    return sb.fn(name, inner.this, inner.expression)


def render_expression(tree: exp.Expression, dialect: str) -> str:
    return tree.sql(dialect=MeshcSpark if dialect == "spark" else dialect)


def violation_query(compiled: ck.CompiledContract, dialect: str) -> exp.Select:
    """The query (see the module docstring) as one sqlglot tree."""
    checks = compiled.evaluable_row_checks
    table = exp.Table(this=sb.ident(compiled.contract.info.name))
    flags = [
        sb.alias(
            exp.Not(
                this=sb.paren(
                    exp.Coalesce(this=predicate_tree(c, dialect), expressions=[exp.true()])
                )
            ),
            flag(i),
        )
        for i, c in enumerate(checks)
    ]
    checked = sb.select(exp.Star(), *flags).from_(table)
    columns = [f.name for f in compiled.contract.fields] + list(compiled.implicit_columns)
    ids = _rule_ids([c.id for c in checks], dialect)
    outer = sb.select(*[sb.col(c) for c in columns], sb.alias(ids, RULE_IDS)).from_(
        exp.Table(this=sb.ident("checked"))
    )
    where = sb.or_all([sb.col(flag(i)) for i in range(len(checks))]) if checks else exp.false()
    return outer.where(where).with_("checked", as_=checked)


def _rule_ids(ids: Sequence[str], dialect: str) -> exp.Expression:
    """An array of the ids whose flag is true, in check order."""
    items = [sb.case([(sb.col(flag(i)), sb.string(rule_id))]) for i, rule_id in enumerate(ids)]
    array = exp.Array(expressions=items)
    var = exp.to_identifier("x")
    keep = exp.Lambda(
        this=exp.Not(this=exp.Is(this=exp.Column(this=var), expression=exp.Null())),
        expressions=[var],
    )
    return exp.ArrayFilter(this=array, expression=keep)


def render_validation_sql(compiled: ck.CompiledContract, dialect: str) -> str:
    """The rendered query with a header comment; deterministic text ending in a newline."""
    info = compiled.contract.info
    header = [
        f"-- meshc validation query for {info.domain}.{info.name} (contract version {info.version}), "
        f"{dialect}",
        f"-- Reads the relation {info.name} with the contract's typed columns; returns the rows that "
        "break a row check,",
        f"-- with {RULE_IDS}: the ids of the checks they break, in contract order.",
    ]
    warn = [c.id for c in compiled.evaluable_row_checks if c.severity == "warn"]
    if warn:
        header.append("-- warn checks (reported, never quarantined): " + ", ".join(warn))
    skipped = [c for c in compiled.row_checks if isinstance(c, ck.ForeignKey)]
    for c in skipped:
        header.append(
            f"-- not included: {c.id} (foreign keys are checked by `meshc run` against "
            "the target's data)"
        )
    query = violation_query(compiled, dialect)
    body = query.sql(dialect=MeshcSpark if dialect == "spark" else dialect, pretty=True)
    return "\n".join(header) + "\n" + body + ";\n"
