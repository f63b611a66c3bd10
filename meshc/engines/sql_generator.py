"""The one SQL generator: meshc IR (meshc.rules.expr) -> sqlglot expression trees.

The DuckDB engine (its `translate` module), `meshc compile`'s validation SQL (meshc.emit.sql_emit)
and the GX suites' SQL (meshc.emit.gx_emit) all build their trees here, for a dialect profile
(meshc.engines.sql_dialects); text comes from sqlglot (`SqlDialect.render`).

One handler per node class in a dispatch table; a node without a handler, or one the dialect
declares as a gap, raises UnsupportedConstruct (MC390, meshc.engines.spec.unsupported) naming the
dialect and the reason, never a silent fallback. Literal values become sqlglot literals (usually
wrapped in a CAST to their exact type), so a string from a contract is always data. Where the
SQL's own semantics differ from the IR's (division by zero raises, CAST rounds floats, CONCAT
skips NULLs, date + interval is a TIMESTAMP, integer overflow raises) the handler spells out the
IR's meaning.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sqlglot import exp

from meshc.engines import spec, textcast
from meshc.engines import sql_trees as sb
from meshc.engines.sql_dialects import DUCKDB, SqlDialect
from meshc.engines.sql_textcast import native_type, text_cast
from meshc.rules import expr as ir
from meshc.rules.checks import RowCheck
from meshc.types import STRING, Kind, LogicalType

Resolver = Callable[[ir.Col], exp.Expression]

_COMPARE: dict[str, type[exp.Expression]] = {
    "=": exp.EQ,
    "!=": exp.NEQ,
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
}
_ARITH: dict[str, type[exp.Expression]] = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}
_STRFN: dict[str, Callable[..., exp.Expression]] = {
    "length": exp.Length,
    "upper": exp.Upper,
    "lower": exp.Lower,
    "abs": exp.Abs,
}
_AGG: dict[str, Callable[..., exp.Expression]] = {
    "count": exp.Count,
    "sum": exp.Sum,
    "avg": exp.Avg,
    "min": exp.Min,
    "max": exp.Max,
}
_UNIT = {
    "year": "YEAR",
    "month": "MONTH",
    "day": "DAY",
    "hour": "HOUR",
    "minute": "MINUTE",
    "second": "SECOND",
}
# Where a text-cast template takes its operand (see SqlGenerator.text_cast).
_OPERAND = exp.Placeholder(this="meshc_operand")


def by_name(column: ir.Col) -> exp.Expression:
    """The default resolver: a column is read under its own (quoted) name."""
    return sb.col(column.name)


class SqlGenerator:
    """Translate IR trees for one dialect; `resolve` maps a Col to the SQL holding its typed value.

    CURRENT_DATE / CURRENT_TIMESTAMP are left to the database (rendered SQL, whose session time
    zone then applies). `refused` is what one use refuses on top of the dialect's gaps, with the
    reason: an engine gets rules with the clock already bound to the run's (spec.REFUSED)."""

    def __init__(
        self,
        dialect: SqlDialect = DUCKDB,
        resolve: Resolver = by_name,
        *,
        refused: Mapping[type[ir.Expr], str] | None = None,
    ) -> None:
        self.dialect = dialect
        self.resolve = resolve
        self.refused = {**dialect.gaps, **(refused or {})}
        self.handlers: dict[type[ir.Expr], Callable[[Any], exp.Expression]] = {
            ir.Col: self.resolve,
            ir.Lit: self.literal,
            ir.Compare: self.compare,
            ir.And: lambda n: self.binary(exp.And, n.left, n.right),
            ir.Or: lambda n: self.binary(exp.Or, n.left, n.right),
            ir.Not: lambda n: exp.Not(this=self.sub(n.operand)),
            ir.IsNull: self.is_null,
            ir.InList: self.in_list,
            ir.Between: self.between,
            ir.RegexSearch: self.regex,
            ir.Arith: self.arith,
            ir.Neg: self.neg,
            ir.Case: self.case,
            ir.Coalesce: self.coalesce,
            ir.Cast: self.cast,
            ir.StrFn: self.strfn,
            ir.Substring: self.substring,
            ir.Concat: self.concat,
            ir.DateAdd: self.date_add,
            ir.DateDiffDays: self.date_diff,
            ir.IsDuplicate: self.is_duplicate,
            ir.Agg: self.agg,
            ir.CurrentDate: lambda _: exp.CurrentDate(),
            ir.CurrentTimestamp: lambda _: exp.CurrentTimestamp(),
        }
        for kind in self.refused:
            self.handlers.pop(kind, None)

    def __call__(self, node: ir.Expr) -> exp.Expression:
        kind = type(node)
        handler = self.handlers.get(kind)
        if handler is None:
            why = self.refused.get(kind)
            raise spec.unsupported(node, self.dialect.name, why)
        return handler(node)

    def aggregate_query(self, exprs: Mapping[str, ir.Expr], table: exp.Expression) -> exp.Select:
        """One row: each named expression over `table`, its aggregates computed first in a
        sub-select and the rest applied to their results outside it. An overflow guard then
        wraps a column, never an aggregate (DuckDB's try() refuses aggregates), so arithmetic
        over aggregates is NULL on overflow like any other. Identical aggregates are computed
        once. Outside an aggregate a dataset rule reads no column (the rule compiler refuses it)."""
        stage = _AggregatesFirst(self.dialect, self.resolve, refused=self.refused)
        items = [sb.alias(stage(e), name) for name, e in exprs.items()]
        if not stage.computed:
            return sb.select(*items)
        inner = sb.select(*stage.computed.values()).from_(table)
        alias = exp.TableAlias(this=sb.ident(spec.internal("aggregates")))
        return sb.select(*items).from_(exp.Subquery(this=inner, alias=alias))

    def rule(self, check: RowCheck) -> exp.Expression:
        """A row check's predicate; a refusal names the check and where it is declared."""
        with spec.located(check):
            return self(check.predicate)

    def sub(self, node: ir.Expr) -> exp.Expression:
        return sb.paren(self(node))

    def binary(self, kind: type[exp.Expression], left: ir.Expr, right: ir.Expr) -> exp.Expression:
        return kind(this=self.sub(left), expression=self.sub(right))

    def checked(self, result: exp.Expression, ltype: LogicalType | None) -> exp.Expression:
        """Integer and decimal results outside their type's range are NULL (the dialect's way)."""
        if ltype is not None and ltype.kind in (Kind.INTEGER, Kind.DECIMAL):
            return self.dialect.checked(result, ltype.kind)
        return result

    def text_cast(self, text: exp.Expression, ltype: LogicalType) -> exp.Expression:
        """Text -> `ltype` by the documented forms (the shared text-cast tree), in the dialect:
        the tree is built around a placeholder, localised, then the operand goes in, so an
        operand already written for the dialect is not rewritten again."""
        if not self.dialect.functions:
            return text_cast(text, ltype).value
        template = self.dialect.localise(text_cast(_OPERAND.copy(), ltype).value)
        return template.transform(lambda n: text.copy() if isinstance(n, exp.Placeholder) else n)

    # -- predicates -----------------------------------------------------------------------------
    def compare(self, node: ir.Compare) -> exp.Expression:
        return self.binary(_COMPARE[node.op], node.left, node.right)

    def is_null(self, node: ir.IsNull) -> exp.Expression:
        test = sb.is_null(self(node.operand))
        return exp.Not(this=sb.paren(test)) if node.negated else test

    def in_list(self, node: ir.InList) -> exp.Expression:
        test = exp.In(this=self.sub(node.operand), expressions=[self(v) for v in node.values])
        return exp.Not(this=sb.paren(test)) if node.negated else test

    def between(self, node: ir.Between) -> exp.Expression:
        test = exp.Between(
            this=self.sub(node.operand), low=self.sub(node.low), high=self.sub(node.high)
        )
        return exp.Not(this=sb.paren(test)) if node.negated else test

    def regex(self, node: ir.RegexSearch) -> exp.Expression:
        return self.dialect.search(self(node.operand), node.pattern, node.case_insensitive)

    # -- arithmetic -----------------------------------------------------------------------------
    def arith(self, node: ir.Arith) -> exp.Expression:
        if node.op == "/":  # float division; DuckDB 2 raises on x/0, the IR says NULL
            left = sb.cast(self(node.left), "DOUBLE")
            right = exp.Nullif(this=sb.cast(self(node.right), "DOUBLE"), expression=_zero())
            return exp.Div(this=left, expression=right)
        if node.op == "%":
            right = exp.Nullif(this=self(node.right), expression=_zero())
            return exp.Mod(this=self.sub(node.left), expression=right)
        return self.checked(self.binary(_ARITH[node.op], node.left, node.right), node.ltype)

    def neg(self, node: ir.Neg) -> exp.Expression:
        return self.checked(exp.Neg(this=self.sub(node.operand)), node.type)

    def case(self, node: ir.Case) -> exp.Expression:
        whens = [(self(cond), self(value)) for cond, value in node.whens]
        return sb.case(whens, self(node.default))

    def coalesce(self, node: ir.Coalesce) -> exp.Expression:
        first, *rest = [self(a) for a in node.args]
        return exp.Coalesce(this=first, expressions=rest)

    def cast(self, node: ir.Cast) -> exp.Expression:
        source, target = node.operand.type, node.to
        value = self(node.operand)
        if source is None:  # a NULL literal
            return sb.cast(value, native_type(target))
        if source == STRING and target != STRING:  # the same documented forms as column casts
            return self.text_cast(value, target)
        if target.kind is Kind.INTEGER and source.kind is Kind.FLOAT:
            # 2^63 overflows (Spark's SQL would clamp it to the maximum, so say it in the tree)
            limit = sb.cast(exp.Literal.number(-textcast.INT64_MIN), "DOUBLE")  # 2^63, exact
            below = exp.LT(this=sb.paren(value), expression=limit)
            value = sb.case([(below, value)])
        truncate = target.kind is Kind.INTEGER and source.kind in (Kind.FLOAT, Kind.DECIMAL)
        if truncate and not self.dialect.truncating_cast:
            value = exp.Anonymous(this="trunc", expressions=[value])  # CAST rounds in DuckDB
        return sb.try_cast(value, native_type(target))

    # -- strings --------------------------------------------------------------------------------
    def strfn(self, node: ir.StrFn) -> exp.Expression:
        if node.fn == "trim":  # spaces only, both ends (TRIM's default set differs per engine)
            return exp.Trim(this=self(node.operand), expression=sb.string(" "))
        result = _STRFN[node.fn](this=self(node.operand))
        return self.checked(result, node.type) if node.fn == "abs" else result

    def substring(self, node: ir.Substring) -> exp.Expression:
        length = exp.Literal.number(node.length) if node.length is not None else None
        return exp.Substring(
            this=self(node.operand), start=exp.Literal.number(node.start), length=length
        )

    def concat(self, node: ir.Concat) -> exp.Expression:
        # `||` is NULL when any side is NULL (CONCAT would skip NULLs).
        parts = [self.sub(a) for a in node.args]
        out = parts[0]
        for part in parts[1:]:
            out = exp.DPipe(this=out, expression=part)
        return sb.cast(out, "VARCHAR") if len(parts) == 1 else out

    # -- dates ----------------------------------------------------------------------------------
    def date_add(self, node: ir.DateAdd) -> exp.Expression:
        # month/year arithmetic clamps to the month end, as the IR requires.
        unit = exp.Var(this=_UNIT[node.unit])
        interval = exp.Interval(this=sb.string(str(node.amount)), unit=unit)
        total = exp.Add(this=self.sub(node.operand), expression=interval)
        ltype = node.operand.type
        return sb.cast(total, native_type(ltype)) if ltype is not None else total

    def date_diff(self, node: ir.DateDiffDays) -> exp.Expression:
        left, right = sb.cast(self(node.left), "DATE"), sb.cast(self(node.right), "DATE")
        return sb.cast(exp.Sub(this=left, expression=right), "BIGINT")

    # -- windows and aggregates -----------------------------------------------------------------
    def is_duplicate(self, node: ir.IsDuplicate) -> exp.Expression:
        keys = [self(c) for c in node.columns]
        count = exp.Window(this=exp.Count(this=exp.Star()), partition_by=keys)
        any_null = sb.or_all([sb.is_null(k) for k in keys])
        several = exp.GT(this=count, expression=exp.Literal.number(1))
        return sb.case([(any_null, exp.false())], several)

    def agg(self, node: ir.Agg) -> exp.Expression:
        if node.fn == "count_all":
            return exp.Count(this=exp.Star())
        if node.operand is None:
            raise spec.unsupported(f"aggregate {node.fn} without an operand", self.dialect.name)
        operand = self(node.operand)
        if node.fn == "count_distinct":
            return exp.Count(this=exp.Distinct(expressions=[operand]))
        if node.fn == "sum" and node.type is not None and node.type.kind is Kind.INTEGER:
            return self.dialect.integer_sum(operand)  # NULL on overflow, the dialect's way
        return _AGG[node.fn](this=operand)

    # -- literals -------------------------------------------------------------------------------
    def literal(self, node: ir.Lit) -> exp.Expression:
        """A literal of its exact type; the value is always a sqlglot literal, never pasted SQL."""
        value, ltype = node.value, node.ltype
        if value is None:
            return sb.cast(exp.Null(), native_type(ltype)) if ltype is not None else exp.Null()
        if isinstance(value, bool):
            return exp.true() if value else exp.false()
        if isinstance(value, str):
            text = sb.string(value)
            return text if ltype is None or ltype == STRING else self.text_cast(text, ltype)
        if isinstance(value, Decimal):
            return sb.cast(sb.string(str(value)), self.decimal_type(value))
        if isinstance(value, float) or (ltype is not None and ltype.kind is Kind.FLOAT):
            return sb.cast(sb.string(_float_text(float(value))), "DOUBLE")
        if isinstance(value, int):
            return sb.cast(exp.Literal.number(value), "BIGINT")
        if isinstance(value, dt.datetime):
            return _datetime(value, ltype)
        if isinstance(value, dt.date):
            return sb.cast(sb.string(value.isoformat()), "DATE")
        raise spec.unsupported(f"literal of Python type {type(value).__name__}", self.dialect.name)

    def decimal_type(self, value: Decimal) -> str:
        """The literal's own precision and scale, so it is never rounded to a column's scale."""
        _, digits, exponent = value.as_tuple()
        if not isinstance(exponent, int):  # NaN/Infinity decimals have no exact type
            raise spec.unsupported(f"decimal literal {value}", self.dialect.name)
        scale = max(-exponent, 0)
        precision = max(len(digits) + max(exponent, 0), scale) + 1
        return f"DECIMAL({min(precision, 38)},{min(scale, 37)})"


class _AggregatesFirst(SqlGenerator):
    """The outer stage of `aggregate_query`: an aggregate becomes a column of the sub-select
    computing it (`computed`: the aggregate's SQL text -> its aliased item there)."""

    def __init__(
        self, dialect: SqlDialect, resolve: Resolver, *, refused: Mapping[type[ir.Expr], str]
    ) -> None:
        super().__init__(dialect, resolve, refused=refused)
        self.computed: dict[str, exp.Alias] = {}

    def agg(self, node: ir.Agg) -> exp.Expression:
        tree = super().agg(node)
        name = spec.internal("agg", len(self.computed))
        item = self.computed.setdefault(tree.sql(), sb.alias(tree, name))
        return sb.col(item.alias)


def _zero() -> exp.Expression:
    return exp.Literal.number(0)


def _float_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _datetime(value: dt.datetime, ltype: LogicalType | None) -> exp.Expression:
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    naive = value.replace(tzinfo=None).isoformat(sep=" ")
    if ltype is not None and ltype.kind is Kind.TIMESTAMP:
        return sb.cast(sb.string(naive), "TIMESTAMP")
    # timestamp_tz (or untyped aware values): an instant, naive values read as UTC
    return sb.cast(sb.string(naive + "+00:00"), "TIMESTAMPTZ")
