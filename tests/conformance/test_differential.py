"""Differential testing: random rows and random rule IR trees must get the same per-row verdicts
(valid, or quarantined for exactly these rules) on every engine.

The expressions are built directly from `meshc.rules.expr` nodes, type-correct by construction, so
every generated rule is one the compiler could have produced. The rows are written once to a CSV
that every engine reads, as text, through its own `read` + `validate`: exactly the production path.

Generated trees stay inside what the spec defines, so a failure is an engine disagreement rather
than a question for the spec: 64-bit extremes are only compared (never computed with, so no
overflow), arithmetic runs on small bounded columns, computed NaN cannot arise (the float column
used in arithmetic is finite), and case-insensitive regexes are ASCII.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from meshc.engines.base import ColumnSpec, ValidationPlan
from meshc.rules import expr as ir
from meshc.rules.checks import Origin, SqlRule
from meshc.types import BOOLEAN, DATE, FLOAT, INTEGER, STRING, LogicalType
from tests.conformance.corpus import Outcome, validate_csv

LOCAL_ENGINES = ("polars", "pandas", "duckdb")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# i: full 64-bit range (compared only); j: small (arithmetic); f: floats with +-inf (compared only);
# g: finite quarters (arithmetic); s, t: short unicode strings; d, e: dates.
COLUMNS = (
    ColumnSpec("id", STRING),
    ColumnSpec("i", INTEGER),
    ColumnSpec("j", INTEGER),
    ColumnSpec("f", FLOAT),
    ColumnSpec("g", FLOAT),
    ColumnSpec("s", STRING),
    ColumnSpec("t", STRING),
    ColumnSpec("d", DATE),
    ColumnSpec("e", DATE),
)
ALPHABET = "aAbzZ éÉñ😀%_1"
PATTERNS = (
    "^a",
    "b$",
    "[0-9]",
    "é",
    "^[a-z]+$",
    "a.b",
    "😀",
    " ",
    "^(?s:.*)z(?s:.*)$",
    "^a(?s:.)$",
    "^$",
    "[%_]",
    "ñ|Z",
    "^(a|b)+",
)
CI_PATTERNS = ("^a", "z$", "ab", "^[a-z]+$")
DATE_MIN, DATE_MAX = dt.date(2000, 1, 1), dt.date(2030, 12, 31)


def col(name: str) -> ir.Col:
    return ir.Col(name, next(c.type for c in COLUMNS if c.name == name))


# -- rows -------------------------------------------------------------------------------------
def _nullable(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


ROW = st.fixed_dictionaries(
    {
        "i": _nullable(
            st.one_of(
                st.sampled_from([INT64_MIN, INT64_MAX, INT64_MAX - 1, 0, -1, 1]),
                st.integers(INT64_MIN, INT64_MAX),
            )
        ),
        "j": _nullable(st.integers(-20, 20)),
        "f": _nullable(
            st.one_of(
                st.sampled_from([float("inf"), float("-inf"), 0.0, -0.0]),
                st.integers(-400, 400).map(lambda x: x / 4),
            )
        ),
        "g": _nullable(st.integers(-40, 40).map(lambda x: x / 4)),
        "s": _nullable(st.text(ALPHABET, min_size=1, max_size=5)),
        "t": _nullable(st.text(ALPHABET, min_size=1, max_size=5)),
        "d": _nullable(st.dates(DATE_MIN, DATE_MAX)),
        "e": _nullable(st.dates(DATE_MIN, DATE_MAX)),
    }
)
# Each example runs every engine once, and an engine's fixed cost per run (planning, reading,
# SQL generation) outweighs a few more rows and rules: examples carry 3-9 rules over up to 24
# rows, so a third of the examples judge as many rule trees, each on more rows.
ROWS = st.lists(ROW, min_size=1, max_size=24)


def _text(value: Any) -> str:
    if value is None:
        return ""  # the default null_values: an empty cell is NULL
    if isinstance(value, float):
        return "inf" if value == float("inf") else "-inf" if value == float("-inf") else repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_rows(rows: Sequence[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([c.name for c in COLUMNS])
        for n, row in enumerate(rows):
            writer.writerow([f"r{n}"] + [_text(row[c.name]) for c in COLUMNS[1:]])


# -- expressions ------------------------------------------------------------------------------
SMALL_INT = st.integers(-5, 5).map(lambda v: ir.Lit(v, INTEGER))
QUARTER = st.integers(-20, 20).map(lambda v: ir.Lit(v / 4, FLOAT))
BIG_INT = st.one_of(
    st.sampled_from([INT64_MIN + 1, INT64_MAX, INT64_MAX - 1, 0, -1]),
    st.integers(INT64_MIN + 1, INT64_MAX),
).map(lambda v: ir.Lit(v, INTEGER))
FLOAT_LIT = st.one_of(
    QUARTER, st.sampled_from([ir.Lit(float("inf"), FLOAT), ir.Lit(float("-inf"), FLOAT)])
)
STR_LIT = st.text(ALPHABET, min_size=0, max_size=4).map(lambda v: ir.Lit(v, STRING))
DATE_LIT = st.dates(DATE_MIN, DATE_MAX).map(lambda v: ir.Lit(v, DATE))
# The compiler types every NULL literal from its context (meshc.rules.sql._typed_null), so the
# trees engines receive never hold an untyped NULL: generate them the same way.
INT_NULL = st.just(ir.Lit(None, INTEGER))
STR_NULL = st.just(ir.Lit(None, STRING))
CMP = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])


def _case(
    cond: st.SearchStrategy[ir.Expr], value: st.SearchStrategy[ir.Expr], ltype: LogicalType
) -> st.SearchStrategy[ir.Expr]:
    return st.builds(
        lambda c, v, dflt: ir.Case(((c, v),), dflt, ltype),
        cond,
        value,
        st.one_of(value, st.just(ir.Lit(None, ltype))),
    )


def _coalesce(value: st.SearchStrategy[ir.Expr], ltype: LogicalType) -> st.SearchStrategy[ir.Expr]:
    return st.lists(value, min_size=2, max_size=3).map(lambda args: ir.Coalesce(tuple(args), ltype))


def _simple_bool() -> st.SearchStrategy[ir.Expr]:
    """Predicates over raw columns: the family that covers NULLs and 64-bit/inf extremes."""
    return st.one_of(
        st.builds(ir.Compare, CMP, st.just(col("i")), BIG_INT),
        st.builds(ir.Compare, CMP, st.just(col("f")), FLOAT_LIT),
        st.builds(ir.Compare, CMP, st.just(col("j")), st.sampled_from([col("g"), col("j")])),
        st.builds(ir.Compare, CMP, st.just(col("s")), st.one_of(STR_LIT, st.just(col("t")))),
        st.builds(ir.Compare, CMP, st.just(col("d")), st.one_of(DATE_LIT, st.just(col("e")))),
        st.builds(ir.IsNull, st.sampled_from([col(c.name) for c in COLUMNS[1:]]), st.booleans()),
        st.builds(
            lambda o, v, n: ir.InList(o, tuple(v), n),
            st.just(col("i")),
            st.lists(st.one_of(BIG_INT, INT_NULL), min_size=1, max_size=3),
            st.booleans(),
        ),
        st.builds(
            lambda o, v, n: ir.InList(o, tuple(v), n),
            st.just(col("s")),
            st.lists(st.one_of(STR_LIT, STR_NULL), min_size=1, max_size=3),
            st.booleans(),
        ),
        st.builds(ir.Between, st.just(col("i")), BIG_INT, BIG_INT, st.booleans()),
        st.builds(ir.Between, st.just(col("f")), FLOAT_LIT, FLOAT_LIT, st.booleans()),
        st.builds(ir.Between, st.just(col("d")), DATE_LIT, DATE_LIT, st.booleans()),
        st.sampled_from([ir.Lit(True, BOOLEAN), ir.Lit(False, BOOLEAN), ir.Lit(None, BOOLEAN)]),
    )


def _logic(leaf: st.SearchStrategy[ir.Expr]) -> st.SearchStrategy[ir.Expr]:
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(ir.And, inner, inner),
            st.builds(ir.Or, inner, inner),
            st.builds(ir.Not, inner),
            st.builds(ir.IsNull, inner, st.booleans()),
        ),
        max_leaves=5,
    )


def _num_leaf() -> st.SearchStrategy[ir.Expr]:
    return st.one_of(st.sampled_from([col("j"), col("g")]), SMALL_INT, QUARTER)


def _arith(left: ir.Expr, op: str, right: ir.Expr) -> ir.Expr:
    kinds = {left.type, right.type}
    ltype = FLOAT if op == "/" or FLOAT in kinds else INTEGER
    return ir.Arith(op, left, right, ltype)  # type: ignore[arg-type]


def _num(bool_leaf: st.SearchStrategy[ir.Expr]) -> st.SearchStrategy[ir.Expr]:
    def extend(inner: st.SearchStrategy[ir.Expr]) -> st.SearchStrategy[ir.Expr]:
        ints = inner.filter(lambda x: x.type == INTEGER)
        return st.one_of(
            st.builds(_arith, inner, st.sampled_from(["+", "-", "*", "/"]), inner),
            st.builds(
                _arith, ints, st.just("%"), st.integers(1, 4).map(lambda v: ir.Lit(v, INTEGER))
            ),
            st.builds(ir.Neg, inner),
            st.builds(lambda x: ir.StrFn("abs", x), inner),
            st.builds(
                lambda a, b: ir.Coalesce((a, b), FLOAT if FLOAT in {a.type, b.type} else INTEGER),
                inner,
                inner,
            ),
            st.builds(
                lambda c, a, b: ir.Case(
                    ((c, a),), b, FLOAT if FLOAT in {a.type, b.type} else INTEGER
                ),
                bool_leaf,
                inner,
                inner,
            ),
        )

    return st.recursive(_num_leaf(), extend, max_leaves=4)


def _arith_bool() -> st.SearchStrategy[ir.Expr]:
    num = _num(_simple_bool())
    return st.one_of(
        st.builds(ir.Compare, CMP, num, num),
        st.builds(
            ir.Between,
            num,
            st.one_of(SMALL_INT, QUARTER),
            st.one_of(SMALL_INT, QUARTER),
            st.booleans(),
        ),
        st.builds(
            # a NULL in the list takes the operand's type, as the compiler types it
            lambda o, v, n: ir.InList(
                o, tuple(ir.Lit(None, o.type) if x is None else x for x in v), n
            ),
            num,
            st.lists(st.one_of(SMALL_INT, QUARTER, st.none()), min_size=1, max_size=3),
            st.booleans(),
        ),
        st.builds(ir.IsNull, num, st.booleans()),
    )


def _str(bool_leaf: st.SearchStrategy[ir.Expr]) -> st.SearchStrategy[ir.Expr]:
    def extend(inner: st.SearchStrategy[ir.Expr]) -> st.SearchStrategy[ir.Expr]:
        return st.one_of(
            st.builds(ir.StrFn, st.sampled_from(["upper", "lower", "trim"]), inner),
            st.builds(
                ir.Substring, inner, st.integers(1, 3), st.one_of(st.none(), st.integers(0, 3))
            ),
            st.lists(inner, min_size=2, max_size=3).map(lambda a: ir.Concat(tuple(a))),
            _coalesce(inner, STRING),
            _case(bool_leaf, inner, STRING),
        )

    return st.recursive(
        st.one_of(st.sampled_from([col("s"), col("t")]), STR_LIT), extend, max_leaves=4
    )


def _string_bool() -> st.SearchStrategy[ir.Expr]:
    text = _str(_simple_bool())
    return st.one_of(
        st.builds(ir.Compare, CMP, text, st.one_of(text, STR_LIT)),
        st.builds(ir.RegexSearch, text, st.sampled_from(PATTERNS), st.just(False)),
        st.builds(ir.RegexSearch, text, st.sampled_from(CI_PATTERNS), st.just(True)),
        st.builds(ir.Compare, CMP, st.builds(ir.StrFn, st.just("length"), text), SMALL_INT),
        st.builds(
            lambda o, v, n: ir.InList(o, tuple(v), n),
            text,
            st.lists(st.one_of(STR_LIT, STR_NULL), min_size=1, max_size=3),
            st.booleans(),
        ),
        st.builds(ir.IsNull, text, st.booleans()),
    )


def _date(bool_leaf: st.SearchStrategy[ir.Expr]) -> st.SearchStrategy[ir.Expr]:
    def extend(inner: st.SearchStrategy[ir.Expr]) -> st.SearchStrategy[ir.Expr]:
        return st.one_of(
            st.builds(
                ir.DateAdd, inner, st.integers(-13, 13), st.sampled_from(["day", "month", "year"])
            ),
            _coalesce(inner, DATE),
            _case(bool_leaf, inner, DATE),
        )

    return st.recursive(
        st.one_of(st.sampled_from([col("d"), col("e")]), DATE_LIT), extend, max_leaves=3
    )


def _date_bool() -> st.SearchStrategy[ir.Expr]:
    date = _date(_simple_bool())
    return st.one_of(
        st.builds(ir.Compare, CMP, date, st.one_of(date, DATE_LIT)),
        st.builds(ir.Between, date, DATE_LIT, DATE_LIT, st.booleans()),
        st.builds(
            ir.Compare,
            CMP,
            st.builds(ir.DateDiffDays, date, date),
            st.integers(-400, 400).map(lambda v: ir.Lit(v, INTEGER)),
        ),
        st.builds(ir.IsNull, date, st.booleans()),
    )


FAMILIES: dict[str, Callable[[], st.SearchStrategy[ir.Expr]]] = {
    "logic": lambda: _logic(_simple_bool()),
    "arithmetic": lambda: _logic(_arith_bool()),
    "strings": lambda: _logic(_string_bool()),
    "dates": lambda: _logic(_date_bool()),
}


def rules(family: st.SearchStrategy[ir.Expr]) -> st.SearchStrategy[list[ir.Expr]]:
    return st.lists(family, min_size=3, max_size=9)


def show(e: ir.Expr) -> str:
    """The tree as DuckDB SQL, for failure messages: meshc's own renderer, not a second printer."""
    from meshc.engines import sql_trees
    from meshc.engines._duckdb.translate import translate

    return sql_trees.render(translate(e))


def plan_for(exprs: Sequence[ir.Expr]) -> ValidationPlan:
    checks = tuple(
        SqlRule(
            id=f"rule{n}",
            severity="error",
            rule=repr(e),
            origin=Origin("<generated>", 0, 0),
            description=None,
            expr=e,
            sql="<generated>",
        )
        for n, e in enumerate(exprs)
    )
    return ValidationPlan(columns=COLUMNS, checks=checks)


def verdicts(outcome: Outcome) -> dict[str, tuple[str, ...]]:
    """Row id -> the rules it broke ((), when the row is valid)."""
    result: dict[str, tuple[str, ...]] = {row_id: () for row_id in outcome.valid}
    result.update(outcome.quarantined)
    return dict(sorted(result.items()))


def _run(engine: str, plan: ValidationPlan, path: Path) -> dict[str, tuple[str, ...]] | str:
    """The verdicts, or the error an engine raised (an error is a disagreement, reported as one)."""
    try:
        return verdicts(validate_csv(engine, plan, path))
    except Exception as exc:  # noqa: BLE001 - any engine error is a finding, shown with the others
        return f"error {type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"


def assert_same_verdicts(
    engines: Sequence[str], rows: list[dict[str, Any]], exprs: list[ir.Expr], folder: Path
) -> None:
    path = folder / "rows.csv"
    write_rows(rows, path)
    plan = plan_for(exprs)
    results = {name: _run(name, plan, path) for name in engines}
    reference_name = engines[0]
    reference = results[reference_name]
    for name, got in results.items():
        if got != reference:
            if isinstance(got, str) or isinstance(reference, str):
                diff: Any = {reference_name: reference, name: got}
            else:
                diff = {
                    k: (reference.get(k), got.get(k))
                    for k in sorted(set(reference) | set(got))
                    if reference.get(k) != got.get(k)
                }
            rules_text = "\n".join(f"  rule{n}: {show(e)}" for n, e in enumerate(exprs))
            pytest.fail(
                f"{reference_name} and {name} disagree on rows {diff}\n{rules_text}\n"
                f"rows.csv:\n{path.read_text(encoding='utf-8')}"
            )


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("differential")


# No shrink phase: every shrink step runs every engine (minutes per failure), and the generated
# examples are small already (at most 24 rows, 9 rules, a few leaves per rule).
PHASES = (Phase.explicit, Phase.reuse, Phase.generate)
LOCAL = settings(
    max_examples=50,  # x 6 rules on average: the 300 rule trees of 150 x 2 before
    deadline=None,
    derandomize=True,
    phases=PHASES,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_local_engines_agree(family: str, scratch: Path) -> None:
    @LOCAL
    @given(rows=ROWS, exprs=rules(FAMILIES[family]()))
    def check(rows: list[dict[str, Any]], exprs: list[ir.Expr]) -> None:
        assert_same_verdicts(LOCAL_ENGINES, rows, exprs, scratch)

    check()


@pytest.mark.spark
def test_spark_agrees_with_local_engines(scratch: Path) -> None:
    from meshc.engines._spark.session import get_session

    get_session()
    mixed = st.one_of(*(make() for make in FAMILIES.values()))

    @settings(
        max_examples=9,  # x 6 rules: as many trees as 25 x 2
        deadline=None,
        derandomize=True,
        phases=PHASES,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(rows=ROWS, exprs=rules(mixed))
    def check(rows: list[dict[str, Any]], exprs: list[ir.Expr]) -> None:
        assert_same_verdicts(("duckdb", "pandas", "spark"), rows, exprs, scratch)

    check()
