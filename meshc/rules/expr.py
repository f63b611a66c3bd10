"""The typed expression IR that every rule compiles to.

Small frozen nodes whose class *is* the meaning. `meshc.rules.sql` lowers a parsed, whitelisted
SQL tree into these nodes; every engine translates the same nodes (Polars and pandas natively,
DuckDB and Spark through sqlglot expressions). Every node carries its result `type`.

Semantics every engine must implement identically (docs/rule-dialect.md):
- three-valued logic; a rule is violated only when it evaluates to FALSE;
- `/` is float division, and division by zero yields NULL;
- `RegexSearch` is an unanchored search; LIKE/ILIKE are lowered to an anchored RegexSearch;
- `Concat` is NULL when any argument is NULL;
- `Cast` of a float to integer truncates toward zero; a failed cast yields NULL;
- `DateAdd` with months/years clamps to the end of the month.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

from meshc.types import BOOLEAN, DATE, INTEGER, STRING, TIMESTAMP_TZ, LogicalType

CompareOp = Literal["=", "!=", "<", "<=", ">", ">="]
ArithOp = Literal["+", "-", "*", "/", "%"]
Unit = Literal["year", "month", "day", "hour", "minute", "second"]
AggFunc = Literal["count", "count_all", "sum", "avg", "min", "max", "count_distinct"]
StrFunc = Literal["length", "upper", "lower", "trim", "abs"]


@dataclass(frozen=True)
class Expr:
    def children(self) -> Iterator[Expr]:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Expr):
                yield value
            elif isinstance(value, tuple):
                for item in value:
                    if isinstance(item, Expr):
                        yield item
                    elif isinstance(item, tuple):
                        yield from (x for x in item if isinstance(x, Expr))

    def walk(self) -> Iterator[Expr]:
        yield self
        for child in self.children():
            yield from child.walk()

    @property
    def type(self) -> LogicalType | None:  # overridden where the type is not BOOLEAN
        return BOOLEAN


@dataclass(frozen=True)
class Col(Expr):
    name: str
    ltype: LogicalType

    @property
    def type(self) -> LogicalType:
        return self.ltype


@dataclass(frozen=True)
class Lit(Expr):
    """A literal; value is None for NULL. Dates/timestamps are datetime.date/datetime objects,
    decimals are decimal.Decimal."""

    value: Any
    ltype: LogicalType | None

    @property
    def type(self) -> LogicalType | None:
        return self.ltype


@dataclass(frozen=True)
class Compare(Expr):
    op: CompareOp
    left: Expr
    right: Expr


@dataclass(frozen=True)
class And(Expr):
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Or(Expr):
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not(Expr):
    operand: Expr


@dataclass(frozen=True)
class IsNull(Expr):
    operand: Expr
    negated: bool = False


@dataclass(frozen=True)
class InList(Expr):
    operand: Expr
    values: tuple[Expr, ...]
    negated: bool = False


@dataclass(frozen=True)
class Between(Expr):
    operand: Expr
    low: Expr
    high: Expr
    negated: bool = False


@dataclass(frozen=True)
class RegexSearch(Expr):
    """True when `pattern` matches anywhere in operand (search semantics). The pattern is a
    compile-time constant in the portable regex subset (meshc.rules.regex)."""

    operand: Expr
    pattern: str
    case_insensitive: bool = False


@dataclass(frozen=True)
class Arith(Expr):
    op: ArithOp
    left: Expr
    right: Expr
    ltype: LogicalType

    @property
    def type(self) -> LogicalType:
        return self.ltype


@dataclass(frozen=True)
class Neg(Expr):
    operand: Expr

    @property
    def type(self) -> LogicalType | None:
        return self.operand.type


@dataclass(frozen=True)
class Case(Expr):
    whens: tuple[tuple[Expr, Expr], ...]
    default: Expr
    ltype: LogicalType | None

    @property
    def type(self) -> LogicalType | None:
        return self.ltype


@dataclass(frozen=True)
class Coalesce(Expr):
    args: tuple[Expr, ...]
    ltype: LogicalType | None

    @property
    def type(self) -> LogicalType | None:
        return self.ltype


@dataclass(frozen=True)
class Cast(Expr):
    operand: Expr
    to: LogicalType

    @property
    def type(self) -> LogicalType:
        return self.to


@dataclass(frozen=True)
class StrFn(Expr):
    """LENGTH (characters), UPPER, LOWER, TRIM (spaces both ends), ABS (numeric)."""

    fn: StrFunc
    operand: Expr

    @property
    def type(self) -> LogicalType | None:
        if self.fn == "length":
            return INTEGER
        return self.operand.type


@dataclass(frozen=True)
class Substring(Expr):
    """SUBSTRING(s, start[, length]) with 1-based start, in characters."""

    operand: Expr
    start: int
    length: int | None

    @property
    def type(self) -> LogicalType:
        return STRING


@dataclass(frozen=True)
class Concat(Expr):
    args: tuple[Expr, ...]

    @property
    def type(self) -> LogicalType:
        return STRING


@dataclass(frozen=True)
class DateAdd(Expr):
    """operand + amount unit (amount may be negative)."""

    operand: Expr
    amount: int
    unit: Unit

    @property
    def type(self) -> LogicalType | None:
        return self.operand.type


@dataclass(frozen=True)
class DateDiffDays(Expr):
    """left - right for two dates: whole days, as an integer."""

    left: Expr
    right: Expr

    @property
    def type(self) -> LogicalType:
        return INTEGER


@dataclass(frozen=True)
class CurrentDate(Expr):
    """Bound to one value per run (see bind_now) so every engine sees the same date."""

    @property
    def type(self) -> LogicalType:
        return DATE


@dataclass(frozen=True)
class CurrentTimestamp(Expr):
    @property
    def type(self) -> LogicalType:
        return TIMESTAMP_TZ


@dataclass(frozen=True)
class IsDuplicate(Expr):
    """True when another row has the same non-NULL values in `columns` (window count > 1).
    Rows with a NULL in any key column are never duplicates (SQL UNIQUE semantics)."""

    columns: tuple[Col, ...]

    @property
    def type(self) -> LogicalType:
        return BOOLEAN


@dataclass(frozen=True)
class Agg(Expr):
    """An aggregate, allowed only in dataset SQL rules. `operand` is None for COUNT(*)."""

    fn: AggFunc
    operand: Expr | None
    ltype: LogicalType | None

    @property
    def type(self) -> LogicalType | None:
        return self.ltype


def bind_now(expr: Expr, today: Any, now: Any) -> Expr:
    """Replace CURRENT_DATE/CURRENT_TIMESTAMP by literals, fixed once per run."""
    if isinstance(expr, CurrentDate):
        return Lit(today, DATE)
    if isinstance(expr, CurrentTimestamp):
        return Lit(now, TIMESTAMP_TZ)
    changes: dict[str, Any] = {}
    for f in fields(expr):
        value = getattr(expr, f.name)
        if isinstance(value, Expr):
            changes[f.name] = bind_now(value, today, now)
        elif isinstance(value, tuple) and value:
            changes[f.name] = tuple(
                bind_now(v, today, now)
                if isinstance(v, Expr)
                else tuple(bind_now(x, today, now) for x in v)
                if isinstance(v, tuple)
                else v
                for v in value
            )
    return replace(expr, **changes) if changes else expr


def columns_of(expr: Expr) -> tuple[str, ...]:
    """Column names an expression reads, in first-seen order."""
    seen: dict[str, None] = {}
    for node in expr.walk():
        if isinstance(node, Col):
            seen.setdefault(node.name, None)
    return tuple(seen)
