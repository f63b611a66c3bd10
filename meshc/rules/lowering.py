"""Lowering a parsed, whitelisted sqlglot tree to the typed IR (`meshc.rules.expr`).

Every sqlglot node class on the whitelist has a handler; anything else is rejected with a located
RuleProblem. Columns are resolved against the contract and every node is type-checked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from meshc.diagnostics import did_you_mean
from meshc.rules import expr as ir
from meshc.rules.depth import balanced, chain_terms
from meshc.rules.problems import RuleProblem
from meshc.rules.regex import RegexProblem, check_regex, like_to_regex, portable_regex
from meshc.rules.typecheck import (
    MIXED,
    align_timestamp_literal,
    arith_type,
    cast_target,
    check_arity,
    check_float_literal,
    check_interval,
    common_type,
    comparable,
    typed_null,
)
from meshc.rules.values import parse_temporal
from meshc.types import (
    BOOLEAN,
    FLOAT,
    INTEGER,
    STRING,
    Kind,
    LogicalType,
)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_UNITS = {
    "YEAR": "year",
    "YEARS": "year",
    "MONTH": "month",
    "MONTHS": "month",
    "DAY": "day",
    "DAYS": "day",
    "HOUR": "hour",
    "HOURS": "hour",
    "MINUTE": "minute",
    "MINUTES": "minute",
    "SECOND": "second",
    "SECONDS": "second",
}


def _node_offset(node: Any) -> int | None:
    """Character offset of a node in the rule text, from sqlglot's token metadata."""
    from sqlglot import exp

    meta = getattr(node, "meta", None) or {}
    if "start" in meta:
        return int(meta["start"])
    ident = node.find(exp.Identifier) if isinstance(node, exp.Expression) else None
    if ident is not None and ident.meta and "start" in ident.meta:
        return int(ident.meta["start"])
    return None


class _Lowering:
    def __init__(self, columns: Mapping[str, LogicalType], aggregate: bool) -> None:
        from sqlglot import exp

        self.columns = columns
        self.aggregate = aggregate
        self.in_agg = False
        self.handlers: dict[type, Callable[[Any], ir.Expr]] = {
            exp.Paren: lambda n: self.lower(n.this),
            exp.Column: self.column,
            exp.Literal: self.literal,
            exp.Boolean: lambda n: ir.Lit(bool(n.this), BOOLEAN),
            exp.Null: lambda n: ir.Lit(None, None),
            exp.EQ: lambda n: self.compare("=", n),
            exp.NEQ: lambda n: self.compare("!=", n),
            exp.GT: lambda n: self.compare(">", n),
            exp.GTE: lambda n: self.compare(">=", n),
            exp.LT: lambda n: self.compare("<", n),
            exp.LTE: lambda n: self.compare("<=", n),
            exp.And: lambda n: self.connective(n, ir.And),
            exp.Or: lambda n: self.connective(n, ir.Or),
            exp.Not: self.not_,
            exp.Is: self.is_,
            exp.In: self.in_,
            exp.Between: self.between,
            exp.Like: lambda n: self.like(n, None, False),
            exp.ILike: lambda n: self.like(n, None, True),
            exp.Escape: self.escape,
            exp.RegexpLike: self.regexp,
            exp.Add: lambda n: self.arith("+", n),
            exp.Sub: lambda n: self.arith("-", n),
            exp.Mul: lambda n: self.arith("*", n),
            exp.Div: lambda n: self.arith("/", n),
            exp.Mod: lambda n: self.arith("%", n),
            exp.Neg: self.neg,
            exp.Case: self.case,
            exp.If: self.if_,
            exp.Coalesce: self.coalesce,
            exp.Cast: self.cast,
            exp.TryCast: self.cast,
            exp.Length: lambda n: self.strfn("length", n),
            exp.Upper: lambda n: self.strfn("upper", n),
            exp.Lower: lambda n: self.strfn("lower", n),
            exp.Trim: self.trim,
            exp.Abs: self.abs_,
            exp.Substring: self.substring,
            exp.Concat: lambda n: self.concat(list(n.expressions), n),
            exp.DPipe: lambda n: self.concat([n.this, n.expression], n),
            exp.CurrentDate: lambda n: ir.CurrentDate(),
            exp.CurrentTimestamp: lambda n: ir.CurrentTimestamp(),
            exp.Count: self.count,
            exp.Sum: lambda n: self.agg("sum", n),
            exp.Avg: lambda n: self.agg("avg", n),
            exp.Min: lambda n: self.agg("min", n),
            exp.Max: lambda n: self.agg("max", n),
        }

    # -- dispatch -------------------------------------------------------------------------------
    def lower(self, node: Any) -> ir.Expr:
        handler = self.handlers.get(type(node))
        if handler is None:
            raise self.not_allowed(node)
        return handler(node)

    def not_allowed(self, node: Any) -> RuleProblem:
        from sqlglot import exp

        if isinstance(node, (exp.Subquery, exp.Query)):
            what, hint = (
                "subqueries are not allowed",
                "a rule sees one row; use dataset_rules for aggregates",
            )
        elif isinstance(node, exp.Anonymous):
            what, hint = (
                f"function '{node.name}' is not allowed",
                "see docs/rule-dialect.md for the whitelist",
            )
        elif isinstance(node, exp.Func):
            name = node.sql_name() if hasattr(node, "sql_name") else node.key
            what, hint = (
                f"function '{name}' is not allowed",
                "see docs/rule-dialect.md for the whitelist",
            )
        elif isinstance(node, exp.Star):
            what, hint = "'*' is not allowed here", None
        else:
            what, hint = (
                f"'{node.key.upper()}' is not allowed in a rule",
                "see docs/rule-dialect.md",
            )
        return RuleProblem("MC304", what, hint=hint, offset=_node_offset(node))

    def boolean(self, node: Any) -> ir.Expr:
        lowered = typed_null(self.lower(node), BOOLEAN)
        if lowered.type is not None and lowered.type != BOOLEAN:
            raise RuleProblem(
                "MC306",
                f"expected a boolean condition, got {lowered.type}",
                offset=_node_offset(node),
            )
        return lowered

    def connective(self, node: Any, kind: Callable[[ir.Expr, ir.Expr], ir.Expr]) -> ir.Expr:
        """A whole AND (or OR) chain at once, as a balanced tree: no stage recurses per term."""
        return balanced(kind, [self.boolean(term) for term in chain_terms(node)])

    # -- leaves ---------------------------------------------------------------------------------
    def column(self, node: Any) -> ir.Expr:
        if node.table:
            raise RuleProblem(
                "MC305",
                f"qualified column '{node.sql()}' is not allowed",
                hint=f"write just '{node.name}'",
                offset=_node_offset(node),
            )
        name = node.name
        if name not in self.columns:
            raise RuleProblem(
                "MC305",
                f"unknown column '{name}'",
                hint=did_you_mean(name, self.columns) or "declare it under model.fields",
                offset=_node_offset(node),
                column=name,
            )
        if self.aggregate and not self.in_agg:
            raise RuleProblem(
                "MC309",
                f"column '{name}' must be inside an aggregate in a dataset rule",
                hint=f"e.g. SUM({name})",
                offset=_node_offset(node),
            )
        return ir.Col(name, self.columns[name])

    def literal(self, node: Any) -> ir.Expr:
        if node.is_string:
            return ir.Lit(node.this, STRING)
        text = node.this
        if all(c.isdigit() for c in text.lstrip("+-")):
            value = int(text)
            if not INT64_MIN <= value <= INT64_MAX:
                raise RuleProblem(
                    "MC306",
                    f"integer literal {text} does not fit in 64 bits",
                    offset=_node_offset(node),
                )
            return ir.Lit(value, INTEGER)
        check_float_literal(float(text), text, _node_offset(node))
        return ir.Lit(float(text), FLOAT)

    # -- predicates -----------------------------------------------------------------------------
    def compare(self, op: Any, node: Any) -> ir.Expr:
        left, right = self.lower(node.this), self.lower(node.expression)
        left, right = (
            align_timestamp_literal(left, right.type),
            align_timestamp_literal(right, left.type),
        )
        left, right = typed_null(left, right.type), typed_null(right, left.type)
        self.require_comparable(left, right, node)
        return ir.Compare(op, left, right)

    def require_comparable(self, left: ir.Expr, right: ir.Expr, node: Any) -> None:
        if comparable(left.type, right.type):
            return
        hint = None
        temporal = left if (left.type and left.type.is_temporal) else right
        other = right if temporal is left else left
        if (
            temporal.type
            and temporal.type.is_temporal
            and other.type == STRING
            and isinstance(other, ir.Lit)
        ):
            keyword = "DATE" if temporal.type.kind is Kind.DATE else "TIMESTAMP"
            hint = f"write a typed literal: {keyword} '{other.value}'"
        raise RuleProblem(
            "MC306",
            f"cannot compare {left.type} with {right.type}",
            hint=hint or "CAST one side so both have the same type",
            offset=_node_offset(node),
        )

    def not_(self, node: Any) -> ir.Expr:
        from sqlglot import exp

        inner = node.this
        if isinstance(inner, exp.Is) and isinstance(inner.expression, exp.Null):
            return ir.IsNull(self.lower(inner.this), negated=True)
        if isinstance(inner, exp.In):
            lowered = self.in_(inner)
            assert isinstance(lowered, ir.InList)
            return ir.InList(lowered.operand, lowered.values, negated=True)
        if isinstance(inner, exp.Between):
            lowered_b = self.between(inner)
            assert isinstance(lowered_b, ir.Between)
            return ir.Between(lowered_b.operand, lowered_b.low, lowered_b.high, negated=True)
        return ir.Not(self.boolean(inner))

    def is_(self, node: Any) -> ir.Expr:
        from sqlglot import exp

        if isinstance(node.expression, exp.Null):
            return ir.IsNull(self.lower(node.this))
        raise RuleProblem(
            "MC304",
            "only IS NULL / IS NOT NULL are supported",
            hint="write `x = TRUE` instead of `x IS TRUE`",
            offset=_node_offset(node),
        )

    def in_(self, node: Any) -> ir.Expr:
        if node.args.get("query") is not None or node.args.get("unnest") is not None:
            raise RuleProblem(
                "MC304",
                "subqueries are not allowed (IN (SELECT ...))",
                hint="list the values: IN ('a', 'b')",
                offset=_node_offset(node),
            )
        operand = self.lower(node.this)
        values = tuple(
            typed_null(align_timestamp_literal(self.lower(v), operand.type), operand.type)
            for v in node.expressions
        )
        for v in values:
            self.require_comparable(operand, v, node)
        return ir.InList(operand, values)

    def between(self, node: Any) -> ir.Expr:
        operand = self.lower(node.this)
        low = typed_null(
            align_timestamp_literal(self.lower(node.args["low"]), operand.type), operand.type
        )
        high = typed_null(
            align_timestamp_literal(self.lower(node.args["high"]), operand.type), operand.type
        )
        self.require_comparable(operand, low, node)
        self.require_comparable(operand, high, node)
        return ir.Between(operand, low, high)

    def like(self, node: Any, escape: str | None, insensitive: bool) -> ir.Expr:
        searched = self._like(node, escape, insensitive)
        return ir.Not(searched) if node.args.get("negate") else searched

    def _like(self, node: Any, escape: str | None, insensitive: bool) -> ir.Expr:
        from sqlglot import exp

        operand = self.lower(node.this)
        pattern = node.expression
        if not (isinstance(pattern, exp.Literal) and pattern.is_string):
            raise RuleProblem(
                "MC304", "a LIKE pattern must be a string literal", offset=_node_offset(node)
            )
        self.require_string(operand, "LIKE", node)
        try:
            regex = like_to_regex(pattern.this, escape)
        except RegexProblem as exc:
            raise RuleProblem("MC306", str(exc), offset=_node_offset(node)) from None
        return ir.RegexSearch(operand, regex, case_insensitive=insensitive)

    def escape(self, node: Any) -> ir.Expr:
        from sqlglot import exp

        inner, esc = node.this, node.expression
        if not isinstance(inner, (exp.Like, exp.ILike)) or not (
            isinstance(esc, exp.Literal) and len(esc.this) == 1
        ):
            raise RuleProblem(
                "MC304", "ESCAPE needs LIKE/ILIKE and a single character", offset=_node_offset(node)
            )
        return self.like(inner, esc.this, isinstance(inner, exp.ILike))

    def regexp(self, node: Any) -> ir.Expr:
        from sqlglot import exp

        operand = self.lower(node.this)
        pattern = node.expression
        if not (isinstance(pattern, exp.Literal) and pattern.is_string):
            raise RuleProblem(
                "MC304", "a regex pattern must be a string literal", offset=_node_offset(node)
            )
        if node.args.get("flag") is not None:
            raise RuleProblem(
                "MC304",
                "regex flags are not supported; use (?i) in the pattern",
                offset=_node_offset(node),
            )
        self.require_string(operand, "REGEXP_LIKE", node)
        try:
            check_regex(pattern.this)
            regex = portable_regex(pattern.this)
        except RegexProblem as exc:
            raise RuleProblem(  # MC315: valid and portable, but unsafe on Spark
                exc.code or "MC306",
                f"invalid regex: {exc}",
                hint=exc.hint,
                offset=_node_offset(node),
            ) from None
        return ir.RegexSearch(operand, regex)

    def require_string(self, operand: ir.Expr, what: str, node: Any) -> None:
        if operand.type is not None and operand.type != STRING:
            raise RuleProblem(
                "MC306",
                f"{what} needs a string, got {operand.type}",
                hint="CAST(x AS VARCHAR) first",
                offset=_node_offset(node),
            )

    # -- arithmetic and functions ---------------------------------------------------------------
    def arith(self, op: Any, node: Any) -> ir.Expr:
        from sqlglot import exp

        left = self.lower(node.this)
        if isinstance(node.expression, exp.Interval) and op in "+-":
            return self.interval(left, node.expression, -1 if op == "-" else 1, node)
        right = self.lower(node.expression)
        lt, rt = left.type, right.type
        if (
            op == "-"
            and lt is not None
            and rt is not None
            and lt.kind is Kind.DATE
            and rt.kind is Kind.DATE
        ):
            return ir.DateDiffDays(left, right)
        for side in (lt, rt):
            if side is not None and not side.is_numeric:
                raise RuleProblem(
                    "MC306",
                    f"'{op}' needs numbers, got {side}",
                    hint="dates take `+ INTERVAL '1' DAY`; strings use CONCAT",
                    offset=_node_offset(node),
                )
        return ir.Arith(op, left, right, arith_type(op, lt, rt, _node_offset(node)))

    def interval(self, left: ir.Expr, node: Any, sign: int, parent: Any) -> ir.Expr:
        if left.type is not None and not left.type.is_temporal:
            raise RuleProblem(
                "MC306",
                f"INTERVAL arithmetic needs a date or timestamp, got {left.type}",
                offset=_node_offset(parent),
            )
        unit_node = node.args.get("unit")
        unit = _UNITS.get(unit_node.name.upper() if unit_node is not None else "")
        text = node.this.name if node.this is not None else ""
        if unit is None or not text.strip().lstrip("-").isdigit():
            raise RuleProblem(
                "MC306",
                "INTERVAL must be a whole number and a unit, e.g. INTERVAL '30' DAY",
                offset=_node_offset(parent),
            )
        if (
            left.type is not None
            and left.type.kind is Kind.DATE
            and unit in ("hour", "minute", "second")
        ):
            raise RuleProblem(
                "MC306",
                f"cannot add {unit}s to a date",
                hint="CAST it AS TIMESTAMP first",
                offset=_node_offset(parent),
            )
        check_interval(int(text.strip()), unit, _node_offset(node.this))
        return ir.DateAdd(left, sign * int(text.strip()), unit)  # type: ignore[arg-type]

    def neg(self, node: Any) -> ir.Expr:
        inner = self.lower(node.this)
        if (
            isinstance(inner, ir.Lit)
            and isinstance(inner.value, (int, float))
            and not isinstance(inner.value, bool)
        ):
            if isinstance(inner.value, int) and -inner.value < INT64_MIN:
                raise RuleProblem("MC306", "integer literal does not fit in 64 bits")
            return ir.Lit(-inner.value, inner.type)
        if inner.type is not None and not inner.type.is_numeric:
            raise RuleProblem("MC306", f"cannot negate {inner.type}", offset=_node_offset(node))
        return ir.Neg(inner)

    def case(self, node: Any) -> ir.Expr:
        if node.this is not None:  # CASE x WHEN 1 THEN ... -> CASE WHEN x = 1 THEN ...
            subject = self.lower(node.this)
            whens: list[tuple[ir.Expr, ir.Expr]] = []
            for branch in node.args.get("ifs", []):
                value = self.lower(branch.this)
                self.require_comparable(subject, value, node)
                whens.append((ir.Compare("=", subject, value), self.lower(branch.args["true"])))
        else:
            whens = [
                (self.boolean(b.this), self.lower(b.args["true"])) for b in node.args.get("ifs", [])
            ]
        default_node = node.args.get("default")
        default = self.lower(default_node) if default_node is not None else ir.Lit(None, None)
        return self.branches(tuple(whens), default, node)

    def if_(self, node: Any) -> ir.Expr:
        false = node.args.get("false")
        default = self.lower(false) if false is not None else ir.Lit(None, None)
        return self.branches(
            ((self.boolean(node.this), self.lower(node.args["true"])),), default, node
        )

    def branches(
        self, whens: tuple[tuple[ir.Expr, ir.Expr], ...], default: ir.Expr, node: Any
    ) -> ir.Expr:
        result = common_type([v.type for _, v in whens] + [default.type])
        if result is MIXED:
            raise RuleProblem(
                "MC306", "CASE branches have incompatible types", offset=_node_offset(node)
            )
        whens = tuple((c, typed_null(v, result)) for c, v in whens)
        return ir.Case(whens, typed_null(default, result), result)

    def coalesce(self, node: Any) -> ir.Expr:
        check_arity("COALESCE", 1 + len(node.expressions), _node_offset(node))
        args = tuple(self.lower(a) for a in [node.this, *node.expressions])
        result = common_type([a.type for a in args])
        if result is MIXED:
            raise RuleProblem(
                "MC306", "COALESCE arguments have incompatible types", offset=_node_offset(node)
            )
        return ir.Coalesce(tuple(typed_null(a, result) for a in args), result)

    def cast(self, node: Any) -> ir.Expr:
        target_sql = node.to.sql(dialect="duckdb").lower()
        target = cast_target(target_sql)
        if target is None:
            raise RuleProblem(
                "MC306",
                f"cannot CAST to {target_sql}",
                hint="use a meshc type: varchar, bigint, double, decimal(p,s), boolean, date, "
                "timestamp",
                offset=_node_offset(node),
            )
        operand = self.lower(node.this)
        if isinstance(operand, ir.Lit) and operand.type == STRING and target.is_temporal:
            return ir.Lit(parse_temporal(operand.value, target), target)
        return ir.Cast(operand, target)

    def strfn(self, fn: Any, node: Any) -> ir.Expr:
        operand = self.lower(node.this)
        self.require_string(operand, fn.upper(), node)
        return ir.StrFn(fn, operand)

    def trim(self, node: Any) -> ir.Expr:
        if node.expression is not None or node.args.get("position"):
            raise RuleProblem("MC304", "only plain TRIM(x) is supported", offset=_node_offset(node))
        return self.strfn("trim", node)

    def abs_(self, node: Any) -> ir.Expr:
        operand = self.lower(node.this)
        if operand.type is not None and not operand.type.is_numeric:
            raise RuleProblem(
                "MC306", f"ABS needs a number, got {operand.type}", offset=_node_offset(node)
            )
        return ir.StrFn("abs", operand)

    def substring(self, node: Any) -> ir.Expr:
        operand = self.lower(node.this)
        self.require_string(operand, "SUBSTRING", node)
        start, length = self.lower(node.args["start"]), node.args.get("length")
        length_lit = self.lower(length) if length is not None else None
        for part in (start, length_lit):
            if part is not None and not (
                isinstance(part, ir.Lit) and isinstance(part.value, int) and part.value >= 0
            ):
                raise RuleProblem(
                    "MC304",
                    "SUBSTRING start and length must be non-negative integer literals",
                    offset=_node_offset(node),
                )
        assert isinstance(start, ir.Lit)
        return ir.Substring(
            operand,
            max(int(start.value), 1),
            int(length_lit.value) if isinstance(length_lit, ir.Lit) else None,
        )

    def concat(self, parts: list[Any], node: Any) -> ir.Expr:
        check_arity("CONCAT", len(parts), _node_offset(node))
        args = tuple(self.lower(p) for p in parts)
        for a in args:
            self.require_string(a, "CONCAT", node)
        return ir.Concat(args)

    def count(self, node: Any) -> ir.Expr:
        from sqlglot import exp

        self.require_aggregate(node)
        arg = node.this
        if isinstance(arg, exp.Star):
            return ir.Agg("count_all", None, INTEGER)
        if isinstance(arg, exp.Distinct):
            if len(arg.expressions) != 1:
                raise RuleProblem(
                    "MC304", "COUNT(DISTINCT ...) takes one column", offset=_node_offset(node)
                )
            return ir.Agg("count_distinct", self.inside_agg(arg.expressions[0]), INTEGER)
        return ir.Agg("count", self.inside_agg(arg), INTEGER)

    def agg(self, fn: Any, node: Any) -> ir.Expr:
        self.require_aggregate(node)
        operand = self.inside_agg(node.this)
        if fn in ("sum", "avg") and operand.type is not None and not operand.type.is_numeric:
            raise RuleProblem(
                "MC306",
                f"{fn.upper()} needs a number, got {operand.type}",
                offset=_node_offset(node),
            )
        result = FLOAT if fn == "avg" else operand.type
        return ir.Agg(fn, operand, result)

    def require_aggregate(self, node: Any) -> None:
        if not self.aggregate:
            raise RuleProblem(
                "MC304",
                "aggregates are not allowed in row rules",
                hint="put it in quality.dataset_rules with type: sql",
                offset=_node_offset(node),
            )
        if self.in_agg:
            raise RuleProblem(
                "MC304", "nested aggregates are not allowed", offset=_node_offset(node)
            )

    def inside_agg(self, node: Any) -> ir.Expr:
        self.in_agg = True
        try:
            return self.lower(node)
        finally:
            self.in_agg = False
