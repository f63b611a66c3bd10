"""Stage 4: a Contract becomes a CompiledContract (typed checks), or located diagnostics."""

from __future__ import annotations

from typing import Any

from meshc.contract import Contract, DatasetRule, Field
from meshc.diagnostics import Diagnostic, Severity
from meshc.errors import ContractError
from meshc.located_yaml import JsonPath
from meshc.rules import checks as ck
from meshc.rules import expr as ir
from meshc.rules.problems import Problem, located
from meshc.rules.sql import RuleProblem, compile_sql, literal_for, rule_id_for
from meshc.types import STRING

_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def compile_contract(contract: Contract) -> ck.CompiledContract:
    """Compile every field constraint and rule; raise ContractError listing all problems."""
    compiled, problems = _compile(contract)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors:
        raise ContractError(errors)
    return compiled


def compile_contract_diagnostics(contract: Contract) -> list[Diagnostic]:
    return _compile(contract)[1]


def compile_with_diagnostics(contract: Contract) -> tuple[ck.CompiledContract, list[Diagnostic]]:
    """The compiled contract and every problem found, from one compile (the loader keeps both,
    so a run compiles its contract once)."""
    return _compile(contract)


def _compile(contract: Contract) -> tuple[ck.CompiledContract, list[Diagnostic]]:
    compiled, problems = compile_problems(contract)
    return compiled, located(problems, contract)


def compile_problems(contract: Contract) -> tuple[ck.CompiledContract, list[Problem]]:
    """Like compile_with_diagnostics, the problems not yet placed in the file: what a cache of
    compiles keeps (meshc/check_cache.py), to be placed against the file as it is then."""
    builder = _Builder(contract)
    for f in contract.fields:
        builder.field_checks(f)
    for i, row_rule in enumerate(contract.row_rules):
        builder.row_rule(
            i, row_rule.sql, row_rule.name, row_rule.severity, row_rule.description, row_rule.jpath
        )
    for dataset_rule in contract.dataset_rules:
        builder.dataset_rule(dataset_rule)
    builder.check_unique_ids()
    compiled = ck.CompiledContract(
        contract,
        tuple(builder.row_checks),
        tuple(builder.dataset_checks),
        implicit_columns=tuple(builder.implicit),
    )
    return compiled, builder.found


class _Builder:
    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.columns = {f.name: f.type for f in contract.fields}
        self.row_checks: list[ck.RowCheck] = []
        self.dataset_checks: list[ck.DatasetCheck] = []
        self.found: list[Problem] = []
        self.id_paths: dict[str, list[JsonPath]] = {}
        self.implicit: list[str] = []

    def origin(self, jpath: JsonPath) -> ck.Origin:
        loc = self.contract.locator
        line, col = loc.value(jpath) if loc else (0, 0)
        return ck.Origin(self.contract.path, line, col)

    def problem(
        self,
        code: str,
        message: str,
        jpath: JsonPath,
        hint: str | None = None,
        offset: int | None = None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        self.found.append(Problem(code, message, jpath, hint, offset, severity))

    def add(self, check: ck.RowCheck, jpath: JsonPath) -> None:
        self.row_checks.append(check)
        self.id_paths.setdefault(check.id, []).append(jpath)

    def field_checks(self, f: Field) -> None:
        col = ir.Col(f.name, f.type)
        common = ck.FieldCheckMeta(severity="error", description=None)
        if f.not_null:
            self.add(
                ck.NotNull(
                    id=f"{f.name}.required",
                    rule="required",
                    origin=self.origin(f.jpath),
                    column=col,
                    **common,
                ),
                f.jpath,
            )
        if f.accepted_values is not None:
            values = self.literals(f, "accepted_values", f.accepted_values)
            if values is not None:
                rule = "accepted_values [" + ", ".join(map(str, f.accepted_values)) + "]"
                self.add(
                    ck.AcceptedValues(
                        id=f"{f.name}.accepted_values",
                        rule=rule,
                        origin=self.origin((*f.jpath, "accepted_values")),
                        column=col,
                        values=tuple(values),
                        **common,
                    ),
                    f.jpath,
                )
        if f.min is not None or f.max is not None:
            self.range_check(f, col, common)
        if f.pattern is not None:
            self.string_only(f, "pattern")
            from meshc.rules.regex import portable_regex

            self.add(
                ck.Pattern(
                    id=f"{f.name}.pattern",
                    rule=f"pattern {f.pattern}",
                    origin=self.origin((*f.jpath, "pattern")),
                    column=col,
                    regex=portable_regex(f.pattern),
                    **common,
                ),
                f.jpath,
            )
        if f.max_length is not None:
            self.string_only(f, "max_length")
            self.add(
                ck.MaxLength(
                    id=f"{f.name}.max_length",
                    rule=f"max_length {f.max_length}",
                    origin=self.origin((*f.jpath, "max_length")),
                    column=col,
                    max_length=f.max_length,
                    **common,
                ),
                f.jpath,
            )
        if f.unique or f.primary_key:
            self.add(
                ck.Unique(
                    id=f"{f.name}.unique",
                    rule="unique",
                    origin=self.origin(f.jpath),
                    key=(col,),
                    **common,
                ),
                f.jpath,
            )
        if f.references is not None:
            self.add(
                ck.ForeignKey(
                    id=f"{f.name}.references",
                    rule=f"references {f.references}",
                    origin=self.origin((*f.jpath, "references")),
                    column=col,
                    target=f.references,
                    **common,
                ),
                f.jpath,
            )

    def string_only(self, f: Field, key: str) -> None:
        if f.type.kind.value != "string":
            self.problem(
                "MC205",
                f"'{key}' applies to string fields, '{f.name}' is {f.type}",
                (*f.jpath, key),
                hint="remove it, or use a row rule with CAST",
            )

    def literals(self, f: Field, key: str, values: Any) -> list[ir.Lit] | None:
        out = []
        for i, value in enumerate(values):
            try:
                out.append(literal_for(value, f.type))
            except RuleProblem as exc:
                self.problem(
                    exc.code, f"{key}: {exc.message} for field '{f.name}'", (*f.jpath, key, i)
                )
                return None
        return out

    def range_check(self, f: Field, col: ir.Col, common: ck.FieldCheckMeta) -> None:
        if not (f.type.is_numeric or f.type.is_temporal):
            self.problem(
                "MC205",
                f"min/max apply to numbers, dates and timestamps; '{f.name}' is {f.type}",
                (*f.jpath, "min" if f.min is not None else "max"),
            )
            return
        bounds = self.literals(f, "min", [f.min]) if f.min is not None else [None]
        upper = self.literals(f, "max", [f.max]) if f.max is not None else [None]
        if bounds is None or upper is None:
            return
        low, high = bounds[0], upper[0]
        parts = ([f">= {f.min}"] if f.min is not None else []) + (
            [f"<= {f.max}"] if f.max is not None else []
        )
        self.add(
            ck.Range(
                id=f"{f.name}.range",
                rule=f"{f.name} " + " and ".join(parts),
                origin=self.origin(f.jpath),
                column=col,
                min=low,
                max=high,
                **common,
            ),
            f.jpath,
        )

    def row_rule(
        self,
        i: int,
        sql: str,
        name: str | None,
        severity: Any,
        description: str | None,
        jpath: JsonPath,
    ) -> None:
        undeclared: list[RuleProblem] = []  # columns this rule reads as implicit strings
        while True:
            try:
                expr = compile_sql(sql, self.columns)
                break
            except RuleProblem as exc:
                if exc.column is None and undeclared:
                    # The type error comes from guessing `string` for an undeclared column:
                    # the unknown column is the real problem, and the guess is withdrawn.
                    self.unknown_column(undeclared, jpath)
                    return
                if exc.column is None or _looks_like_typo(exc.column, self.columns):
                    self.problem(exc.code, exc.message, jpath, exc.hint, exc.offset)
                    return
                self.columns[exc.column] = STRING
                undeclared.append(exc)
        for guessed in undeclared:
            self.implicit_column(guessed, jpath)
        if not any(isinstance(node, ir.Col) for node in expr.walk()):
            self.problem(
                "MC318",
                "this rule reads no column, so it passes or fails every row alike",
                jpath,
                hint="compare a column, e.g. `amount > 0`; for a check on the whole dataset "
                "use quality.dataset_rules",
            )
            return
        self.add(
            ck.SqlRule(
                id=name or rule_id_for(sql),
                severity=severity,
                rule=sql,
                origin=self.origin(jpath),
                description=description,
                expr=expr,
                sql=sql,
            ),
            jpath,
        )

    def implicit_column(self, exc: RuleProblem, jpath: JsonPath) -> None:
        """A rule reads a column the model does not declare. The seed format allows this, so it is
        a warning: the column is read as a string and must exist in the source at run time."""
        assert exc.column is not None
        self.implicit.append(exc.column)
        hint = exc.hint if exc.hint and exc.hint.startswith("did you mean") else None
        self.problem(
            "MC310",
            f"column '{exc.column}' is not declared in model.fields; it is read as a "
            "string and must exist in the source",
            jpath,
            hint=(hint + " or " if hint else "") + f"declare '{exc.column}' with its type",
            offset=exc.offset,
            severity=Severity.WARNING,
        )

    def unknown_column(self, undeclared: list[RuleProblem], jpath: JsonPath) -> None:
        for exc in undeclared:
            assert exc.column is not None
            del self.columns[exc.column]
        first = undeclared[0]
        self.problem(
            "MC305",
            f"unknown column '{first.column}'",
            jpath,
            hint=f"declare '{first.column}' under model.fields with its type",
            offset=first.offset,
        )

    def dataset_rule(self, rule: DatasetRule) -> None:
        base = ck.DatasetMeta(
            severity=rule.severity, origin=self.origin(rule.jpath), description=rule.description
        )
        for column in ([rule.column] if rule.column else []) + list(rule.columns):
            if column not in self.columns:
                from meshc.diagnostics import did_you_mean

                self.problem(
                    "MC305",
                    f"unknown column '{column}' in dataset rule",
                    (*rule.jpath, "type"),
                    hint=did_you_mean(column, self.columns) or "declare it under model.fields",
                )
                return
        if rule.type == "unique":
            key = tuple(ir.Col(c, self.columns[c]) for c in rule.columns)
            self.add(
                ck.Unique(
                    id=rule.name or "unique(" + ",".join(rule.columns) + ")",
                    rule="unique (" + ", ".join(rule.columns) + ")",
                    key=key,
                    **base,
                ),
                rule.jpath,
            )
        elif rule.type == "row_count":
            if rule.min is not None and rule.max is not None and rule.min > rule.max:
                self.problem(
                    "MC204",
                    f"min {rule.min!r} is greater than max {rule.max!r}",
                    (*rule.jpath, "min"),
                    hint="swap them",
                )
                return
            self.dataset_checks.append(
                ck.RowCount(
                    id=rule.name or "row_count",
                    rule=_row_count_text(rule),
                    min=_int(rule.min),
                    max=_int(rule.max),
                    **base,
                )
            )
        elif rule.type == "null_ratio":
            assert rule.column is not None and rule.max is not None
            self.dataset_checks.append(
                ck.NullRatio(
                    id=rule.name or f"{rule.column}.null_ratio",
                    rule=f"null ratio of {rule.column} <= {rule.max}",
                    column=ir.Col(rule.column, self.columns[rule.column]),
                    max=float(rule.max),
                    **base,
                )
            )
        elif rule.type == "freshness":
            self.freshness(rule, base)
        else:
            assert rule.sql is not None
            try:
                expr = compile_sql(rule.sql, self.columns, aggregate=True)
            except RuleProblem as exc:
                self.problem(exc.code, exc.message, (*rule.jpath, "sql"), exc.hint, exc.offset)
                return
            self.dataset_checks.append(
                ck.AggregateSql(
                    id=rule.name or rule_id_for(rule.sql),
                    rule=rule.sql,
                    expr=expr,
                    sql=rule.sql,
                    **base,
                )
            )

    def freshness(self, rule: DatasetRule, base: ck.DatasetMeta) -> None:
        assert rule.column is not None and rule.max_age is not None
        ltype = self.columns[rule.column]
        if not ltype.is_temporal:
            self.problem(
                "MC306",
                f"freshness needs a date or timestamp column; '{rule.column}' is {ltype}",
                (*rule.jpath, "column"),
            )
            return
        text = rule.max_age.replace(" ", "")
        seconds = int(text[:-1]) * _AGE_UNITS[text[-1]]
        self.dataset_checks.append(
            ck.Freshness(
                id=rule.name or f"{rule.column}.freshness",
                rule=f"newest {rule.column} within {rule.max_age}",
                column=ir.Col(rule.column, ltype),
                max_age_seconds=seconds,
                **base,
            )
        )

    def check_unique_ids(self) -> None:
        ids = [c.id for c in self.dataset_checks]
        for check_id, paths in self.id_paths.items():
            if len(paths) > 1 or check_id in ids:
                self.problem(
                    "MC308",
                    f"two rules have the same id '{check_id}'",
                    paths[-1],
                    hint="give each rule a distinct `name`",
                )


def _looks_like_typo(name: str, declared: dict[str, Any]) -> bool:
    """An undeclared column this close to a declared one is a typo (error), not implicit."""
    import difflib

    return any(
        difflib.SequenceMatcher(None, name.lower(), d.lower()).ratio() >= 0.9 for d in declared
    )


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _row_count_text(rule: DatasetRule) -> str:
    parts = ([f">= {_int(rule.min)}"] if rule.min is not None else []) + (
        [f"<= {_int(rule.max)}"] if rule.max is not None else []
    )
    return "row count " + " and ".join(parts) if parts else "row count"
