"""CompiledContract -> Pandera schemas as importable Python modules (pandas, Polars, PySpark).

Every field becomes a `Column` with its dtype (the dtype meshc's engine gives that logical type)
and nullability; field constraints use pandera's built-in checks where their semantics match
meshc's, and everything else is a check registered by `meshc.emit.runtime`:

| check kind      | pandas                 | Polars                 | PySpark (summary)      |
|-----------------|------------------------|------------------------|------------------------|
| required        | nullable=False         | nullable=False         | nullable=False         |
| accepted_values | Check.isin             | Check.isin             | Check.isin             |
| min/max         | Check.ge / le          | Check.ge / le          | Check.ge / le          |
| pattern         | Check.str_contains     | Check.str_contains     | registered meshc_rule  |
| max_length      | Check.str_length       | Check.str_length       | registered meshc_rule  |
| unique (field)  | Column(unique=True)    | registered meshc_unique| registered meshc_unique|
| unique (columns)| registered meshc_unique| registered meshc_unique| registered meshc_unique|
| SQL row rule    | registered meshc_rule  | registered meshc_rule  | registered meshc_rule  |

`Check.str_matches` is a prefix match, so patterns (search semantics) use `str_contains`. Polars'
built-in `unique` counts NULLs as duplicates, hence `meshc_unique` there. Every check carries its
meshc rule id as its `title`; `severity: warn` checks are emitted with `raise_warning=True`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from meshc.emit.model import Gap
from meshc.rules import checks as ck
from meshc.rules import expr as ir
from meshc.types import Kind, LogicalType

FLAVOURS = ("pandas", "polars", "pyspark")
_IMPORT = {
    "pandas": ["import pandas as pd", "import pandera.pandas as pa", "import pyarrow"],
    "polars": ["import pandera.polars as pa", "import polars as pl"],
    "pyspark": ["import pandera.pyspark as pa", "from pyspark.sql import types as T"],
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
        return {
            Kind.STRING: "pl.String",
            Kind.INTEGER: "pl.Int64",
            Kind.FLOAT: "pl.Float64",
            Kind.BOOLEAN: "pl.Boolean",
            Kind.DECIMAL: f"pl.Decimal({ltype.precision}, {ltype.scale})",
            Kind.DATE: "pl.Date",
            Kind.TIMESTAMP: 'pl.Datetime("us")',
            Kind.TIMESTAMP_TZ: 'pl.Datetime("us", "UTC")',
        }[kind]
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


def literal_code(value: Any) -> str:
    """A Python literal for a rule value (dates and decimals through their constructors)."""
    if isinstance(value, dt.datetime):
        return f"datetime.datetime.fromisoformat({value.isoformat()!r})"
    if isinstance(value, dt.date):
        return f"datetime.date.fromisoformat({value.isoformat()!r})"
    if isinstance(value, Decimal):
        return f"decimal.Decimal({str(value)!r})"
    return repr(value)


def _opts(check: ck.RowCheck) -> str:
    warn = ", raise_warning=True" if check.severity == "warn" else ""
    return f"title={check.id!r}{warn}"


def _rule_columns(check: ck.RowCheck, compiled: ck.CompiledContract) -> dict[str, str]:
    types = {c.name: c.ltype for n in [check.predicate] for c in n.walk() if isinstance(c, ir.Col)}
    return {name: type_text(types[name]) for name in sorted(types)}


def _rule_check(check: ck.SqlRule, compiled: ck.CompiledContract) -> str:
    columns = _rule_columns(check, compiled)
    return (
        f"pa.Check.meshc_rule(rule_id={check.id!r}, sql={check.sql!r}, columns={columns!r}, "
        f"{_opts(check)})"
    )


def _unique_check(check: ck.Unique) -> str:
    names = [c.name for c in check.key]
    return f"pa.Check.meshc_unique(rule_id={check.id!r}, columns={names!r}, {_opts(check)})"


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


def _field_rule(check: ck.RowCheck) -> str:
    """A pattern or max_length on PySpark, where pandera has no row-level built-in: the same
    predicate through meshc_rule, written as a meshc rule."""
    column = check.columns[0]
    if isinstance(check, ck.Pattern):
        return f"REGEXP_LIKE({column}, '{check.regex.replace(chr(39), chr(39) * 2)}')"
    assert isinstance(check, ck.MaxLength)
    return f"LENGTH({column}) <= {check.max_length}"


def emit_schema(compiled: ck.CompiledContract, flavour: str) -> tuple[str, list[Gap]]:
    """The module text for one flavour, and what it could not express."""
    contract = compiled.contract
    gaps: list[Gap] = []
    column_checks: dict[str, list[str]] = {f.name: [] for f in contract.fields}
    unique_columns: set[str] = set()
    frame_checks: list[str] = []
    nullable = {f.name: True for f in contract.fields}
    for check in compiled.row_checks:
        if isinstance(check, ck.NotNull):
            nullable[check.column.name] = False
        elif isinstance(check, ck.ForeignKey):
            gaps.append(
                Gap(
                    f"pandera_{flavour}",
                    check.id,
                    "foreign keys need the target contract's data; `meshc run` checks them",
                )
            )
        elif isinstance(check, ck.Unique):
            if flavour == "pandas" and len(check.key) == 1 and check.severity == "error":
                unique_columns.add(check.key[0].name)
            else:
                frame_checks.append(_unique_check(check))
        elif isinstance(check, ck.SqlRule):
            frame_checks.append(_rule_check(check, compiled))
        else:
            code = _builtin(check, flavour)
            if code is None:
                sql = _field_rule(check)
                column = check.columns[0]
                ltype = check.column.ltype  # type: ignore[attr-defined]
                frame_checks.append(
                    f"pa.Check.meshc_rule(rule_id={check.id!r}, sql={sql!r}, "
                    f"columns={{{column!r}: {type_text(ltype)!r}}}, {_opts(check)})"
                )
            else:
                column_checks[check.columns[0]].append(code)
    for d in compiled.dataset_checks:
        gaps.append(
            Gap(
                f"pandera_{flavour}",
                d.id,
                "dataset rules are not emitted to Pandera "
                "(see the Great Expectations suites or `meshc run`)",
            )
        )
    lines = _header(compiled, flavour)
    lines.append("schema = pa.DataFrameSchema(")
    lines.append("    {")
    types = {f.name: f.type for f in contract.fields}
    types.update({name: LogicalType(Kind.STRING) for name in compiled.implicit_columns})
    for name, ltype in types.items():
        args = [dtype_code(ltype, flavour), f"nullable={nullable.get(name, True)}"]
        if name in compiled.implicit_columns:
            args.append("required=False")
        if name in unique_columns:
            args.append("unique=True")
        checks = column_checks.get(name, [])
        if checks:
            args.append("checks=[" + ", ".join(checks) + "]")
        lines.append(f"        {name!r}: pa.Column({', '.join(args)}),")
    lines.append("    },")
    if frame_checks:
        lines.append("    checks=[")
        lines.extend(f"        {c}," for c in frame_checks)
        lines.append("    ],")
    lines.append(f"    name={contract.info.domain + '.' + contract.info.name!r},")
    lines.append(f"    strict={contract.extra_columns == 'error'},")
    lines.append(")")
    return "\n".join(lines) + "\n", gaps


def _header(compiled: ck.CompiledContract, flavour: str) -> list[str]:
    info = compiled.contract.info
    summary = (
        (
            " PySpark: pandera reports one pass/fail per check (summary validation), "
            "not the failing rows."
        )
        if flavour == "pyspark"
        else ""
    )
    doc = [
        f'"""Pandera schema ({flavour}) for {info.domain}.{info.name}, contract version {info.version}.',
        "",
        "Generated by `meshc compile`; do not edit. Validate a frame of the contract's typed columns",
        f"(dtypes as below) with `schema.validate(frame, lazy=True)`.{summary}",
        "SQL rules are checks registered by meshc.emit.runtime (docs/compile.md).",
        '"""',
        "",
    ]
    imports = [
        "import datetime  # noqa: F401",
        "import decimal  # noqa: F401",
        "",
        *_IMPORT[flavour],
        "",
        "from meshc.emit import runtime",
        "",
        "runtime.register()",
        "",
    ]
    return doc + imports
