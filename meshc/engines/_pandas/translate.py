"""ir.Expr -> a native pandas expression: a function from an `Env` to a Series.

`translate` walks the tree once, up front, through a dispatch table keyed by node class, so an
unsupported node fails before any data is touched (UnsupportedConstruct, code MC390). Evaluation
is vectorised over whole columns; NULL is pandas NA in nullable/arrow dtypes, and `&`, `|`, `~` on
the `boolean` dtype are SQL's three-valued logic.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from meshc.engines import spec
from meshc.engines._pandas import numeric, temporal
from meshc.engines._pandas.cast import RULE_CASTS
from meshc.engines._pandas.coerce import literal, unify
from meshc.engines._pandas.dtypes import as_boolean, from_arrow, to_arrow
from meshc.engines._pandas.native import ENGINE, Env, Native, unsupported
from meshc.rules import expr as ir
from meshc.types import STRING, Kind


def translate(node: ir.Expr) -> Native:
    """Compile an expression tree to a native pandas expression (raises UnsupportedConstruct)."""
    handler = _HANDLERS.get(type(node))
    if handler is None:
        raise spec.no_handler(node, ENGINE)
    return handler(node)


def evaluate(node: ir.Expr, frame: pd.DataFrame) -> pd.Series:
    """Evaluate a row expression over `frame` (one result per row)."""
    return translate(node)(Env(frame, len(frame)))


# -- leaves ----------------------------------------------------------------------------------------
def _col(node: ir.Col) -> Native:
    return lambda env: env.frame[node.name]


def _lit(node: ir.Lit) -> Native:
    return lambda env: literal(node.value, node.ltype, env.length)


# -- logic -----------------------------------------------------------------------------------------
def compare(op: str, left: ir.Expr, right: ir.Expr) -> Native:
    lf, rf = translate(left), translate(right)
    compare_op = spec.COMPARISONS[op]

    def run(env: Env) -> pd.Series:
        (a, b), _ = unify([lf(env), rf(env)], [left.type, right.type])
        return as_boolean(compare_op(a, b))

    return run


def _compare(node: ir.Compare) -> Native:
    return compare(node.op, node.left, node.right)


def _and(node: ir.And) -> Native:
    lf, rf = translate(node.left), translate(node.right)
    return lambda env: as_boolean(lf(env)) & as_boolean(rf(env))


def _or(node: ir.Or) -> Native:
    lf, rf = translate(node.left), translate(node.right)
    return lambda env: as_boolean(lf(env)) | as_boolean(rf(env))


def _negate(inner: Native) -> Native:
    return lambda env: ~as_boolean(inner(env))


def _not(node: ir.Not) -> Native:
    return _negate(translate(node.operand))


def _is_null(node: ir.IsNull) -> Native:
    inner = translate(node.operand)
    if node.negated:
        return lambda env: as_boolean(inner(env).notna())
    return lambda env: as_boolean(inner(env).isna())


def _in_list(node: ir.InList) -> Native:
    kind = node.operand.type.kind if node.operand.type else None
    fast = kind in (Kind.STRING, Kind.INTEGER) and all(
        isinstance(v, ir.Lit) and v.value is not None and v.type is not None and v.type.kind is kind
        for v in node.values
    )
    if fast:  # one hash lookup instead of one comparison per value
        operand = translate(node.operand)
        values = [v.value for v in node.values if isinstance(v, ir.Lit)]

        def run(env: Env) -> pd.Series:
            series = operand(env)
            return as_boolean(pd.Series(series.isin(values).to_numpy(dtype=bool))).mask(
                series.isna().to_numpy(dtype=bool)
            )

        found: Native = run
    else:  # x IN (a, b) is x = a OR x = b, which gives SQL's NULL rules for free
        parts = [compare("=", node.operand, v) for v in node.values]
        found = lambda env: reduce(lambda acc, p: acc | p(env), parts[1:], parts[0](env))  # noqa: E731
    return _negate(found) if node.negated else found


def _between(node: ir.Between) -> Native:
    low, high = compare(">=", node.operand, node.low), compare("<=", node.operand, node.high)
    inside: Native = lambda env: low(env) & high(env)  # noqa: E731
    return _negate(inside) if node.negated else inside


def _regex_search(node: ir.RegexSearch) -> Native:
    inner = translate(node.operand)
    # pyarrow's kernel is RE2, the flavour DuckDB uses; the portable subset reads the same on both.
    pattern = ("(?i)" if node.case_insensitive else "") + node.pattern
    return lambda env: from_arrow(
        pc.match_substring_regex(to_arrow(inner(env)), pattern), Kind.BOOLEAN
    )


def _is_duplicate(node: ir.IsDuplicate) -> Native:
    names = [c.name for c in node.columns]

    def run(env: Env) -> pd.Series:
        keys = env.frame[names]
        # duplicated() treats NA as equal to NA; SQL never does, so NULL keys are never duplicates.
        duplicated = keys.duplicated(keep=False).to_numpy() & ~keys.isna().any(axis=1).to_numpy()
        return pd.Series(pd.array(duplicated, dtype="boolean"), index=keys.index)

    return run


# -- values ----------------------------------------------------------------------------------------
def _case(node: ir.Case) -> Native:
    whens = [(translate(c), translate(v), v.type) for c, v in node.whens]
    default, default_type = translate(node.default), node.default.type

    def run(env: Env) -> pd.Series:
        values, _ = unify(
            [v(env) for _, v, _ in whens] + [default(env)],
            [t for _, _, t in whens] + [default_type],
            node.ltype,
            one_dtype=True,
        )
        result = values[-1]
        for (cond, _, _), value in reversed(list(zip(whens, values[:-1], strict=True))):
            taken = as_boolean(cond(env)).fillna(False).to_numpy(dtype=bool)
            result = value.where(taken, result)  # earlier branches win: applied last
        return result

    return run


def _coalesce(node: ir.Coalesce) -> Native:
    args = [(translate(a), a.type) for a in node.args]

    def run(env: Env) -> pd.Series:
        values, _ = unify(
            [f(env) for f, _ in args], [t for _, t in args], node.ltype, one_dtype=True
        )
        return reduce(lambda acc, nxt: acc.where(acc.notna(), nxt), values)

    return run


def _cast(node: ir.Cast) -> Native:
    source = node.operand.type
    inner = translate(node.operand)
    if source is None:  # CAST(NULL AS t)
        return lambda env: literal(None, node.to, env.length)
    cast = RULE_CASTS.get((source.kind, node.to.kind))
    if cast is None:
        raise unsupported(f"CAST from {source} to {node.to}")
    return lambda env: cast(inner(env), node.to)


def _str_fn(node: ir.StrFn) -> Native:
    inner = translate(node.operand)
    if node.fn == "abs":
        return numeric.absolute(inner, node.operand.type)
    kernels: dict[str, Callable[[pa.Array], pa.Array]] = {
        "length": lambda a: pc.utf8_length(a).cast(pa.int64()),  # characters, not bytes
        "upper": pc.utf8_upper,
        "lower": pc.utf8_lower,
        "trim": lambda a: pc.utf8_trim(a, " "),  # spaces only, both ends
    }
    kernel, kind = kernels[node.fn], (Kind.INTEGER if node.fn == "length" else Kind.STRING)
    return lambda env: from_arrow(kernel(to_arrow(inner(env))), kind)


def _substring(node: ir.Substring) -> Native:
    inner = translate(node.operand)
    start = node.start - 1  # SQL is 1-based
    stop = {} if node.length is None else {"stop": start + node.length}
    # utf8_slice_codeunits counts characters (UTF-8 code points), not bytes.
    return lambda env: from_arrow(
        pc.utf8_slice_codeunits(to_arrow(inner(env)), start, **stop), Kind.STRING
    )


def _concat(node: ir.Concat) -> Native:
    args = [(translate(a), a.type) for a in node.args]

    def run(env: Env) -> pd.Series:
        parts = [
            to_arrow(f(env) if t is not None else literal(None, STRING, env.length)).cast(
                pa.string()
            )
            for f, t in args
        ]
        # emit_null: NULL when any argument is NULL (the spec; DuckDB's CONCAT would skip NULLs).
        return from_arrow(
            pc.binary_join_element_wise(*parts, "", null_handling="emit_null"), Kind.STRING
        )

    return run


def _arith(node: ir.Arith) -> Native:
    return numeric.arith(node, translate)


def _neg(node: ir.Neg) -> Native:
    return numeric.negate(node, translate)


def _agg(node: ir.Agg) -> Native:
    return numeric.aggregate(node, translate)


def _date_add(node: ir.DateAdd) -> Native:
    return temporal.date_add(node, translate)


def _date_diff_days(node: ir.DateDiffDays) -> Native:
    return temporal.date_diff_days(node, translate)


# one function per node class, found by name: `_in_list` translates `InList`
_HANDLERS: dict[type[ir.Expr], Callable[[ir.Expr], Native]] = spec.handlers(globals())

__all__ = ["Env", "Native", "evaluate", "translate", "unsupported"]
