"""Stage 1-3 of the pipeline: read YAML -> validate against the schema -> build the model.

`load_contract` is the library entry point and raises ContractError with every problem found
in that file; `collect_contract` returns the diagnostics instead, for `meshc check`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from meshc import schema_validation
from meshc.contract import (
    Contract,
    DatasetRule,
    Field,
    Info,
    Lineage,
    Output,
    Quarantine,
    RowRule,
    Source,
    Transform,
    TransformInput,
)
from meshc.diagnostics import Diagnostic
from meshc.errors import ContractError
from meshc.located_yaml import Locator, load_yaml_file, load_yaml_text
from meshc.target_paths import RUN_TIME_CODES, target_problems
from meshc.types import Kind, LogicalType, UnknownType, parse_type

if TYPE_CHECKING:
    from meshc.check_cache import RuleCache
    from meshc.rules.checks import CompiledContract

_FORMATS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}


class _Loaded(NamedTuple):
    contract: Contract | None
    compiled: CompiledContract | None  # None unless the rules were compiled without problems
    diagnostics: list[Diagnostic]


def load_contract(path: str | Path, *, compile_rules: bool = True) -> Contract:
    """Load, validate and (by default) compile one contract file; raise on any problem."""
    contract, diagnostics = collect_contract(path, compile_rules=compile_rules)
    errors = _blocking(diagnostics)
    if errors or contract is None:
        raise ContractError(errors or diagnostics)
    return contract


def load_compiled(path: str | Path) -> CompiledContract:
    """Load, validate and compile one contract file, keeping the compiled rules: what the runner
    uses, so that a run compiles its contract once. Raise on any problem."""
    data, locator = load_yaml_file(path)
    return _compiled_or_raise(_load(data, locator, compile_rules=True))


def loads_contract(text: str, path: str = "<memory>") -> Contract:
    """Like load_contract, from YAML text."""
    data, locator = load_yaml_text(text, path)
    contract, _, diagnostics = _load(data, locator, compile_rules=True)
    errors = _blocking(diagnostics)
    if errors or contract is None:
        raise ContractError(errors or diagnostics)
    return contract


def _compiled_or_raise(loaded: _Loaded) -> CompiledContract:
    errors = _blocking(loaded.diagnostics)
    if errors or loaded.contract is None:
        raise ContractError(errors or loaded.diagnostics)
    if loaded.compiled is None:  # model warnings skip the rules in `check`; a run needs them
        from meshc.rules.compiler import compile_contract

        return compile_contract(loaded.contract)
    return loaded.compiled


def _blocking(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Errors that stop a load; a target outside the root only stops a run that writes there."""
    return [d for d in diagnostics if d.severity.value == "error" and d.code not in RUN_TIME_CODES]


def collect_contract(
    path: str | Path, *, compile_rules: bool = True, rules: RuleCache | None = None
) -> tuple[Contract | None, list[Diagnostic]]:
    """Every problem in one file; the contract too when it could be built. `rules`: where the
    rules' findings may come from instead of a compile (what `meshc check` passes)."""
    try:
        data, locator = load_yaml_file(path)
    except ContractError as exc:
        return None, list(exc.diagnostics)
    loaded = _load(data, locator, compile_rules=compile_rules, rules=rules)
    return loaded.contract, loaded.diagnostics


def _load(
    data: Any, locator: Locator, *, compile_rules: bool, rules: RuleCache | None = None
) -> _Loaded:
    if not isinstance(data, dict):
        diagnostic = locator.diagnostic(
            "MC003",
            "a contract must be a YAML mapping with 'info' and 'model' sections",
            (),
            hint="see the seed example in docs/contract-reference.md",
        )
        return _Loaded(None, None, [diagnostic])
    from meshc.odcs.detect import odcs_diagnostic  # a dict look-up: no ODCS package

    odcs = odcs_diagnostic(data, locator)  # an ODCS file: one MC009, not an MC101 per ODCS key
    if odcs is not None:
        return _Loaded(None, None, [odcs])
    diagnostics = schema_validation.validate(data, locator)
    targets = target_problems(data, locator)  # never blocks the model: see meshc.target_paths
    if diagnostics:
        from meshc import partial_check  # only for a document that cannot be built

        # The model builder assumes schema-valid input; report what we have, but still look for
        # model-level problems (duplicate fields, bad types) in the parts that are well-formed.
        diagnostics.extend(_model_problems(data, locator))
        diagnostics.extend(partial_check.field_problems(data, locator))
        if compile_rules:
            diagnostics.extend(partial_check.rule_problems(data, locator))
        return _Loaded(None, None, diagnostics + targets)
    contract, problems = build_contract(data, locator)
    diagnostics.extend(problems)
    if contract is None and compile_rules:  # a bad field must not hide the rules' problems
        from meshc import partial_check

        diagnostics.extend(partial_check.rule_problems(data, locator))
    compiled = None
    if contract is not None and compile_rules and not problems and rules is not None:
        diagnostics.extend(rules.facts(contract).diagnostics(contract))
    elif contract is not None and compile_rules and not problems:
        from meshc.rules.compiler import compile_with_diagnostics

        compiled, rule_problems = compile_with_diagnostics(contract)
        diagnostics.extend(rule_problems)
    return _Loaded(contract, compiled, diagnostics + targets)


def _model_problems(data: dict[str, Any], loc: Locator) -> list[Diagnostic]:
    fields = data.get("model", {}).get("fields") if isinstance(data.get("model"), dict) else None
    if not isinstance(fields, list):
        return []
    out: list[Diagnostic] = []
    seen: dict[str, int] = {}
    for i, f in enumerate(fields):
        if not isinstance(f, dict) or not isinstance(f.get("name"), str):
            continue
        name = f["name"]
        if name in seen:
            out.append(
                loc.diagnostic(
                    "MC202",
                    f"duplicate field '{name}'",
                    ("model", "fields", i, "name"),
                    hint=f"first declared at line {loc.value(('model', 'fields', seen[name]))[0]}; "
                    "rename or remove one",
                )
            )
        else:
            seen[name] = i
    return out


def build_contract(data: dict[str, Any], loc: Locator) -> tuple[Contract | None, list[Diagnostic]]:
    """Turn schema-valid data into a Contract; report model-level problems (MC2xx)."""
    problems = _model_problems(data, loc)
    fields = []
    for i, raw in enumerate(data["model"]["fields"]):
        field, field_problems = _field(raw, ("model", "fields", i), loc)
        problems.extend(field_problems)
        if field is not None:
            fields.append(field)
    if problems:
        return None, problems
    info = data["info"]
    quality = data.get("quality", {})
    contract = Contract(
        info=Info(
            version=str(info["version"]),
            name=info["name"],
            domain=info["domain"],
            system=info.get("system"),
            owner=info.get("owner"),
            description=info.get("description"),
            layer=info.get("layer"),
            tags=tuple(info.get("tags", ())),
        ),
        fields=tuple(fields),
        row_rules=tuple(
            RowRule(
                sql=r["sql"],
                jpath=("quality", "row_rules", i, "sql"),
                name=r.get("name"),
                description=r.get("description"),
                severity=r.get("severity", "error"),
            )
            for i, r in enumerate(quality.get("row_rules", []))
        ),
        dataset_rules=tuple(
            _dataset_rule(r, i) for i, r in enumerate(quality.get("dataset_rules", []))
        ),
        max_quarantine_ratio=quality.get("max_quarantine_ratio"),
        extra_columns=data["model"].get("extra_columns", "drop"),
        source=_source(data.get("source")),
        # an output without target or connection builds (empty): MC223 stops its load
        output=Output(**{"target": "", **_target(data["output"])}) if "output" in data else None,
        quarantine=Quarantine(**_target(data.get("quarantine", {}))),
        lineage=Lineage(**data.get("lineage", {})),
        transform=_transform(data.get("transform")),
        path=loc.path,
        raw=data,
        locator=loc,
    )
    return contract, []


def _field(
    raw: dict[str, Any], jpath: tuple[Any, ...], loc: Locator
) -> tuple[Field | None, list[Diagnostic]]:
    try:
        logical = parse_type(raw["type"])
    except UnknownType as exc:
        return None, [
            loc.diagnostic(
                "MC201", str(exc), (*jpath, "type"), hint="see docs/contract-reference.md#types"
            )
        ]
    problems = []
    if raw.get("pattern") is not None:
        from meshc.rules.regex import RegexProblem, check_regex

        try:
            check_regex(raw["pattern"])
        except RegexProblem as exc:
            problems.append(
                loc.diagnostic(
                    "MC203", f"invalid pattern: {exc}", (*jpath, "pattern"), hint=exc.hint
                )
            )
    from meshc.rules.values import bounds_reversed  # compared as the field's type

    lo, hi = raw.get("min"), raw.get("max")
    if lo is not None and hi is not None and bounds_reversed(lo, hi, logical):
        problems.append(
            loc.diagnostic(
                "MC204", f"min {lo!r} is greater than max {hi!r}", (*jpath, "min"), hint="swap them"
            )
        )
    problems.extend(
        loc.diagnostic("MC215", message, (*jpath, key), hint=hint)
        for key, message, hint in _unrepresentable_bounds(raw, logical)
    )
    if problems:
        return None, problems
    keys = (
        "required",
        "unique",
        "primary_key",
        "description",
        "pii",
        "masking",
        "min",
        "max",
        "pattern",
        "max_length",
        "references",
    )
    values = {k: raw[k] for k in keys if k in raw}
    if "accepted_values" in raw:
        values["accepted_values"] = tuple(raw["accepted_values"])
    return Field(name=raw["name"], type=logical, type_text=raw["type"], jpath=jpath, **values), []


_INT64 = (-(2**63), 2**63 - 1)


def _unrepresentable_bounds(
    raw: dict[str, Any], logical: LogicalType
) -> list[tuple[str, str, str]]:
    """(key, message, hint) for a bound the field's type cannot hold: every engine fails on an
    integer bound outside 64 bits (polars, duckdb and pandas each with its own crash), and a
    decimal bound with more integer digits than the precision allows can never be compared."""
    out = []
    lo, hi = _INT64
    for key in ("min", "max"):
        value = raw.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            continue
        if logical.kind is Kind.INTEGER and isinstance(value, (int, float)):
            if not lo <= value <= hi:
                out.append(
                    (key, f"{key} {value!r} does not fit in a 64-bit integer",
                     f"use a bound within {lo}..{hi}")
                )  # fmt: skip
        elif logical.kind is Kind.DECIMAL and logical.precision is not None:
            digits = logical.precision - (logical.scale or 0)
            try:
                too_big = abs(Decimal(str(value))) >= Decimal(10) ** digits
            except ArithmeticError:  # not a number: MC208 reports it
                continue
            if too_big:
                out.append(
                    (key, f"{key} {value!r} has more integer digits than {logical} holds",
                     f"{logical} holds at most {digits} digit(s) before the point")
                )  # fmt: skip
    length = raw.get("max_length")
    if isinstance(length, int) and not isinstance(length, bool) and length > hi:
        out.append(
            ("max_length", f"max_length {length} does not fit in a 64-bit integer",
             "use a realistic maximum length")
        )  # fmt: skip
    return out


def _dataset_rule(raw: dict[str, Any], i: int) -> DatasetRule:
    values = dict(raw)
    if "columns" in values:
        values["columns"] = tuple(values["columns"])
    return DatasetRule(jpath=("quality", "dataset_rules", i), **values)


def _source(raw: dict[str, Any] | None) -> Source | None:
    if raw is None:
        return None
    options = raw.get("options", {})
    path = raw.get("path") or raw.get("connection") or ""
    fmt = None
    if "connection" not in raw:
        fmt = raw.get("format") or _FORMATS.get(
            Path(re.sub(r"[*?\[].*$", "", path) or path).suffix.lower()
        )
        if fmt is None:
            fmt = _FORMATS.get(Path(path).suffix.lower())
    return Source(
        path=path,
        format=fmt,  # type: ignore[arg-type]  # schema-validated: csv, parquet, json, ndjson, delta
        delimiter=options.get("delimiter", ","),
        header=options.get("header", True),
        null_values=tuple(options.get("null_values", ("",))),
        table=raw.get("table"),
        query=raw.get("query"),
    )


def _target(raw: dict[str, Any]) -> dict[str, Any]:
    """output/quarantine keys as the model holds them: a database's connection is its target."""
    values = dict(raw)
    if "connection" in values:
        values["target"] = values.pop("connection")
    return values


def _transform(raw: dict[str, Any] | None) -> Transform | None:
    if raw is None:
        return None
    inputs = tuple(
        TransformInput(ref=i["ref"], alias=i.get("alias", i["ref"].split(".")[1]))
        for i in raw["inputs"]
    )
    return Transform(inputs=inputs, sql=raw["sql"])
