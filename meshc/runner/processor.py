"""The runner: wires the stages (load -> compile -> plan -> read -> validate -> write -> report).

    DataProcessor("contracts/crm/orders.yaml", engine="duckdb").run_source()
    DataProcessor(contract, engine="polars").run(frame)

Every stage is a function elsewhere; this module only orders them and checks the one invariant
that must never break: source rows == valid rows + quarantined rows.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshc.contract import Contract
from meshc.engines.base import Engine, Split, ValidationPlan
from meshc.engines.registry import DEFAULT_ENGINE, get_engine
from meshc.errors import IntegrityError, SourceError
from meshc.rules import checks as ck
from meshc.runner.dataset_checks import DatasetResult, evaluate_dataset_checks
from meshc.runner.foreign_keys import ForeignKeys, resolve_foreign_keys
from meshc.runner.plan import build_plan, plan_columns
from meshc.runner.writing import AtomicBatch

if TYPE_CHECKING:
    from meshc.mesh.project import MeshProject

Progress = Callable[[str], None]


@dataclass
class RunResult:
    """What a run produced: native frames, counts, per-rule failures, lineage and a report."""

    contract: Contract
    engine: str
    run_id: str
    valid_frame: Any  # the engine's frame; lazy (over the written files) when the run streamed
    quarantine_frame: Any
    rows_in: int
    rows_valid: int
    rows_quarantined: int
    failures: dict[str, int]
    dataset_results: list[DatasetResult]
    outputs: dict[str, str | None]
    lineage: dict[str, Any] | None
    report: dict[str, Any] = field(default_factory=dict)
    engine_impl: Engine | None = field(default=None, repr=False)
    # checks that could not be evaluated (foreign keys without parent data): id -> reason
    not_evaluated: dict[str, str] = field(default_factory=dict)
    checked_against: dict[str, str] = field(default_factory=dict)  # foreign key id -> parent run

    @property
    def valid(self) -> Any:
        """The valid rows as the engine's in-memory frame (a Polars DataFrame on Polars);
        materialised on first access when the run streamed its outputs."""
        self.valid_frame = self._materialize(self.valid_frame)
        return self.valid_frame

    @property
    def quarantine(self) -> Any:
        self.quarantine_frame = self._materialize(self.quarantine_frame)
        return self.quarantine_frame

    def _materialize(self, frame: Any) -> Any:
        materialize = getattr(self.engine_impl, "materialize", None)
        return frame if materialize is None else materialize(frame)

    def valid_arrow(self) -> Any:
        """The valid rows as a pyarrow Table, whatever the engine."""
        assert self.engine_impl is not None
        return self.engine_impl.to_arrow(self.valid_frame)

    def quarantine_arrow(self) -> Any:
        assert self.engine_impl is not None
        return self.engine_impl.to_arrow(self.quarantine_frame)

    @property
    def pass_rate(self) -> float:
        return 1.0 if self.rows_in == 0 else self.rows_valid / self.rows_in

    @property
    def quarantine_ratio(self) -> float:
        return 0.0 if self.rows_in == 0 else self.rows_quarantined / self.rows_in

    @property
    def failed_dataset_rules(self) -> list[DatasetResult]:
        return [r for r in self.dataset_results if not r.passed and r.severity == "error"]

    @property
    def ok(self) -> bool:
        """False when a dataset rule failed or the contract's max_quarantine_ratio was exceeded."""
        limit = self.contract.max_quarantine_ratio
        return not self.failed_dataset_rules and (limit is None or self.quarantine_ratio <= limit)

    def to_json(self) -> str:
        return json.dumps(self.report, indent=2, default=str)


def _policy_checks(contract: Contract, mesh: MeshProject | None) -> tuple[ck.RowCheck, ...]:
    """Row rules the mesh's policies add to a contract it governs (meshc.governance)."""
    if mesh is None or not mesh.governs(contract.path):
        return ()
    from meshc.governance import injected_checks

    return injected_checks(contract, mesh)


class DataProcessor:
    """Enforce one contract on one engine. Polars is the default engine."""

    def __init__(
        self,
        contract: str | Path | Contract,
        engine: str | Engine = DEFAULT_ENGINE,
        *,
        root: str | Path = ".",
        now: dt.datetime | None = None,
        progress: Progress | None = None,
        extra_checks: tuple[ck.RowCheck, ...] = (),
        upstream_runs: list[dict[str, Any]] | None = None,
        validator: str | None = None,
        parent_runs: Mapping[str, RunResult] | None = None,
        mesh: MeshProject | None = None,
    ) -> None:
        """`mesh`: the project (mesh.yaml) whose policies govern the contract; the row rules they
        imply are added here, so `meshc run -c`, `meshc mesh` and library calls check alike."""
        from meshc.loader import load_contract
        from meshc.rules.compiler import compile_contract

        self.contract = contract if isinstance(contract, Contract) else load_contract(contract)
        self.compiled = compile_contract(self.contract)
        self.engine: Engine = get_engine(engine) if isinstance(engine, str) else engine
        self.root = Path(root)
        self.now = now
        self.progress = progress or (lambda _msg: None)
        self.extra_checks = (*_policy_checks(self.contract, mesh), *extra_checks)
        self.upstream_runs = upstream_runs or []  # run records of the inputs (gold contracts)
        self.validator = validator  # "pandera" | "gx": the compiled artifacts judge the rows
        # runs of referenced contracts in this process (the mesh); else their recorded runs
        self.parent_runs = dict(parent_runs or {})

    # -- entry points ---------------------------------------------------------------------------
    def run_source(
        self,
        source: str | Path | None = None,
        *,
        output: str | Path | None = None,
        quarantine: str | Path | None = None,
        write: bool = True,
    ) -> RunResult:
        """Read the source (default: the contract's), validate, and write both outputs."""
        from meshc.runner.sources import resolve_source

        self._require_masking_key()
        spec = str(source) if source is not None else self._contract_source()
        fmt = self.contract.source.format if (self.contract.source and source is None) else None
        resolved = resolve_source(spec, fmt)
        if write:
            self._check_targets(output, quarantine, resolved.paths, spec)
        self.progress(f"reading {len(resolved.paths)} {resolved.format} file(s) from {spec}")
        src = self.contract.source
        frame = self.engine.read(
            resolved.paths,
            resolved.format,
            delimiter=src.delimiter if src else ",",
            header=src.header if src else True,
            text_columns=[c.name for c in plan_columns(self.compiled)],
        )
        inputs = [
            {"namespace": "file", "name": str(Path(p).resolve()), "format": resolved.format}
            for p in resolved.paths
        ]
        # written runs stream where the engine can (bounded memory for any source size)
        return self._execute(frame, spec, inputs, output, quarantine, write, stream=write)

    def run(
        self,
        frame: Any,
        *,
        source_name: str = "<frame>",
        write: bool = False,
        output: str | Path | None = None,
        quarantine: str | Path | None = None,
    ) -> RunResult:
        """Validate an in-memory frame of the engine's own kind (nothing written by default)."""
        self._require_masking_key()
        if write:
            self._check_targets(output, quarantine)
        return self._execute(
            frame,
            source_name,
            [{"namespace": "memory", "name": source_name}],
            output,
            quarantine,
            write,
        )

    # -- stages ---------------------------------------------------------------------------------
    def _contract_source(self) -> str:
        if self.contract.source is None:
            raise SourceError(
                f"{self.contract.path}: the contract declares no source; pass one "
                "(--source PATH, or run_source(source=...))"
            )
        return self.contract.source.path

    def _plan(
        self, run_id: str, source: str, now: dt.datetime, foreign: ForeignKeys
    ) -> ValidationPlan:
        from meshc.runner.lineage import lineage_columns

        lineage = None
        if self.contract.lineage.enabled and self.contract.lineage.columns:
            lineage = lineage_columns(self.contract, run_id, source, now)
        extra = (*foreign.checks, *self.extra_checks)
        return build_plan(self.compiled, now=now, lineage=lineage, extra_checks=extra)

    def _execute(
        self,
        frame: Any,
        source: str,
        inputs: list[dict[str, Any]],
        output: str | Path | None,
        quarantine: str | Path | None,
        write: bool,
        stream: bool = False,
    ) -> RunResult:
        """Run the stages; the files a run writes (outputs, lineage records) are staged in one
        batch and committed together at the end, or removed when anything fails (even SIGTERM)."""
        with AtomicBatch(progress=self.progress) as batch:
            return self._execute_staged(
                batch, frame, source, inputs, output, quarantine, write, stream
            )

    def _execute_staged(
        self,
        batch: AtomicBatch,
        frame: Any,
        source: str,
        inputs: list[dict[str, Any]],
        output: str | Path | None,
        quarantine: str | Path | None,
        write: bool,
        stream: bool = False,
    ) -> RunResult:
        started = time.perf_counter()
        now = self.now or dt.datetime.now(dt.timezone.utc)
        run_id = batch.run_id
        foreign = resolve_foreign_keys(self.compiled, self.root, self.parent_runs)
        plan = self._plan(run_id, source, now, foreign)
        self._require_columns(frame, plan)
        self.progress(f"validating with {len(plan.checks)} checks on {self.engine.name}")
        split, native_checks = self._validate(frame, plan, stream, now)
        if split.rows_in != split.rows_valid + split.rows_quarantined:
            raise IntegrityError(
                f"{split.rows_in} source rows but {split.rows_valid} valid + "
                f"{split.rows_quarantined} quarantined: refusing to write"
            )
        results = evaluate_dataset_checks(
            self.engine, split.valid, self.compiled.dataset_checks, now
        )
        self._mask(split)
        outputs: dict[str, str | None] = {"valid": None, "quarantine": None}
        if write:
            outputs = self._write(batch, split, output, quarantine)
        result = RunResult(
            contract=self.contract,
            engine=self.engine.name,
            run_id=run_id,
            valid_frame=split.valid,
            quarantine_frame=split.quarantine,
            rows_in=split.rows_in,
            rows_valid=split.rows_valid,
            rows_quarantined=split.rows_quarantined,
            failures=split.failures,
            dataset_results=results,
            outputs=outputs,
            lineage=None,
            engine_impl=self.engine,
            not_evaluated=foreign.not_evaluated,
            checked_against=foreign.checked_against,
        )
        from meshc.runner.report import build_report

        finished = dt.datetime.now(dt.timezone.utc)
        if write and self.contract.lineage.enabled:
            result.lineage = self._record_lineage(batch, result, inputs, now, finished)
        batch.commit()  # outputs, then run record, then latest.json: all or nothing
        result.report = build_report(
            result,
            self.compiled,
            self.engine,
            source,
            elapsed=time.perf_counter() - started,
            injected=plan.checks,
        )
        result.report["validator"] = self.validator or "native"
        if self.validator:
            result.report["validator_native_checks"] = native_checks
        return result

    def _validate(
        self, frame: Any, plan: ValidationPlan, stream: bool, now: dt.datetime
    ) -> tuple[Split, list[str]]:
        """The split, and the checks judged natively. With a validator the compiled artifacts
        judge the checks they hold (meshc.runner.artifacts); otherwise an engine with
        `validate_streaming` (Polars) writes its outputs to spill files in one streaming pass
        instead of holding them in memory, and the others validate as usual."""
        if self.validator:
            from meshc.runner.artifacts import split_with_artifacts

            self.progress(f"judging rows with the compiled {self.validator} artifacts")
            split, native = split_with_artifacts(
                self.validator, self.compiled, self.engine, frame, plan, now
            )
            return split, native
        streaming = getattr(self.engine, "validate_streaming", None) if stream else None
        if streaming is not None:
            return streaming(frame, plan), [c.id for c in plan.checks]
        return self.engine.validate(frame, plan), [c.id for c in plan.checks]

    def _require_masking_key(self) -> None:
        """`masking: hash` is keyed: without a key the run fails before reading anything."""
        if any(f.masking == "hash" for f in self.contract.fields):
            from meshc.engines.masking_key import masking_key

            masking_key()

    def _mask(self, split: Any) -> None:
        """PII masking after the checks (rules see real values) and before anything is written or
        returned; the quarantine is masked too, reasons included."""
        masks = {f.name: f.masking for f in self.contract.fields if f.masking}
        if not masks:
            return
        split.valid = self.engine.mask(split.valid, masks)
        split.quarantine = self.engine.mask(split.quarantine, masks)

    def _require_columns(self, frame: Any, plan: ValidationPlan) -> None:
        present = set(self.engine.columns(frame))
        missing = [c.name for c in plan.columns if c.name not in present]
        if missing:
            from meshc.diagnostics import did_you_mean

            hints = [h for h in (did_you_mean(m, present) for m in missing) if h]
            raise SourceError(
                f"the source lacks contract column(s) {', '.join(repr(m) for m in missing)}"
                + (f" ({'; '.join(hints)})" if hints else "")
                + "; nothing was written"
            )
        if plan.extra_columns == "error":
            extra = sorted(present - {c.name for c in plan.columns})
            if extra:
                raise SourceError(
                    f"the source has undeclared column(s) {', '.join(extra)} and "
                    "model.extra_columns is 'error'; nothing was written"
                )

    def _write(
        self,
        batch: AtomicBatch,
        split: Any,
        output: str | Path | None,
        quarantine: str | Path | None,
    ) -> dict[str, str | None]:
        """Stage both outputs in `batch` (committed with the lineage records by the caller)."""
        targets = self._targets(output, quarantine)
        frames = {"valid": split.valid, "quarantine": split.quarantine}
        counts = {"valid": split.rows_valid, "quarantine": split.rows_quarantined}
        paths: dict[str, str | None] = {"valid": None, "quarantine": None}
        for role, target in targets.items():
            self.progress(f"writing {counts[role]} {role} rows to {target}")
            batch.stage(target, self._writer(frames[role], _fmt(target)))
            paths[role] = str(target)
        return paths

    def _writer(self, frame: Any, fmt: str) -> Callable[[Path], None]:
        return lambda tmp: self.engine.write(frame, tmp, fmt)

    def _targets(self, output: str | Path | None, quarantine: str | Path | None) -> dict[str, Path]:
        """The files this run writes its outputs to, by role ("valid", "quarantine")."""
        out, q = self.contract.output, self.contract.quarantine
        targets = {
            "valid": self._target(
                output, "output", out.target if out else None, out.format if out else "parquet"
            ),
            "quarantine": self._target(quarantine, "quarantine", q.target, q.format)
            if q.enabled
            else None,
        }
        return {role: path for role, path in targets.items() if path is not None}

    def _check_targets(
        self,
        output: str | Path | None,
        quarantine: str | Path | None,
        sources: tuple[str, ...] = (),
        source_spec: str | None = None,
    ) -> None:
        """Before reading: refuse targets that overlap an input or each other, or cannot be
        written (an existing folder, a file where a folder must go, no permission)."""
        from meshc.runner.lineage import record_paths
        from meshc.runner.targets import refuse_overlaps, refuse_unwritable

        targets = self._targets(output, quarantine)
        refuse_overlaps(targets, sources, source_spec, self.contract.path)
        extra = []
        if self.contract.lineage.enabled:
            extra.append(record_paths(self.root, self.contract, "latest")[0])
        refuse_unwritable([*targets.values(), *extra])

    def _target(
        self, explicit: str | Path | None, section: str, declared: str | None, fmt: str
    ) -> Path | None:
        """An explicit path is used as given; a declared target is a folder under the root that
        receives `data.<format>`, refused when it leaves the root (meshc.target_paths)."""
        if explicit is not None:
            return Path(explicit)
        if declared is None:
            return None
        from meshc.target_paths import target_problem

        problem = target_problem(section, declared)
        if problem is not None:
            from meshc.diagnostics import Diagnostic
            from meshc.errors import ContractError

            code, message, hint = problem
            loc = self.contract.locator
            found = (
                loc.diagnostic(code, message, (section, "target"), hint=hint)
                if loc is not None
                else Diagnostic(code, message, self.contract.path, hint=hint)
            )
            raise ContractError([found])
        from meshc.runner.targets import refuse_outside_root

        target = self.root / declared / f"data.{_EXT[fmt]}"
        refuse_outside_root(self.root, target, section, declared)
        return target

    def _record_lineage(
        self,
        batch: AtomicBatch,
        result: RunResult,
        inputs: list[dict[str, Any]],
        started: dt.datetime,
        finished: dt.datetime,
    ) -> dict[str, Any]:
        from meshc.runner.lineage import openlineage_event, record_paths, run_record

        counts = {
            "rows_in": result.rows_in,
            "rows_valid": result.rows_valid,
            "rows_quarantined": result.rows_quarantined,
        }
        upstream_inputs = [
            {"namespace": "meshc", "name": u["contract"]["ref"], "run_id": u["run_id"]}
            for u in self.upstream_runs
        ]
        record = run_record(
            self.contract,
            result.run_id,
            self.engine.name,
            started,
            finished,
            upstream_inputs or inputs,
            result.outputs,
            counts,
            "ok" if result.ok else "failed",
        )
        if self.upstream_runs:
            record["upstream_runs"] = self.upstream_runs
        record_path, event_path = record_paths(self.root, self.contract, result.run_id)
        text = json.dumps(record, indent=2, default=str)
        batch.stage_text(record_path, text)
        if self.contract.lineage.openlineage:
            try:
                event = openlineage_event(record)
            except ImportError:
                event = None
            if event is not None:
                batch.stage_text(event_path, json.dumps(event, indent=2))
                record["openlineage_event"] = str(event_path)
        # staged last, so renamed last: latest.json never points at a pair not yet in place
        batch.stage_text(record_path.with_name("latest.json"), text)
        record["record_path"] = str(record_path)
        return record


_EXT = {"parquet": "parquet", "csv": "csv", "json": "ndjson"}


def _fmt(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    return {"ndjson": "json", "jsonl": "json", "json": "json", "csv": "csv"}.get(suffix, "parquet")
