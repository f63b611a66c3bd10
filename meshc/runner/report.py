"""The run report: a typed, frozen model built once per run, serialised by `to_dict()`.

The JSON form is a public contract (schemas/run-report.schema.json); that schema is generated from
these classes (meshc/runner/report_schema.py), so a field added here is a field documented there.
Field metadata drives the JSON form: `json` renames a field (`in` is a Python keyword), `omit_none`
drops a field whose value is None (it is then optional in the schema), `exported=False` keeps a
field out of the JSON (where a rule was declared: renderers point at it, the JSON never had it).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from meshc.engines.base import REASONS
from meshc.rules.checks import Origin

if TYPE_CHECKING:
    from meshc.engines.base import Engine
    from meshc.rules.checks import CompiledContract, RowCheck
    from meshc.runner.dataset_checks import DatasetResult
    from meshc.runner.result import RunResult

REPORT_VERSION: Literal[1] = 1
SAMPLE_ROWS = 5

Severity = Literal["error", "warn"]


def meta(
    description: str | None = None,
    *,
    json: str | None = None,
    omit_none: bool = False,
    exported: bool = True,
    **schema: Any,
) -> dict[str, Any]:
    """Field metadata read by `to_dict` and the schema generator (`schema`: extra JSON Schema
    keywords such as `minimum`)."""
    extra = {**schema, **({"description": description} if description else {})}
    return {"json": json, "omit_none": omit_none, "exported": exported, "schema": extra}


class Serialisable:
    """`to_dict()` for the frozen report classes, following their field metadata."""

    SCHEMA_EXTRA: ClassVar[dict[str, Any]] = {}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if not f.metadata.get("exported", True):
                continue
            if value is None and f.metadata.get("omit_none"):
                continue
            out[f.metadata.get("json") or f.name] = _plain(value)
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, Serialisable):
        return value.to_dict()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class ContractRef(Serialisable):
    ref: str
    version: str
    path: str
    hash: str


@dataclass(frozen=True)
class RowCounts(Serialisable):
    """Source rows == valid + quarantined: the runner refuses to report anything else."""

    rows_in: int = field(metadata=meta(json="in", minimum=0))
    valid: int = field(metadata=meta(minimum=0))
    quarantined: int = field(metadata=meta(minimum=0))


@dataclass(frozen=True)
class RuleOutcome(Serialisable):
    """One row check: the contract's, a run-time injected one (policies, foreign keys) or a cast."""

    SCHEMA_EXTRA: ClassVar[dict[str, Any]] = {
        "if": {"properties": {"failures": {"type": "null"}}},
        "then": {"required": ["status", "reason"]},
        "else": {"not": {"required": ["status"]}},
    }

    id: str
    rule: str
    severity: Severity
    kind: str
    failures: int | None = field(
        metadata=meta("null when the check was not evaluated (see status, reason)", minimum=0)
    )
    status: Literal["not_evaluated"] | None = field(
        default=None,
        metadata=meta(
            "present only on a check that was not evaluated (a foreign key without parent "
            "data); never a pass",
            omit_none=True,
        ),
    )
    reason: str | None = field(
        default=None, metadata=meta("why the check was not evaluated", omit_none=True)
    )
    checked_against: str | None = field(
        default=None,
        metadata=meta("foreign keys: the parent run whose valid keys were used", omit_none=True),
    )
    origin: Origin | None = field(default=None, compare=False, metadata=meta(exported=False))


@dataclass(frozen=True)
class DatasetRuleOutcome(Serialisable):
    id: str
    rule: str
    severity: Severity
    passed: bool
    observed: Any
    message: str
    origin: Origin | None = field(default=None, compare=False, metadata=meta(exported=False))


@dataclass(frozen=True)
class NotEvaluated(Serialisable):
    id: str
    message: str


@dataclass(frozen=True)
class FailureReason(Serialisable):
    """Why a run failed, in words: the threshold exceeded or the dataset rule that failed."""

    kind: Literal["threshold", "dataset_rule"]
    id: str = field(metadata=meta("the threshold (max_quarantine_ratio, --fail-on) or rule id"))
    message: str = field(metadata=meta("e.g. 'max_quarantine_ratio 0.05 exceeded: 0.12'"))
    origin: Origin | None = field(default=None, compare=False, metadata=meta(exported=False))

    def __post_init__(self) -> None:
        # One line, whatever the rule's text: reports print it after a prefix, and a line break
        # from (untrusted) contract SQL would start a line CI reads as a command (`::warning::`).
        object.__setattr__(self, "message", " ".join(self.message.split()))


@dataclass(frozen=True)
class Outputs(Serialisable):
    valid: str | None
    quarantine: str | None


@dataclass(frozen=True)
class LineageRefs(Serialisable):
    record_path: str | None = field(default=None, metadata=meta(omit_none=True))
    openlineage_event: str | None = field(default=None, metadata=meta(omit_none=True))


def _engine_names() -> list[str]:
    from meshc.engines.registry import ENGINES

    return list(ENGINES)


@dataclass(frozen=True)
class RunReport(Serialisable):
    """What one run did, complete when built: counts, every rule's outcome, why it failed."""

    schema_version: Literal[1]
    run_id: str
    status: Literal["ok", "failed"]
    failed_because: tuple[FailureReason, ...] = field(
        metadata=meta("why the run failed; empty when status is ok")
    )
    contract: ContractRef
    engine: str = field(metadata=meta(enum=_engine_names()))
    source: str
    rows: RowCounts
    pass_rate: float = field(metadata=meta(minimum=0, maximum=1))
    rules: tuple[RuleOutcome, ...]
    dataset_rules: tuple[DatasetRuleOutcome, ...]
    warnings: tuple[NotEvaluated, ...] = field(
        metadata=meta(
            "checks that were not evaluated, with the reason (a warning: the run status does "
            "not change)"
        )
    )
    max_quarantine_ratio: float | None
    outputs: Outputs
    lineage: LineageRefs
    samples: tuple[dict[str, Any], ...]
    elapsed_seconds: float = field(metadata=meta(minimum=0))
    validator: Literal["native", "pandera", "gx"] = field(
        metadata=meta(
            "what judged the rows: meshc's own expressions, or the compiled Pandera schema / "
            "GX suite"
        )
    )
    validator_native_checks: tuple[str, ...] | None = field(
        default=None,
        metadata=meta(
            "with a validator: the checks the artifacts do not hold, judged natively (rules "
            "the library cannot express, run-time checks)",
            omit_none=True,
        ),
    )

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def failed_on(self, reason: FailureReason) -> RunReport:
        """This report failed for one more reason (the CLI's --fail-on threshold)."""
        return dataclasses.replace(
            self, status="failed", failed_because=(*self.failed_because, reason)
        )


def build_report(
    result: RunResult,
    compiled: CompiledContract,
    engine: Engine[Any],
    source: str,
    elapsed: float,
    injected: Sequence[RowCheck] = (),
    validator: str | None = None,
    native_checks: Sequence[str] = (),
) -> RunReport:
    """`injected`: the checks added at run time (policies, foreign keys); they are reported with
    their own rule text and severity, like the contract's. `validator`: the compiled artifacts
    that judged the rows ("pandera", "gx"), `native_checks` the checks judged natively then."""
    contract = result.contract
    return RunReport(
        schema_version=REPORT_VERSION,
        run_id=result.run_id,
        status="ok" if result.ok else "failed",
        failed_because=failure_reasons(result, compiled),
        contract=ContractRef(contract.ref, contract.info.version, contract.path, contract.hash),
        engine=result.engine,
        source=source,
        rows=RowCounts(result.rows_in, result.rows_valid, result.rows_quarantined),
        pass_rate=round(result.pass_rate, 6),
        rules=rule_outcomes(result, compiled, injected),
        dataset_rules=_dataset_outcomes(result.dataset_results, compiled),
        warnings=tuple(NotEvaluated(i, m) for i, m in result.not_evaluated.items()),
        max_quarantine_ratio=contract.max_quarantine_ratio,
        outputs=Outputs(result.outputs.get("valid"), result.outputs.get("quarantine")),
        lineage=LineageRefs(
            (result.lineage or {}).get("record_path"),
            (result.lineage or {}).get("openlineage_event"),
        ),
        samples=tuple(sample_quarantine(engine, result.quarantine_frame, SAMPLE_ROWS)),
        elapsed_seconds=round(elapsed, 3),
        validator=validator or "native",  # type: ignore[arg-type]
        validator_native_checks=tuple(native_checks) if validator else None,
    )


def rule_outcomes(
    result: RunResult, compiled: CompiledContract, injected: Sequence[RowCheck]
) -> tuple[RuleOutcome, ...]:
    rules = [_rule(result, c, type(c).__name__) for c in compiled.row_checks]
    known = {r.id for r in rules}
    extra = {c.id: c for c in injected if c.id not in known}
    rules += [_rule(result, c, "Injected") for c in extra.values()]
    known |= set(extra)
    rules += [  # cast failures
        RuleOutcome(
            id=rule_id,
            rule="type" if rule_id.endswith(".type") else rule_id,
            severity="error",
            kind="Cast" if rule_id.endswith(".type") else "Injected",
            failures=int(count),
            origin=_field_origin(compiled, rule_id),
        )
        for rule_id, count in sorted(result.failures.items())
        if rule_id not in known
    ]
    return tuple(rules)


def _rule(result: RunResult, check: RowCheck, kind: str) -> RuleOutcome:
    """A check not evaluated (a foreign key without parent data) has no failure count: it is
    `status: not_evaluated` with the reason, never a pass with 0 failures."""
    base = RuleOutcome(
        check.id, check.rule, check.severity, kind, failures=None, origin=check.origin
    )
    if check.id in result.not_evaluated:
        reason = result.not_evaluated[check.id]
        return dataclasses.replace(base, status="not_evaluated", reason=reason)
    return dataclasses.replace(
        base,
        failures=int(result.failures.get(check.id, 0)),
        checked_against=result.checked_against.get(check.id),
    )


def _field_origin(compiled: CompiledContract, rule_id: str) -> Origin | None:
    """A cast failure `<field>.type` points at the field's declaration."""
    contract = compiled.contract
    name = rule_id.removesuffix(".type")
    if contract.locator is None:
        return None
    for f in contract.fields:
        if f.name == name:
            line, col = contract.locator.key(f.jpath)
            return Origin(contract.locator.path, line, col)
    return None


def _dataset_outcomes(
    results: Sequence[DatasetResult], compiled: CompiledContract
) -> tuple[DatasetRuleOutcome, ...]:
    origins = {c.id: c.origin for c in compiled.dataset_checks}
    return tuple(DatasetRuleOutcome(**r.to_dict(), origin=origins.get(r.id)) for r in results)


def failure_reasons(result: RunResult, compiled: CompiledContract) -> tuple[FailureReason, ...]:
    """Every reason `result.ok` is False, in words; empty when the run is ok."""
    contract = result.contract
    reasons = []
    limit = contract.max_quarantine_ratio
    if limit is not None and result.quarantine_ratio > limit:
        loc = contract.locator
        origin = None
        if loc is not None:
            line, col = loc.key(("quality", "max_quarantine_ratio"))
            origin = Origin(loc.path, line, col)
        reasons.append(
            FailureReason(
                "threshold",
                "max_quarantine_ratio",
                threshold_message("max_quarantine_ratio", limit, result.quarantine_ratio),
                origin,
            )
        )
    origins = {c.id: c.origin for c in compiled.dataset_checks}
    reasons += [
        FailureReason(
            "dataset_rule", r.id, f"{r.id} failed: {r.message} ({r.rule})", origins.get(r.id)
        )
        for r in result.failed_dataset_rules
    ]
    return tuple(reasons)


def threshold_message(name: str, limit: float, ratio: float) -> str:
    """'max_quarantine_ratio 0.05 exceeded: 0.12' (the quarantined share of source rows)."""
    return f"{name} {limit:g} exceeded: {round(ratio, 4):g}"


def sample_quarantine(engine: Engine[Any], frame: Any, n: int) -> list[dict[str, Any]]:
    """The first n quarantined rows as JSON-ready dicts (reasons kept structured). Only those
    rows are read (`Engine.head`): a quarantine of millions of rows is not converted to show 5."""
    rows = engine.head(frame, n).to_pylist()
    return [json.loads(json.dumps(row, default=str)) for row in rows]


__all__ = ["RunReport", "build_report", "sample_quarantine", "REASONS"]
