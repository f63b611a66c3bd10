"""Rendered validation SQL for DuckDB and Spark: one query selecting the violating rows.

The query reads a relation named after the contract (`info.name`) holding the contract's *typed*
columns, and returns every row that breaks at least one row check, with `_meshc_rule_ids`: the
ids of the checks it breaks, in contract order (warn checks included; `_meshc_severities` says
which). NULL is not a violation (SQL CHECK semantics), exactly as in `meshc run`.

    WITH checked AS (SELECT *, NOT COALESCE(<predicate>, TRUE) AS "__meshc_v0", ... FROM orders)
    SELECT * EXCLUDE (...), [rule ids of the true flags] AS _meshc_rule_ids FROM checked WHERE ...

The predicates come from the shared SQL generator (meshc.engines.sql) with the dialect's profile
(meshc.engines.sql_dialects: Spark's regex flavour, overflow handling, cast spelling), the same
trees the DuckDB engine runs; sqlglot writes the text. CURRENT_DATE / CURRENT_TIMESTAMP, which
`meshc run` binds to its clock, are left to the database (whose session time zone then applies).
A rule the dialect cannot express is left out and named in the header (and returned as a Gap).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from meshc.emit.model import Gap
from meshc.engines import sql as sb
from meshc.engines.sql_dialects import MeshcSpark
from meshc.errors import UnsupportedConstruct
from meshc.rules import checks as ck

RULE_IDS = "_meshc_rule_ids"
DIALECTS = tuple(sb.DIALECTS)  # the SQL files `meshc compile` writes: duckdb, spark
__all__ = [
    "DIALECTS",
    "RULE_IDS",
    "MeshcSpark",
    "emit_sql",
    "render_validation_sql",
]


def flag(index: int) -> str:
    return f"__meshc_v{index}"


def predicates(
    compiled: ck.CompiledContract, dialect: str
) -> tuple[list[tuple[ck.RowCheck, exp.Expression]], list[Gap]]:
    """Each evaluable row check with its predicate tree, and the checks the dialect cannot say."""
    generator = sb.SqlGenerator(sb.sql_dialect(dialect))
    trees: list[tuple[ck.RowCheck, exp.Expression]] = []
    gaps: list[Gap] = []
    for check in compiled.evaluable_row_checks:
        try:
            trees.append((check, generator.rule(check)))
        except UnsupportedConstruct as exc:
            gaps.append(
                Gap(f"sql_{dialect}", check.id, "; ".join(d.message for d in exc.diagnostics))
            )
    return trees, gaps


def violation_query(
    compiled: ck.CompiledContract, trees: Sequence[tuple[ck.RowCheck, exp.Expression]]
) -> exp.Select:
    """The query (see the module docstring) as one sqlglot tree, over the checks' `trees`."""
    table = exp.Table(this=sb.ident(compiled.contract.info.name))
    flags = [
        sb.alias(exp.Not(this=sb.paren(exp.Coalesce(this=tree, expressions=[exp.true()]))), flag(i))
        for i, (_, tree) in enumerate(trees)
    ]
    checked = sb.select(exp.Star(), *flags).from_(table)
    columns = [f.name for f in compiled.contract.fields] + list(compiled.implicit_columns)
    ids = _rule_ids([c.id for c, _ in trees])
    outer = sb.select(*[sb.col(c) for c in columns], sb.alias(ids, RULE_IDS)).from_(
        exp.Table(this=sb.ident("checked"))
    )
    where = sb.or_all([sb.col(flag(i)) for i in range(len(trees))]) if trees else exp.false()
    return outer.where(where).with_("checked", as_=checked)


def _rule_ids(ids: Sequence[str]) -> exp.Expression:
    """An array of the ids whose flag is true, in check order."""
    items = [sb.case([(sb.col(flag(i)), sb.string(rule_id))]) for i, rule_id in enumerate(ids)]
    array = exp.Array(expressions=items)
    var = exp.to_identifier("x")
    keep = exp.Lambda(
        this=exp.Not(this=exp.Is(this=exp.Column(this=var), expression=exp.Null())),
        expressions=[var],
    )
    return exp.ArrayFilter(this=array, expression=keep)


def emit_sql(compiled: ck.CompiledContract, dialect: str) -> tuple[str, list[Gap]]:
    """The rendered query with a header comment (deterministic text ending in a newline), and
    the rules the dialect cannot express."""
    info = compiled.contract.info
    trees, gaps = predicates(compiled, dialect)
    header = [
        f"-- meshc validation query for {info.domain}.{info.name} (contract version {info.version}), "
        f"{dialect}",
        f"-- Reads the relation {info.name} with the contract's typed columns; returns the rows that "
        "break a row check,",
        f"-- with {RULE_IDS}: the ids of the checks they break, in contract order.",
    ]
    warn = [c.id for c, _ in trees if c.severity == "warn"]
    if warn:
        header.append("-- warn checks (reported, never quarantined): " + ", ".join(warn))
    skipped = [c for c in compiled.row_checks if isinstance(c, ck.ForeignKey)]
    for c in skipped:
        header.append(
            f"-- not included: {c.id} (foreign keys are checked by `meshc run` against "
            "the target's data)"
        )
    header += [f"-- not included: {g.rule_id} ({g.reason})" for g in gaps]
    body = sb.sql_dialect(dialect).render(violation_query(compiled, trees), pretty=True)
    return "\n".join(header) + "\n" + body + ";\n", gaps


def render_validation_sql(compiled: ck.CompiledContract, dialect: str) -> str:
    """The rendered query with its header (see `emit_sql`)."""
    return emit_sql(compiled, dialect)[0]
