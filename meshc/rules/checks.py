"""The check IR: one small frozen class per kind of check a contract can declare.

Row checks carry a `predicate` (an Expr that must not be FALSE); engines only translate Exprs,
while emitters (Pandera, Great Expectations) may use a kind's native form. Dataset checks are
evaluated over the whole dataset and fail the run rather than quarantine rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from meshc.rules import expr as ir

Severity = Literal["error", "warn"]


@dataclass(frozen=True)
class Origin:
    """Where a check was declared, for diagnostics and reports."""

    path: str
    line: int
    col: int


class FieldCheckMeta(TypedDict):
    """What every check derived from a field constraint shares (for ** unpacking, typed)."""

    severity: Severity
    description: str | None


class DatasetMeta(TypedDict):
    severity: Severity
    origin: Origin
    description: str | None


class CheckMeta(TypedDict):
    id: str
    severity: Severity
    rule: str
    origin: Origin
    description: str | None


@dataclass(frozen=True)
class RowCheck:
    id: str
    severity: Severity
    rule: str  # human-readable text of the rule, as declared
    origin: Origin
    description: str | None

    @property
    def predicate(self) -> ir.Expr:
        raise NotImplementedError

    @property
    def columns(self) -> tuple[str, ...]:
        return ir.columns_of(self.predicate)


@dataclass(frozen=True)
class NotNull(RowCheck):
    column: ir.Col

    @property
    def predicate(self) -> ir.Expr:
        return ir.IsNull(self.column, negated=True)


@dataclass(frozen=True)
class AcceptedValues(RowCheck):
    column: ir.Col
    values: tuple[ir.Lit, ...]

    @property
    def predicate(self) -> ir.Expr:
        return ir.InList(self.column, self.values)


@dataclass(frozen=True)
class Range(RowCheck):
    column: ir.Col
    min: ir.Lit | None
    max: ir.Lit | None

    @property
    def predicate(self) -> ir.Expr:
        parts: list[ir.Expr] = []
        if self.min is not None:
            parts.append(ir.Compare(">=", self.column, self.min))
        if self.max is not None:
            parts.append(ir.Compare("<=", self.column, self.max))
        return parts[0] if len(parts) == 1 else ir.And(parts[0], parts[1])


@dataclass(frozen=True)
class Pattern(RowCheck):
    column: ir.Col
    regex: str

    @property
    def predicate(self) -> ir.Expr:
        return ir.RegexSearch(self.column, self.regex)


@dataclass(frozen=True)
class MaxLength(RowCheck):
    column: ir.Col
    max_length: int

    @property
    def predicate(self) -> ir.Expr:
        from meshc.types import INTEGER

        return ir.Compare("<=", ir.StrFn("length", self.column), ir.Lit(self.max_length, INTEGER))


@dataclass(frozen=True)
class Unique(RowCheck):
    """Every row whose key occurs more than once is quarantined (all of them, on every engine:
    no engine-dependent 'first row wins')."""

    key: tuple[ir.Col, ...]

    @property
    def predicate(self) -> ir.Expr:
        return ir.Not(ir.IsDuplicate(self.key))


@dataclass(frozen=True)
class SqlRule(RowCheck):
    expr: ir.Expr
    sql: str

    @property
    def predicate(self) -> ir.Expr:
        return self.expr


@dataclass(frozen=True)
class ForeignKey(RowCheck):
    """The value must exist in another contract's field; resolved by the runner at run time."""

    column: ir.Col
    target: str  # domain.contract.field

    @property
    def predicate(self) -> ir.Expr:
        raise NotImplementedError(
            "foreign keys are evaluated by the runner against the target data"
        )

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column.name,)


@dataclass(frozen=True)
class DatasetCheck:
    id: str
    severity: Severity
    rule: str
    origin: Origin
    description: str | None


@dataclass(frozen=True)
class RowCount(DatasetCheck):
    min: int | None
    max: int | None


@dataclass(frozen=True)
class NullRatio(DatasetCheck):
    column: ir.Col
    max: float


@dataclass(frozen=True)
class Freshness(DatasetCheck):
    column: ir.Col
    max_age_seconds: int


@dataclass(frozen=True)
class AggregateSql(DatasetCheck):
    expr: ir.Expr
    sql: str


@dataclass(frozen=True)
class CompiledContract:
    """A contract compiled to checks: the hand-off from compiler to engines and emitters."""

    contract: Any  # meshc.contract.Contract (Any avoids an import cycle in type checkers)
    row_checks: tuple[RowCheck, ...]
    dataset_checks: tuple[DatasetCheck, ...]
    # columns rules read that the model does not declare (read as strings; see MC310)
    implicit_columns: tuple[str, ...] = ()

    @property
    def evaluable_row_checks(self) -> tuple[RowCheck, ...]:
        """Row checks an engine evaluates on its own (foreign keys need the runner)."""
        return tuple(c for c in self.row_checks if not isinstance(c, ForeignKey))
