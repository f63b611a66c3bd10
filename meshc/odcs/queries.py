"""meshc rules <-> ODCS `type: sql` quality queries, built and read as sqlglot trees.

A row rule `cond` becomes `SELECT COUNT(*) FROM t WHERE NOT (cond)` with `mustBe: 0`: the rows
where the rule is FALSE, i.e. meshc's CHECK semantics (a NULL result passes). A dataset rule
`agg` becomes `SELECT agg FROM t` with `mustBe: true`. Reading goes the other way and also
accepts the shapes other tools write (`SELECT COUNT(*) FROM t WHERE bad`, `SELECT agg FROM t`
compared with a number). Rule text is parsed, never pasted into a query string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

_DIALECT = "duckdb"  # the dialect meshc reads rules in (meshc/rules/sql.py)
# Placeholders other tools put in queries for the object's table name.
_PLACEHOLDER = re.compile(r"\$?\{(?:table|model|object)\}")
_COLUMN = re.compile(r"\$?\{(?:column|property|field)\}")
OPERATORS = (
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
)


class UnreadableQuery(ValueError):
    """An ODCS query that is not one of the shapes meshc can read as a rule (the message says
    why)."""


@dataclass(frozen=True)
class RuleFromQuery:
    kind: Literal["row", "dataset"]
    sql: str


def operator_of(check: dict[str, Any]) -> tuple[str, Any] | None:
    """The (operator, value) of an ODCS quality check; the schema allows exactly one."""
    for key in OPERATORS:
        if key in check:
            return key, check[key]
    return None


def rendered(sql: str) -> str:
    """The rule as sqlglot writes it back: an export keeps the original text when they differ."""
    return _parse(sql).sql(_DIALECT)


def row_rule_query(table: str, sql: str) -> str:
    """`SELECT COUNT(*) FROM table WHERE NOT (sql)`: the rows the rule fails."""
    from sqlglot import exp

    condition = exp.Not(this=exp.Paren(this=_parse(sql)))
    return _count_from(table).where(condition).sql(_DIALECT)


def dataset_rule_query(table: str, sql: str) -> str:
    """`SELECT sql FROM table`: one boolean for the whole dataset."""
    from sqlglot import exp

    return exp.select(_parse(sql)).from_(_table(table)).sql(_DIALECT)


def rule_from_query(
    query: str, tables: set[str], operator: tuple[str, Any], column: str | None = None
) -> RuleFromQuery:
    """The meshc rule an ODCS sql check means; UnreadableQuery when it is no shape meshc reads.
    `${table}` and (on a property's check) `${column}` stand for the object and the property."""
    from sqlglot import exp

    text = _PLACEHOLDER.sub(lambda _: _quoted(sorted(tables)[0]), query)
    if column is not None:
        text = _COLUMN.sub(lambda _: _quoted(column), text)
    select = _parse(text)
    if not isinstance(select, exp.Select):
        raise UnreadableQuery("not a SELECT")
    _check_shape(select, {t.lower() for t in tables})
    value = select.expressions[0]
    where = select.args.get("where")
    key, expected = operator
    if where is not None:
        if not _is_count_star(value):
            raise UnreadableQuery("a filtered query must be SELECT COUNT(*) ... WHERE ...")
        bad = where.this
        if (key, expected) == ("mustBe", 0):  # no row may match `bad`: a row rule NOT (bad)
            return RuleFromQuery("row", _negated(bad).sql(_DIALECT))
        count = exp.Sum(
            this=exp.Case(
                ifs=[exp.If(this=bad, true=exp.Literal.number(1))], default=exp.Literal.number(0)
            )
        )
        return RuleFromQuery("dataset", _compared(count, key, expected).sql(_DIALECT))
    if (key, expected) == ("mustBe", True):
        return RuleFromQuery("dataset", value.sql(_DIALECT))
    return RuleFromQuery("dataset", _compared(value, key, expected).sql(_DIALECT))


def _quoted(name: str) -> str:
    """An identifier as SQL text, quoted when it must be (a placeholder's value is data)."""
    from sqlglot import exp

    return str(exp.to_identifier(name).sql(_DIALECT))


def _parse(sql: str) -> Any:
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    try:
        trees = [t for t in sqlglot.parse(sql, read=_DIALECT) if t is not None]
    except (ParseError, TokenError) as exc:
        raise UnreadableQuery(f"SQL syntax error: {str(exc).splitlines()[0]}") from None
    if len(trees) != 1:
        raise UnreadableQuery("not exactly one SQL statement")
    return trees[0]


def _check_shape(select: Any, tables: set[str]) -> None:
    from sqlglot import exp

    source = select.args.get("from_") or select.args.get("from")
    extra = [k for k in ("joins", "group", "having", "order", "limit", "with", "qualify")
             if select.args.get(k)]  # fmt: skip
    if extra:
        raise UnreadableQuery(f"uses {', '.join(extra).upper()}; meshc reads one-table checks")
    if len(select.expressions) != 1:
        raise UnreadableQuery("selects more than one value")
    table = source.this if source is not None else None
    if not isinstance(table, exp.Table) or table.name.lower() not in tables:
        raise UnreadableQuery(f"does not read the object's own table ({', '.join(sorted(tables))})")


def _is_count_star(node: Any) -> bool:
    from sqlglot import exp

    if not isinstance(node, exp.Count) or node.args.get("distinct"):
        return False
    arg = node.this
    return isinstance(arg, exp.Star) or (isinstance(arg, exp.Literal) and arg.this == "1")


def _negated(condition: Any) -> Any:
    from sqlglot import exp

    if isinstance(condition, exp.Not):  # WHERE NOT (rule): the rule itself
        inner = condition.this
        return inner.this if isinstance(inner, exp.Paren) else inner
    return exp.Not(this=exp.Paren(this=condition))


def _compared(value: Any, key: str, expected: Any) -> Any:
    from sqlglot import exp

    if key in ("mustBeBetween", "mustNotBeBetween"):
        low, high = (_literal(v) for v in expected)
        between = exp.Between(this=value, low=low, high=high)
        return between if key == "mustBeBetween" else exp.Not(this=exp.Paren(this=between))
    node = {
        "mustBe": exp.EQ,
        "mustNotBe": exp.NEQ,
        "mustBeGreaterThan": exp.GT,
        "mustBeGreaterOrEqualTo": exp.GTE,
        "mustBeLessThan": exp.LT,
        "mustBeLessOrEqualTo": exp.LTE,
    }[key]
    return node(this=value, expression=_literal(expected))


def _literal(value: Any) -> Any:
    from sqlglot import exp

    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise UnreadableQuery(f"cannot compare with {value!r}")


def _count_from(table: str) -> Any:
    from sqlglot import exp

    return exp.select(exp.Count(this=exp.Star())).from_(_table(table))


def _table(name: str) -> Any:
    from sqlglot import exp

    return exp.Table(this=exp.to_identifier(name))
