"""CompiledContract -> Great Expectations 1.x expectation suites (JSON), one per datasource kind.

The JSON is what `ExpectationSuite.to_json_dict()` produces before the suite is added to a
context (expectation ids null), written without importing GX, so compiling stays fast and the
output is byte-stable. Load it with `gx.ExpectationSuite(**json.load(f))`.

Native expectations where one exists; every other SQL rule becomes
  - pandas, Spark: `expect_column_values_to_be_null` on one of the rule's own columns, X, with
    `row_condition` = NOT(rule), where X has a value in every violating row (meshc.emit.nullness:
    `a > b` can only be FALSE with `a` present), so each violating row is unexpected. When no
    column is certain (`COALESCE(a, b) > 0`), two expectations share the rule id: X must be null
    where NOT(rule) AND X IS NOT NULL, and not null where NOT(rule) AND X IS NULL.
    UnexpectedRowsExpectation does not run on pandas; the suite needs no column of meshc's: the
    failing rows come back as the batch's own index (pandas) or the user's
    `unexpected_index_column_names`. A NULL rule result is filtered out by the condition, so NULL
    is not a violation, as in meshc.
  - SQL: `unexpected_rows_expectation` with `SELECT * FROM {batch} WHERE NOT COALESCE(rule, TRUE)`.
The pandas condition is a `DataFrame.query` string and covers comparisons, AND/OR/NOT, IN,
BETWEEN, IS NULL, regex search, + - * and string functions on columns; what it cannot express is a
`Gap` (listed in the suite's meta, the manifest and by `meshc compile`). Each expectation's meta
carries `meshc_rule_id` and `meshc_scope` (`row` or `dataset`).
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

from meshc.emit.model import Gap
from meshc.errors import UnsupportedConstruct
from meshc.rules import checks as ck
from meshc.rules import expr as ir
from meshc.rules.typecheck import decimal_operands
from meshc.types import Kind

KINDS = ("pandas", "spark", "sql")
ROW_ID = "_meshc_row_id"
_SQL_NOTE = "rendered in DuckDB SQL"


class Inexpressible(Exception):
    """A rule a datasource kind cannot express; the message is the reason."""


def _exp(kind: str, kwargs: dict[str, Any], check: Any, scope: str = "row") -> dict[str, Any]:
    return {
        "type": kind,
        "kwargs": kwargs,
        "meta": {"meshc_rule_id": check.id, "meshc_scope": scope},
        "severity": "warning" if check.severity == "warn" else "critical",
    }


def _json_values(values: tuple[ir.Lit, ...]) -> list[Any] | None:
    out = []
    for v in values:
        if v.value is None or not isinstance(v.value, (str, int, float, bool)):
            return None
        out.append(v.value)
    return out


def _native(check: ck.RowCheck) -> dict[str, Any] | None:
    """The native expectation for a row check, or None."""
    if isinstance(check, ck.NotNull):
        return _exp("expect_column_values_to_not_be_null", {"column": check.column.name}, check)
    if isinstance(check, ck.AcceptedValues):
        values = _json_values(check.values)
        if values is None:
            return None
        return _exp(
            "expect_column_values_to_be_in_set",
            {"column": check.column.name, "value_set": values},
            check,
        )
    if isinstance(check, ck.Range):
        bounds = [b for b in (check.min, check.max) if b is not None]
        if (
            any(
                isinstance(b.value, (bool, Decimal)) or not isinstance(b.value, (int, float))
                for b in bounds
            )
            or check.column.ltype.kind is Kind.DECIMAL
        ):
            return None
        return _exp(
            "expect_column_values_to_be_between",
            {
                "column": check.column.name,
                "min_value": check.min.value if check.min else None,
                "max_value": check.max.value if check.max else None,
            },
            check,
        )
    if isinstance(check, ck.Pattern):
        return _exp(
            "expect_column_values_to_match_regex",
            {"column": check.column.name, "regex": check.regex},
            check,
        )
    if isinstance(check, ck.MaxLength):
        return _exp(
            "expect_column_value_lengths_to_be_between",
            {"column": check.column.name, "max_value": check.max_length},
            check,
        )
    if isinstance(check, ck.Unique):
        if len(check.key) == 1:
            return _exp("expect_column_values_to_be_unique", {"column": check.key[0].name}, check)
        return _exp(
            "expect_compound_columns_to_be_unique",
            {"column_list": [c.name for c in check.key], "ignore_row_if": "any_value_is_missing"},
            check,
        )
    if isinstance(check, ck.SqlRule):
        return _column_pair(check) or _column_rule(check)
    return None


_BOUND = {">=": ("min_value", False), ">": ("min_value", True)}
_BOUND.update({"<=": ("max_value", False), "<": ("max_value", True)})
_MIRROR = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "=": "=", "!=": "!="}


def _column_rule(check: ck.SqlRule) -> dict[str, Any] | None:
    """A SQL rule on one column that is a GX column expectation as it stands: `x >= 0` (between,
    integers and floats), `x IN (..)` / `x NOT IN (..)` (in set), `x IS NOT NULL`. Column map
    expectations skip missing values, which is SQL CHECK's NULL passes."""
    node = check.expr
    if isinstance(node, ir.IsNull) and node.negated and isinstance(node.operand, ir.Col):
        return _exp("expect_column_values_to_not_be_null", {"column": node.operand.name}, check)
    if isinstance(node, ir.InList) and isinstance(node.operand, ir.Col):
        values = _json_values(tuple(v for v in node.values if isinstance(v, ir.Lit)))
        if values is None or len(values) != len(node.values):
            return None
        kind = "not_be_in_set" if node.negated else "be_in_set"
        in_set = {"column": node.operand.name, "value_set": values}
        return _exp(f"expect_column_values_to_{kind}", in_set, check)
    if not isinstance(node, ir.Compare):
        return None
    column, value, op = node.left, node.right, str(node.op)
    if isinstance(column, ir.Lit):
        column, value, op = value, column, _MIRROR[op]
    if not (
        isinstance(column, ir.Col)
        and column.ltype.kind in (Kind.INTEGER, Kind.FLOAT)
        and isinstance(value, ir.Lit)
        and isinstance(value.value, (int, float))
        and not isinstance(value.value, bool)
        and op in _BOUND
    ):
        return None
    bound, strict = _BOUND[op]
    kwargs: dict[str, Any] = {"column": column.name, bound: value.value}
    kwargs["strict_min" if bound == "min_value" else "strict_max"] = strict
    return _exp("expect_column_values_to_be_between", kwargs, check)


def _column_pair(check: ck.SqlRule) -> dict[str, Any] | None:
    node = check.expr
    if not (
        isinstance(node, ir.Compare)
        and isinstance(node.left, ir.Col)
        and isinstance(node.right, ir.Col)
        and node.left.ltype == node.right.ltype
    ):
        return None
    a, b = node.left.name, node.right.name
    if node.op == "=":
        return _exp(
            "expect_column_pair_values_to_be_equal",
            {"column_A": a, "column_B": b, "ignore_row_if": "either_value_is_missing"},
            check,
        )
    if node.op in ("<", "<="):
        a, b = b, a
    if node.op == "!=":
        return None
    return _exp(
        "expect_column_pair_values_a_to_be_greater_than_b",
        {
            "column_A": a,
            "column_B": b,
            "or_equal": node.op in (">=", "<="),
            "ignore_row_if": "either_value_is_missing",
        },
        check,
    )


def _fallback(check: ck.RowCheck, kind: str) -> list[dict[str, Any]]:
    if kind == "sql":
        from meshc.engines.sql import expression_sql

        rule = expression_sql(check.predicate, "duckdb")
        query = f"SELECT * FROM {{batch}} WHERE NOT COALESCE({rule}, TRUE)"
        return [_exp("unexpected_rows_expectation", {"unexpected_rows_query": query}, check)]
    from meshc.emit.nullness import violation_column

    column = violation_column(check.predicate)
    if column is not None:  # every violating row has a value there: one expectation flags it
        return [_on_violations(check, kind, "expect_column_values_to_be_null", column, None)]
    columns = ir.columns_of(check.predicate)
    if not columns:
        raise Inexpressible("a rule that reads no column has no column to report its rows on")
    # a violating row may or may not have a value in any one column: one expectation for each
    return [
        _on_violations(check, kind, "expect_column_values_to_be_null", columns[0], True),
        _on_violations(check, kind, "expect_column_values_to_not_be_null", columns[0], False),
    ]


def _on_violations(
    check: ck.RowCheck, kind: str, expectation: str, column: str, present: bool | None
) -> dict[str, Any]:
    """`expectation` on a real data column, over the rows that violate the rule (and have, or
    lack, a value in `column` when `present` says so), so each such row is unexpected."""
    condition = violating_rows(check.predicate, kind, column, present)
    # a pass-through condition: `DataFrame.query` on pandas, `DataFrame.filter` on Spark
    # (the string form with `condition_parser` is deprecated since GX 1.9)
    kwargs = {
        "column": column,
        "row_condition": {"pass_through_filter": condition, "type": "pass_through"},
    }
    return _exp(expectation, kwargs, check)


def violating_rows(predicate: ir.Expr, kind: str, column: str, present: bool | None) -> str:
    """NOT(rule), and `column` IS [NOT] NULL when `present` is set, as a row condition."""
    if kind == "spark":
        from meshc.engines.sql import expression_sql

        node: ir.Expr = ir.Not(predicate)
        if present is not None:
            col = next(c for c in predicate.walk() if isinstance(c, ir.Col) and c.name == column)
            node = ir.And(node, ir.IsNull(col, negated=present))
        return expression_sql(node, "spark")
    condition = _PandasQuery().violates(predicate)
    if present is None:
        return condition
    return f"({condition} & {_query_name(column)}.{'notna' if present else 'isna'}())"


def not_rule_condition(predicate: ir.Expr, kind: str) -> str:
    """NOT(rule) as a row condition: pandas `DataFrame.query` text or Spark SQL."""
    if kind == "spark":
        from meshc.engines.sql import expression_sql

        return expression_sql(predicate, "spark", negate=True)
    return _PandasQuery().violates(predicate)


def _dataset(check: ck.DatasetCheck, kind: str) -> dict[str, Any]:
    if isinstance(check, ck.RowCount):
        return _exp(
            "expect_table_row_count_to_be_between",
            {"min_value": check.min, "max_value": check.max},
            check,
            "dataset",
        )
    if isinstance(check, ck.NullRatio):
        return _exp(
            "expect_column_values_to_not_be_null",
            {"column": check.column.name, "mostly": round(1 - check.max, 12)},
            check,
            "dataset",
        )
    if isinstance(check, ck.AggregateSql):
        if kind == "pandas":
            raise Inexpressible(
                "aggregate SQL rules need a SQL engine (UnexpectedRowsExpectation "
                "does not run on pandas)"
            )
        from meshc.engines.sql import expression_sql

        rule = expression_sql(check.expr, "spark" if kind == "spark" else "duckdb")
        query = f"SELECT COUNT(*) AS n FROM {{batch}} HAVING NOT COALESCE({rule}, TRUE)"
        return _exp(
            "unexpected_rows_expectation", {"unexpected_rows_query": query}, check, "dataset"
        )
    raise Inexpressible(
        "freshness compares with the run's clock; a suite fixed at compile time "
        "would go stale (use `meshc run`)"
    )


def emit_suite(compiled: ck.CompiledContract, kind: str) -> tuple[str, list[Gap]]:
    """The suite JSON for one datasource kind, and what it could not express."""
    info = compiled.contract.info
    target = f"gx_{kind}"
    gaps: list[Gap] = []
    expectations: list[dict[str, Any]] = []
    for check in compiled.row_checks:
        if isinstance(check, ck.ForeignKey):
            gaps.append(
                Gap(
                    target,
                    check.id,
                    "foreign keys need the target contract's data; `meshc run` checks them",
                )
            )
            continue
        try:
            native = _native(check)
            expectations.extend([native] if native else _fallback(check, kind))
        except Inexpressible as exc:
            gaps.append(Gap(target, check.id, str(exc)))
        except UnsupportedConstruct as exc:
            gaps.append(Gap(target, check.id, str(exc)))
    for dataset_check in compiled.dataset_checks:
        try:
            expectations.append(_dataset(dataset_check, kind))
        except (Inexpressible, UnsupportedConstruct) as exc:
            gaps.append(Gap(target, dataset_check.id, str(exc)))
    meta: dict[str, Any] = {
        "meshc": {
            "contract": f"{info.domain}.{info.name}",
            "contract_version": info.version,
            "datasource": kind,
            "unsupported": [g.to_json() for g in gaps],
        }
    }
    if kind == "sql":
        meta["meshc"]["note"] = f"SQL in unexpected_rows_query is {_SQL_NOTE}"
    suite = {
        "name": f"{info.domain}.{info.name}.{kind}",
        "id": None,
        "expectations": expectations,
        "meta": meta,
        "notes": None,
    }
    return json.dumps(suite, indent=2, ensure_ascii=False) + "\n", gaps


class _PandasQuery:
    """The IR as `DataFrame.query` text (python engine), in two-valued form.

    `DataFrame.query` keeps a row whose condition is NA when the mask is Arrow-backed, so the text
    never lets NA reach the mask: every predicate is rendered as the pair (is TRUE, is FALSE),
    each a plain boolean. A comparison is TRUE or FALSE only when every column it reads is not
    null (Kleene `&` with a FALSE `notna()` is FALSE, even beside NA); AND, OR and NOT combine the
    pairs as SQL's three-valued logic does. The row condition of a rule is its "is FALSE" side, so
    NULL is not a violation, as in meshc."""

    _OPS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

    def violates(self, node: ir.Expr) -> str:
        return self.pair(node)[1]

    def pair(self, node: ir.Expr) -> tuple[str, str]:
        if isinstance(node, ir.And):
            (lt, lf), (rt, rf) = self.pair(node.left), self.pair(node.right)
            return f"({lt} & {rt})", f"({lf} | {rf})"
        if isinstance(node, ir.Or):
            (lt, lf), (rt, rf) = self.pair(node.left), self.pair(node.right)
            return f"({lt} | {rt})", f"({lf} & {rf})"
        if isinstance(node, ir.Not):
            true, false = self.pair(node.operand)
            return false, true
        if isinstance(node, ir.InList) and any(_is_null(v) for v in node.values):
            return self.in_with_null(node)
        if isinstance(node, (ir.Between, ir.InList)) and _reads_columns_beyond_operand(node):
            return self.pair(_comparisons(node))  # each comparison guarded by its own columns
        if isinstance(node, ir.IsNull):
            column = self.column(node.operand)
            null, present = f"{column}.isna()", f"{column}.notna()"
            return (present, null) if node.negated else (null, present)
        return self.guarded(self.pred(node), node)

    def in_with_null(self, node: ir.InList) -> tuple[str, str]:
        """`x IN (.., NULL)` is TRUE on a match and never FALSE (NULL otherwise); NOT IN is the
        other way round."""
        listed = tuple(v for v in node.values if not _is_null(v))
        name = _query_name(ir.columns_of(node)[0]) if ir.columns_of(node) else None
        if name is None:
            raise Inexpressible("pandas row conditions need a column in an IN list")
        never = f"({name}.isna() & {name}.notna())"
        found = (
            self.guarded(self.pred(ir.InList(node.operand, listed)), node)[0] if listed else never
        )
        return (never, found) if node.negated else (found, never)

    def guarded(self, test: str, node: ir.Expr) -> tuple[str, str]:
        """A leaf: TRUE/FALSE only where every column it reads is present."""
        present = " & ".join(f"{_query_name(name)}.notna()" for name in ir.columns_of(node))
        if not present:  # plain Python booleans: `~False` would be -1
            return test, f"({test} == False)"
        return f"({test} & {present})", f"(~{test} & {present})"

    def pred(self, node: ir.Expr) -> str:
        if isinstance(node, ir.Col) and node.ltype.kind is Kind.BOOLEAN:
            return f"({self.column(node)} == True)"
        if isinstance(node, ir.Compare):
            return f"({self.value(node.left)} {self._OPS[node.op]} {self.value(node.right)})"
        if isinstance(node, ir.InList):
            operand = self.value(node.operand)
            found = " | ".join(f"({operand} == {self.value(v)})" for v in node.values)
            return f"~({found})" if node.negated else f"({found})"
        if isinstance(node, ir.Between):
            x = self.value(node.operand)
            inside = f"(({x} >= {self.value(node.low)}) & ({x} <= {self.value(node.high)}))"
            return f"~{inside}" if node.negated else inside
        if isinstance(node, ir.RegexSearch):
            pattern = ("(?i)" if node.case_insensitive else "") + node.pattern
            return f"{self.column(node.operand)}.str.contains({pattern!r}, regex=True)"
        raise Inexpressible(f"pandas row conditions cannot express {type(node).__name__}")

    def column(self, node: ir.Expr) -> str:
        if not isinstance(node, ir.Col):
            raise Inexpressible(
                "pandas row conditions call methods on columns only, not on expressions"
            )
        return _query_name(node.name)

    def value(self, node: ir.Expr) -> str:
        if isinstance(node, ir.Col):
            return self.column(node)
        if isinstance(node, ir.Lit):
            v = node.value
            if isinstance(v, datetime.datetime):  # pandas compares timestamps with ISO text
                utc = v.astimezone(datetime.timezone.utc) if v.tzinfo else v
                return repr(utc.isoformat())
            if v is None or isinstance(v, Decimal) or not isinstance(v, (str, int, float, bool)):
                raise Inexpressible(f"pandas row conditions cannot hold a {node.ltype} literal")
            return repr(v)
        if isinstance(node, ir.Arith) and _unsupported_decimal_arith(node):
            # pandas refuses arithmetic on pyarrow decimals of two types and a product of two
            # (TypeError; and its scale would not be SQL's): meshc judges such a rule natively
            raise Inexpressible("pandas row conditions cannot multiply decimals or mix their types")
        if isinstance(node, ir.Arith) and node.op in "+-*":
            return f"({self.value(node.left)} {node.op} {self.value(node.right)})"
        if isinstance(node, ir.Neg):
            return f"(-{self.value(node.operand)})"
        if isinstance(node, ir.StrFn):
            method = {
                "length": "str.len()",
                "upper": "str.upper()",
                "lower": "str.lower()",
                "trim": "str.strip(' ')",
                "abs": "abs()",
            }[node.fn]
            return f"{self.column(node.operand)}.{method}"
        if isinstance(node, ir.Substring):
            stop = "" if node.length is None else f", {node.start - 1 + node.length}"
            return f"{self.column(node.operand)}.str.slice({node.start - 1}{stop})"
        raise Inexpressible(
            f"pandas row conditions cannot express {type(node).__name__}"
            + (f" {node.op}" if isinstance(node, ir.Arith) else "")
        )


def _unsupported_decimal_arith(node: ir.Arith) -> bool:
    """A product of two decimals, or arithmetic between decimals of two types."""
    return decimal_operands(node) and (node.op == "*" or node.left.type != node.right.type)


def _query_name(name: str) -> str:
    return name if name.isidentifier() else "`" + name + "`"


def _is_null(node: ir.Expr) -> bool:
    return isinstance(node, ir.Lit) and node.value is None


def _reads_columns_beyond_operand(node: ir.Between | ir.InList) -> bool:
    others = (node.low, node.high) if isinstance(node, ir.Between) else node.values
    return any(ir.columns_of(v) for v in others)


def _comparisons(node: ir.Between | ir.InList) -> ir.Expr:
    """BETWEEN and IN as the comparisons SQL defines them by (same three-valued result)."""
    if isinstance(node, ir.Between):
        inside: ir.Expr = ir.And(
            ir.Compare(">=", node.operand, node.low), ir.Compare("<=", node.operand, node.high)
        )
        return ir.Not(inside) if node.negated else inside
    found: ir.Expr = ir.Compare("=", node.operand, node.values[0])
    for value in node.values[1:]:
        found = ir.Or(found, ir.Compare("=", node.operand, value))
    return ir.Not(found) if node.negated else found
