"""CompiledContract -> standalone Pandera schemas as Python modules (pandas, Polars, PySpark).

A generated module imports pandera and its engine only, never meshc: every check is either one
of pandera's built-ins whose semantics match meshc's, or a function written into the module whose
body is the rule as the engine's own code (meshc.emit.polars_source, meshc.emit.pandas_source,
Spark SQL rendered by meshc.emit.sql_emit for PySpark):

| check kind      | pandas                   | Polars                   | PySpark (summary)        |
|-----------------|--------------------------|--------------------------|--------------------------|
| required        | nullable=False           | nullable=False           | nullable=False           |
| accepted_values | Check.isin               | Check.isin               | Check.isin               |
| min/max         | Check.ge / le            | Check.ge / le            | Check.ge / le            |
| pattern         | Check.str_contains       | Check.str_contains       | generated (F.expr)       |
| max_length      | Check.str_length         | Check.str_length         | generated (F.expr)       |
| unique (field)  | Column(unique=True)      | generated (pl.len().over)| generated (F.expr)       |
| other rules     | generated (pyarrow code) | generated (pl.col code)  | generated (F.expr)       |

`Check.str_matches` is a prefix match, so patterns (search semantics) use `str_contains`. Polars'
built-in `unique` counts NULLs as duplicates, hence a generated check there. A generated check
returns TRUE for a NULL rule result (SQL CHECK semantics) and sits on the rule's column when
pandera can hand it the other columns too (Polars: always; pandas: a rule on one column), so each
failing row is one failure case; other rules are frame checks. Every check carries its meshc rule
id as `name` and `title`; `severity: warn` checks are emitted with `raise_warning=True`. What a
module cannot express is listed in its docstring and in `NOT_EXPRESSED`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from meshc.emit import pandas_source, polars_source
from meshc.emit.model import Gap
from meshc.emit.pysource import Helpers, literal_code
from meshc.errors import UnsupportedConstruct
from meshc.rules import checks as ck
from meshc.rules import expr as ir
from meshc.types import Kind, LogicalType

FLAVOURS = ("pandas", "polars", "pyspark")
_IMPORT = {
    "pandas": [
        "import numpy",
        "import pandas as pd",
        "import pandera.pandas as pa",
        "import pyarrow",
        "import pyarrow.compute as pc",
    ],
    "polars": ["import pandera.polars as pa", "import polars as pl"],
    "pyspark": [
        "import pandera.pyspark as pa",
        "from pyspark.sql import functions as F",
        "from pyspark.sql import types as T",
    ],
}
# How a generated check turns the rule into pandera's per-row (or, on PySpark, per-frame) verdict.
_JUDGE = {
    "pandas": '''
def _judge(data, rule):
    """Per row: True unless the rule is FALSE (NULL passes, as in a SQL CHECK). `rule` reads
    the frame's columns as Arrow data and returns Arrow booleans."""
    frame = data.to_frame() if isinstance(data, pd.Series) else data
    verdict = rule(frame.reset_index(drop=True))
    if isinstance(verdict, pyarrow.Scalar):
        verdict = pyarrow.repeat(verdict, len(frame))
    passed = pc.fill_null(verdict, True).to_numpy(zero_copy_only=False)
    return pd.Series(numpy.asarray(passed, dtype=bool), index=data.index)
''',
    "polars": '''
def _judge(data, rule):
    """Per row: True unless the rule is FALSE (NULL passes, as in a SQL CHECK)."""
    return data.lazyframe.select(rule.fill_null(True).alias("check_output"))
''',
    "pyspark": '''
def _judge(data, rule):
    """True unless some row makes the rule FALSE (pandera's PySpark checks are summaries)."""
    frame = data if hasattr(data, "select") else data.dataframe  # a frame check gets the frame
    verdict = frame.select(F.coalesce(rule, F.lit(True)).alias("ok"))
    return verdict.filter(~F.col("ok")).limit(1).count() == 0
''',
}


def type_text(ltype: LogicalType) -> str:
    """The type as meshc.types.parse_type reads it back."""
    return "timestamptz" if ltype.kind is Kind.TIMESTAMP_TZ else str(ltype)


def dtype_code(ltype: LogicalType, flavour: str) -> str:
    kind = ltype.kind
    if flavour == "pandas":
        return {
            Kind.STRING: 'pd.StringDtype("pyarrow")',
            Kind.INTEGER: "pd.Int64Dtype()",
            Kind.FLOAT: "pd.Float64Dtype()",
            Kind.BOOLEAN: "pd.BooleanDtype()",
            Kind.DECIMAL: f"pd.ArrowDtype(pyarrow.decimal128({ltype.precision}, {ltype.scale}))",
            Kind.DATE: "pd.ArrowDtype(pyarrow.date32())",
            Kind.TIMESTAMP: 'pd.ArrowDtype(pyarrow.timestamp("us"))',
            Kind.TIMESTAMP_TZ: 'pd.ArrowDtype(pyarrow.timestamp("us", tz="UTC"))',
        }[kind]
    if flavour == "polars":
        return polars_source.dtype_code(ltype)
    return {
        Kind.STRING: "T.StringType()",
        Kind.INTEGER: "T.LongType()",
        Kind.FLOAT: "T.DoubleType()",
        Kind.BOOLEAN: "T.BooleanType()",
        Kind.DECIMAL: f"T.DecimalType({ltype.precision}, {ltype.scale})",
        Kind.DATE: "T.DateType()",
        Kind.TIMESTAMP: "T.TimestampNTZType()",
        Kind.TIMESTAMP_TZ: "T.TimestampType()",
    }[kind]


def _opts(check: ck.RowCheck) -> str:
    warn = ", raise_warning=True" if check.severity == "warn" else ""
    return f"title={check.id!r}{warn}"


def _builtin(check: ck.RowCheck, flavour: str) -> str | None:
    """The built-in check for a field constraint, or None when there is none on `flavour`."""
    opts = _opts(check)
    if isinstance(check, ck.AcceptedValues):
        values = "[" + ", ".join(literal_code(v.value) for v in check.values) + "]"
        return f"pa.Check.isin({values}, {opts})"
    if isinstance(check, ck.Range):
        parts = []
        if check.min is not None:
            parts.append(f"pa.Check.ge({literal_code(check.min.value)}, {opts})")
        if check.max is not None:
            parts.append(f"pa.Check.le({literal_code(check.max.value)}, {opts})")
        return ", ".join(parts)
    if isinstance(check, ck.Pattern) and flavour != "pyspark":
        return f"pa.Check.str_contains({check.regex!r}, {opts})"
    if isinstance(check, ck.MaxLength) and flavour != "pyspark":
        return f"pa.Check.str_length(max_value={check.max_length}, {opts})"
    return None


def _spark_rule(node: ir.Expr, _: Helpers) -> str:
    """PySpark: the rule as Spark SQL rendered from the IR by meshc's SQL generator (the text
    `validation_spark.sql` holds), parsed by Spark itself; no rule text is pasted."""
    from meshc.engines.sql import expression_sql

    return f"F.expr({expression_sql(node, 'spark')!r})"


def _pandas_rule(node: ir.Expr, helpers: Helpers) -> str:
    return f"lambda f: {pandas_source.translate(node, helpers)}"


_TRANSLATE: dict[str, Callable[[ir.Expr, Helpers], str]] = {
    "pandas": _pandas_rule,
    "polars": lambda node, helpers: polars_source.translate(node, helpers),
    "pyspark": _spark_rule,
}
_HELPERS = {
    "pandas": pandas_source.HELPERS,
    "polars": polars_source.HELPERS,
    "pyspark": {},
}


@dataclass
class _Module:
    """What one flavour's module collects while the checks are emitted."""

    flavour: str
    helpers: Helpers
    functions: list[str] = field(default_factory=list)
    column_checks: dict[str, list[str]] = field(default_factory=dict)
    frame_checks: list[str] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    def gap(self, rule_id: str, reason: str) -> None:
        self.gaps.append(Gap(f"pandera_{self.flavour}", rule_id, reason))


def _function_name(check: ck.RowCheck, taken: int) -> str:
    return f"check_{taken}_" + re.sub(r"\W", "_", check.id).strip("_")[:40]


def _generated(check: ck.RowCheck, module: _Module, schema_columns: set[str]) -> None:
    """A check whose body is the rule as engine code, placed on the rule's column or the frame."""
    try:
        body = _TRANSLATE[module.flavour](check.predicate, module.helpers)
    except UnsupportedConstruct as exc:
        module.gap(check.id, "; ".join(d.message for d in exc.diagnostics))
        return
    name = _function_name(check, len(module.functions))
    module.functions.append(
        f"def {name}(data):\n    # {check.id}: {' '.join(check.rule.split())}\n"
        f"    return _judge(data, {body})\n"
    )
    code = f"pa.Check({name}, name={check.id!r}, ignore_na=False, {_opts(check)})"
    columns = ir.columns_of(check.predicate)
    on_column = module.flavour == "polars" or (module.flavour == "pandas" and len(columns) == 1)
    if on_column and columns and columns[0] in schema_columns:
        module.column_checks.setdefault(columns[0], []).append(code)
    else:
        module.frame_checks.append(code)


def emit_schema(compiled: ck.CompiledContract, flavour: str) -> tuple[str, list[Gap]]:
    """The module text for one flavour, and what it could not express."""
    contract = compiled.contract
    module = _Module(flavour, Helpers(_HELPERS[flavour]))
    types = {f.name: f.type for f in contract.fields}
    types.update({name: LogicalType(Kind.STRING) for name in compiled.implicit_columns})
    unique_columns: set[str] = set()
    nullable = dict.fromkeys(types, True)
    for check in compiled.row_checks:
        if isinstance(check, ck.NotNull):
            nullable[check.column.name] = False
        elif isinstance(check, ck.ForeignKey):
            module.gap(
                check.id, "foreign keys need the target contract's data; `meshc run` checks them"
            )
        elif (
            isinstance(check, ck.Unique)
            and flavour == "pandas"
            and len(check.key) == 1
            and check.severity == "error"
        ):
            unique_columns.add(check.key[0].name)
        elif (code := _builtin(check, flavour)) is not None:
            module.column_checks.setdefault(check.columns[0], []).append(code)
        else:
            _generated(check, module, set(types))
    for d in compiled.dataset_checks:
        module.gap(
            d.id,
            "dataset rules are not emitted to Pandera (see the Great Expectations suites or "
            "`meshc run`)",
        )
    lines = _header(compiled, module)
    lines.append("schema = pa.DataFrameSchema(")
    lines.append("    {")
    for name, ltype in types.items():
        args = [dtype_code(ltype, flavour), f"nullable={nullable[name]}"]
        if name in compiled.implicit_columns:
            args.append("required=False")
        if name in unique_columns:
            args.append("unique=True")
        checks = module.column_checks.get(name, [])
        if checks:
            args.append("checks=[" + ", ".join(checks) + "]")
        lines.append(f"        {name!r}: pa.Column({', '.join(args)}),")
    lines.append("    },")
    if module.frame_checks:
        lines.append("    checks=[")
        lines.extend(f"        {c}," for c in module.frame_checks)
        lines.append("    ],")
    lines.append(f"    name={contract.info.domain + '.' + contract.info.name!r},")
    lines.append(f"    strict={contract.extra_columns == 'error'},")
    lines.append(")")
    return "\n".join(lines) + "\n", module.gaps


def _header(compiled: ck.CompiledContract, module: _Module) -> list[str]:
    info = compiled.contract.info
    flavour = module.flavour
    summary = (
        " PySpark: pandera reports one pass/fail per check (summary validation), "
        "not the failing rows."
        if flavour == "pyspark"
        else ""
    )
    doc = [
        f'"""Pandera schema ({flavour}) for {info.domain}.{info.name}, contract version {info.version}.',
        "",
        "Generated by `meshc compile`; do not edit. Needs pandera and its engine only (not meshc).",
        "Validate a frame of the contract's typed columns (dtypes as below) with",
        f"`schema.validate(frame, lazy=True)`.{summary}",
        "Each check is named by its meshc rule id; a rule is violated only when it is FALSE.",
    ]
    if module.gaps:
        doc += ["", "Not expressed here (`meshc run` checks them):"]
        doc += [f"- {g.rule_id}: {g.reason}" for g in module.gaps]
    doc += ['"""', ""]
    imports = ["import datetime  # noqa: F401", "import decimal  # noqa: F401", ""]
    imports += [f"{line}  # noqa: F401" for line in _IMPORT[flavour]] + ["", ""]
    not_expressed = "NOT_EXPRESSED = [" + "".join(
        f"\n    {{'rule_id': {g.rule_id!r}, 'reason': {g.reason!r}}}," for g in module.gaps
    )
    body = [not_expressed + ("\n]" if module.gaps else "]"), "", ""]
    if module.functions:
        code = [_JUDGE[flavour].strip("\n")]
        if module.helpers.used:
            code.append(module.helpers.source())
        code += [f.rstrip("\n") for f in module.functions]
        body += ["\n\n\n".join(code), "", ""]
    return doc + imports + body
