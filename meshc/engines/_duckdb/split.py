"""The validation query: cast, evaluate every check, flag and explain, in one SQL pass.

    src      the source relation (+ a row number, for the in-memory split) + per contract column
             its text with null_values as NULL (`raw`), computed once
    parts    the cast's parts (trims, TRY_CASTs, regex matches) each computed once (see _hoist)
    typed    + per contract column: its typed value and a cast-failure flag
    checked  + per check: a violation flag (predicate IS FALSE; NULL is not a violation)
    final    + the quarantine flag and `_meshc_reasons` (quarantined rows only)

`validate` materialises the result once into a temporary table (the valid and quarantine relations
and the counts are cheap reads of it); `validate_streaming` reads it once as a stream of Arrow
batches (stream.py). Internal columns are named `__meshc_*` and never leave it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from meshc.engines import spec
from meshc.engines import sql_trees as sb
from meshc.engines._duckdb.cast import column_cast
from meshc.engines._duckdb.translate import ENGINE, Translator
from meshc.engines.base import REASON_FIELDS, REASONS, ValidationPlan
from meshc.errors import SourceError
from meshc.rules import expr as ir
from meshc.rules.checks import RowCheck

ROW, QUARANTINE, REASON_LIST = spec.ROW_NUMBER, spec.QUARANTINED, spec.internal("reasons")
# A rule's text and message repeat in every row that fails it (and can be long: an IN list of
# 80 KB): as an ENUM of the plan's texts, each is held once and each row keeps a small index.
# COPY writes an ENUM to Parquet as dictionary-encoded strings, so readers see the same values.
DICTIONARY_FIELDS = ("rule", "message")


typed = spec.typed_column
cast_failed = spec.cast_failed_column
violated = spec.check_failed_column


@dataclass(frozen=True)
class Source:
    """The source relation as a registered view: its name and (column, DuckDB type) pairs."""

    view: str
    columns: tuple[tuple[str, str], ...]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]


def check_columns(source: Source, plan: ValidationPlan) -> list[str]:
    """The extra source columns; raise SourceError for missing ones (or extras under 'error')."""
    return spec.check_columns(source.names, plan)


def split_query(source: Source, plan: ValidationPlan, *, numbered: bool = True) -> exp.Select:
    """The `final` stage (see the module docstring) as one sqlglot SELECT; `numbered` adds the
    row number that orders the outputs read from a materialised table."""
    types = dict(source.columns)
    index = {c.name: i for i, c in enumerate(plan.columns)}
    src_items = [sb.alias(exp.Window(this=exp.RowNumber()), ROW)] if numbered else []
    src_items += [
        sb.alias(_null_values(sb.col(c.name), types[c.name], plan), raw(i))
        for i, c in enumerate(plan.columns)
    ]
    src = sb.select(exp.Star(), *src_items).from_(exp.Table(this=sb.ident(source.view)))
    typed_items: list[exp.Expression] = []
    for i, column in enumerate(plan.columns):
        casted = column_cast(sb.col(raw(i)), types[column.name], column.type)
        failed = sb.and_all(
            [sb.not_null(sb.col(raw(i))), exp.Not(this=sb.false_when_null(casted.ok))]
        )
        typed_items += [sb.alias(casted.value, typed(i)), sb.alias(failed, cast_failed(i))]
    parts, typed_items = _hoist(typed_items)
    inner = src
    for k, stage in enumerate(parts):
        inner = _stage(stage, inner, f"parts{k}")
    translate = Translator(lambda c: sb.col(typed(_position(index, c))))
    checked_items: list[exp.Expression] = [
        sb.alias(_violation(check, translate, index, plan), violated(j))
        for j, check in enumerate(plan.checks)
    ]
    flags: list[exp.Expression] = [sb.col(cast_failed(i)) for i in range(len(plan.columns))]
    flags += [sb.col(violated(j)) for j, c in enumerate(plan.checks) if c.severity == "error"]
    quarantine = sb.false_when_null(sb.or_all(flags))
    # no ELSE: NULL of the reasons' type, which is spelled (with every rule text) only once
    reasons = sb.case([(quarantine, _reasons(plan, types, index))])
    # what the outputs and counts read, and nothing else (not the casts' parts)
    kept = [ROW] if numbered else []
    kept += [*source.names, *(raw(i) for i in range(len(plan.columns)))]
    kept += [name for i in range(len(plan.columns)) for name in (typed(i), cast_failed(i))]
    kept += [violated(j) for j in range(len(plan.checks))]
    checked = _stage(checked_items, _stage(typed_items, inner, "typed"), "checked")
    subquery = exp.Subquery(this=checked, alias=exp.TableAlias(this=sb.ident("checked")))
    return sb.select(
        *map(sb.col, kept), sb.alias(quarantine, QUARANTINE), sb.alias(reasons, REASON_LIST)
    ).from_(subquery)


def reorders(query: exp.Select) -> bool:
    """Whether rows leave `query` out of the input order: a window over partitions (a unique
    check's count per key) regroups them, so the outputs must be ordered by the row number."""
    return any(w.args.get("partition_by") for w in query.find_all(exp.Window))


def raw(i: int) -> str:
    """Contract column i as read, with the plan's null_values as NULL."""
    return spec.internal("raw", i)


def _hoistable(node: exp.Expression) -> bool:
    """A part of a cast that is computed once, in a stage of its own, however often the cast's
    value and flag use it. Only functions that never raise: hoisting one out of a CASE branch
    evaluates it on rows the branch would have skipped."""
    if isinstance(node, (exp.TryCast, exp.Trim)):
        return True
    return isinstance(node, exp.Anonymous) and node.name.lower() in _HOISTED_FUNCTIONS


_HOISTED_FUNCTIONS = frozenset({"regexp_full_match", "regexp_replace", "regexp_matches"})


def _hoist(items: list[exp.Expression]) -> tuple[list[list[exp.Expression]], list[exp.Expression]]:
    """Common subexpressions of the cast items as stages of their own, innermost first, and the
    items reading them. A text cast spells its trim, regex match and TRY_CAST several times
    (value, flag); DuckDB evaluates each spelling, which tripled the cost of the casts. Parts
    are the same when their SQL text is (sqlglot's tree equality is not relied on)."""
    stages: list[list[exp.Expression]] = []
    while True:
        parts: dict[str, tuple[exp.Expression, str]] = {}
        for item in items:
            for node in item.find_all(exp.Expression):
                inner = (n for n in node.find_all(exp.Expression) if n is not node)
                if _hoistable(node) and not any(_hoistable(n) for n in inner):
                    name = spec.internal("part", f"{len(stages)}_{len(parts)}")
                    parts.setdefault(node.sql(), (node, name))
        if not parts:
            return stages, items
        stages.append([sb.alias(_guarded(node.copy()), name) for node, name in parts.values()])
        names = {text: name for text, (_, name) in parts.items()}
        items = [_replaced(item, names) for item in items]


def _guarded(node: exp.Expression) -> exp.Expression:
    """TRIM(x, ' ') only where x starts or ends with the character: DuckDB's TRIM with explicit
    characters costs four times the test, and most values have nothing to trim."""
    chars = node.args.get("expression") if isinstance(node, exp.Trim) else None
    if not (isinstance(chars, exp.Literal) and chars.is_string and len(chars.this) == 1):
        return node
    text = node.this
    edges = [sb.fn(f, text.copy(), chars.copy()) for f in ("starts_with", "ends_with")]
    return sb.case([(sb.or_all(edges), node)], text.copy())


def _replaced(item: exp.Expression, names: Mapping[str, str]) -> exp.Expression:
    def replace(node: exp.Expression) -> exp.Expression:
        name = names.get(node.sql()) if _hoistable(node) else None
        return sb.col(name) if name is not None else node

    return item.transform(replace)


def cast_query(source: Source, plan: ValidationPlan) -> exp.Select:
    """The typed contract columns (a failed cast is NULL) and the plan's internal columns."""
    check_columns(source, plan)
    types = dict(source.columns)
    items: list[exp.Expression] = []
    for column in plan.columns:
        raw = _null_values(sb.col(column.name), types[column.name], plan)
        casted = column_cast(raw, types[column.name], column.type)
        items.append(sb.alias(casted.value, column.name))
    items += [sb.col(n) for n in plan.internal_columns]
    return sb.select(*items).from_(exp.Table(this=sb.ident(source.view)))


def _stage(items: list[exp.Expression], inner: exp.Select, name: str) -> exp.Select:
    subquery = exp.Subquery(this=inner, alias=exp.TableAlias(this=sb.ident(name)))
    return sb.select(exp.Star(), *items).from_(subquery)


def _position(index: dict[str, int], column: ir.Col | str) -> int:
    name = column if isinstance(column, str) else column.name
    if name not in index:
        raise SourceError(f"a rule reads '{name}', which is not a contract column")
    return index[name]


def _null_values(raw: exp.Expression, source_type: str, plan: ValidationPlan) -> exp.Expression:
    """Text listed in null_values is NULL: in text columns, unless the frame was read from typed
    storage (plan.text_source False: a string stored in Parquet is data)."""
    nulls = plan.null_values
    if source_type != "VARCHAR" or not nulls or plan.text_source is False:
        return raw
    listed = exp.In(this=raw, expressions=[sb.string(v) for v in nulls])
    return sb.case([(sb.false_when_null(listed), exp.Null())], raw)


def _violation(
    check: RowCheck, translate: Translator, index: dict[str, int], plan: ValidationPlan
) -> exp.Expression:
    """FALSE is a violation, NULL is not (or an external validator's verdict says so); a column
    whose cast failed is not blamed again."""
    if check.id in plan.verdicts:
        is_false: exp.Expression = sb.col(plan.verdicts[check.id])
    else:
        try:
            predicate = check.predicate
        except NotImplementedError:
            raise spec.unsupported(f"check {check.id} ({type(check).__name__})", ENGINE) from None
        with spec.located(check):
            is_false = exp.Not(this=sb.paren(translate(predicate)))
    parts: list[exp.Expression] = [sb.false_when_null(is_false)]
    parts += [exp.Not(this=sb.col(cast_failed(_position(index, name)))) for name in check.columns]
    return sb.and_all(parts)


def _reasons(
    plan: ValidationPlan, types: Mapping[str, str], index: Mapping[str, int]
) -> exp.Expression:
    """list<struct> of every failure of the row: cast failures in column order, then checks."""
    reasons = [(spec.cast_reason(c), sb.col(cast_failed(i))) for i, c in enumerate(plan.columns)]
    reasons += [(spec.check_reason(c), sb.col(violated(j))) for j, c in enumerate(plan.checks)]
    rtype = reasons_type({n: [getattr(r, n) for r, _ in reasons] for n in DICTIONARY_FIELDS})
    entries = [sb.case([(flag, _reason(reason, plan, types, index))]) for reason, flag in reasons]
    if not entries:
        return sb.cast(exp.Array(expressions=[]), rtype)
    entry = spec.internal("reason")
    present = sb.lambda_(entry, sb.not_null(sb.col(entry)))
    return sb.cast(sb.fn("list_filter", exp.Array(expressions=entries), present), rtype)


def reasons_type(texts: Mapping[str, Sequence[str]]) -> exp.DataType:
    """STRUCT(rule_id, rule, column, value, message, severity)[]: VARCHAR fields, but each of
    DICTIONARY_FIELDS is an ENUM of its `texts` (VARCHAR when there are none: an ENUM needs a
    value). Each text is spelled once in the query."""

    def kind(name: str) -> exp.DataType:
        distinct = list(dict.fromkeys(texts.get(name, ())))
        if not distinct:
            return sb.dtype("VARCHAR")
        return exp.DataType(
            this=exp.DataType.Type.ENUM, expressions=[sb.string(t) for t in distinct]
        )

    fields = [exp.ColumnDef(this=sb.ident(n), kind=kind(n)) for n in REASON_FIELDS]
    struct = exp.DataType(this=exp.DataType.Type.STRUCT, expressions=fields, nested=True)
    return exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[struct], nested=True)


def _reason(
    reason: spec.ReasonSpec,
    plan: ValidationPlan,
    types: Mapping[str, str],
    index: Mapping[str, int],
) -> exp.Expression:
    values: list[exp.Expression] = []
    for name in REASON_FIELDS:
        if name == "value":  # the text as read (a null value is NULL), not the typed value
            value_sql: exp.Expression = exp.Null()
            if reason.column and reason.column in index:
                value_sql = sb.col(raw(index[reason.column]))
            elif reason.column:
                value_sql = _null_values(sb.col(reason.column), types[reason.column], plan)
            values.append(sb.cast(value_sql, "VARCHAR"))
        else:
            value = getattr(reason, name)
            values.append(sb.cast(sb.string(value) if value is not None else exp.Null(), "VARCHAR"))
    pairs = [
        exp.PropertyEQ(this=exp.to_identifier(n), expression=v)
        for n, v in zip(REASON_FIELDS, values, strict=True)
    ]
    return exp.Anonymous(this="struct_pack", expressions=pairs)


def lineage_items(lineage: dict[str, Any]) -> list[exp.Expression]:
    """Lineage columns as literals: strings, and `_meshc_processed_at` as a UTC TIMESTAMPTZ."""
    items: list[exp.Expression] = []
    for name, value in lineage.items():
        if isinstance(value, dt.datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
            text = aware.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
            literal: exp.Expression = sb.cast(sb.string(text + "+00:00"), "TIMESTAMPTZ")
        elif value is None:
            literal = sb.cast(exp.Null(), "VARCHAR")
        else:
            literal = sb.string(str(value))
        items.append(sb.alias(literal, name))
    return items


def valid_items(plan: ValidationPlan, extras: Sequence[str]) -> list[exp.Expression]:
    """The valid output's columns, read from the `final` stage."""
    items: list[exp.Expression] = [
        sb.alias(sb.col(typed(i)), c.name) for i, c in enumerate(plan.columns)
    ]
    if plan.extra_columns == "keep":
        items += [sb.alias(sb.cast(sb.col(n), "VARCHAR"), n) for n in extras]
    return items + lineage_items(dict(plan.lineage))


def quarantine_items(plan: ValidationPlan, source: Source) -> list[exp.Expression]:
    """The quarantine's columns: as read, except that null_values ("" by default) are NULL, as
    on every engine; then the reasons and the lineage columns."""
    index = {c.name: i for i, c in enumerate(plan.columns)}
    types = dict(source.columns)
    items: list[exp.Expression] = [
        sb.alias(
            sb.col(raw(index[n])) if n in index else _null_values(sb.col(n), types[n], plan), n
        )
        for n in spec.source_columns(source.names, plan)
    ]
    if plan.include_reasons:
        items.append(sb.alias(sb.col(REASON_LIST), REASONS))
    return items + lineage_items(dict(plan.lineage))


def valid_query(table: str, plan: ValidationPlan, extras: Sequence[str]) -> exp.Select:
    return _read(table, valid_items(plan, extras), exp.Not(this=sb.col(QUARANTINE)))


def quarantine_query(table: str, plan: ValidationPlan, source: Source) -> exp.Select:
    return _read(table, quarantine_items(plan, source), sb.col(QUARANTINE))


def _read(table: str, items: list[exp.Expression], where: exp.Expression) -> exp.Select:
    query = sb.select(*items).from_(exp.Table(this=sb.ident(table))).where(where)
    return query.order_by(exp.Ordered(this=sb.col(ROW)))


def counts_query(table: str, plan: ValidationPlan) -> exp.Select:
    """rows_in, rows_quarantined, then failures per cast column and per check."""
    items: list[exp.Expression] = [exp.Count(this=exp.Star())]
    items += [
        exp.Coalesce(
            this=exp.Sum(this=sb.case([(sb.col(f), exp.Literal.number(1))], exp.Literal.number(0))),
            expressions=[exp.Literal.number(0)],
        )
        for f in counted_flags(plan)
    ]
    return sb.select(*items).from_(exp.Table(this=sb.ident(table)))


def counted_flags(plan: ValidationPlan) -> list[str]:
    """The flags counted, in `spec.counted_split`'s order: quarantine, casts, checks."""
    flags = [QUARANTINE] + [cast_failed(i) for i in range(len(plan.columns))]
    return flags + [violated(j) for j in range(len(plan.checks))]
