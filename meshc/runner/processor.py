"""The runner: wires the stages (load -> compile -> plan -> read -> validate -> write -> report).

    with DataProcessor("contracts/crm/orders.yaml", engine="duckdb") as processor:
        processor.run_source()
    DataProcessor(contract, engine="polars").run(frame)

Lifecycle: a DataProcessor owns the engine it creates from a name and closes it in `close()` (or
on leaving a `with` block); an engine instance passed in stays the caller's to close. The frames of
a RunResult belong to that engine (a DuckDB relation lives on its connection), so they are usable
until the processor (or `RunResult.close()`) closes it.

Every stage is a function elsewhere; this module only orders them and checks the one invariant
that must never break: source rows == valid rows + quarantined rows.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from meshc.contract import Contract
from meshc.engines.base import (
    TEXT_FORMATS,
    Engine,
    MasksWhileStreaming,
    Split,
    StreamingEngine,
    ValidationPlan,
)
from meshc.engines.registry import DEFAULT_ENGINE, get_engine
from meshc.engines.spec import source_columns
from meshc.errors import IntegrityError, SourceError
from meshc.rules import checks as ck
from meshc.rules.checks import CompiledContract
from meshc.runner.dataset_checks import evaluate_dataset_checks
from meshc.runner.destinations import EXT, Destinations, delta_if_table, file_format, is_local_file
from meshc.runner.foreign_keys import ForeignKeys, resolve_foreign_keys
from meshc.runner.lineage import emits_openlineage
from meshc.runner.plan import build_plan, plan_columns
from meshc.runner.progress import Progress, rows_line, step
from meshc.runner.result import RunResult
from meshc.runner.writing import AtomicBatch
from meshc.storage.location import Location
from meshc.storage.spool import Spool

if TYPE_CHECKING:
    from meshc.mesh.project import MeshProject

__all__ = ["DataProcessor", "RunResult"]  # RunResult lives in meshc.runner.result


def _policy_checks(compiled: CompiledContract, mesh: MeshProject | None) -> tuple[ck.RowCheck, ...]:
    """Row rules the mesh's policies add to a contract it governs (meshc.governance)."""
    if mesh is None or not mesh.governs(compiled.contract.path):
        return ()
    from meshc.governance import injected_checks

    return injected_checks(compiled.contract, mesh, compiled=compiled)


def _openlineage(mesh: MeshProject | None) -> Mapping[str, Any] | None:
    return None if mesh is None else mesh.openlineage


def _compiled(contract: str | Path | Contract | CompiledContract) -> CompiledContract:
    if isinstance(contract, CompiledContract):
        return contract
    if isinstance(contract, Contract):
        from meshc.rules.compiler import compile_contract

        return compile_contract(contract)
    from meshc.loader import load_compiled

    return load_compiled(contract)


class DataProcessor:
    """Enforce one contract on one engine. Polars is the default engine."""

    def __init__(
        self,
        contract: str | Path | Contract | CompiledContract,
        engine: str | Engine[Any] = DEFAULT_ENGINE,
        *,
        root: str | Path = ".",
        now: dt.datetime | None = None,
        progress: Progress | None = None,
        extra_checks: tuple[ck.RowCheck, ...] = (),
        upstream_runs: list[dict[str, Any]] | None = None,
        validator: str | None = None,
        parent_runs: Mapping[str, RunResult] | None = None,
        mesh: MeshProject | None = None,
        openlineage: Mapping[str, Any] | None = None,
    ) -> None:
        """`mesh`: the project (mesh.yaml) whose policies govern the contract; the row rules they
        imply are added here, so `meshc run -c`, `meshc mesh` and library calls check alike.
        `openlineage`: where OpenLineage events go (`{transport: ..., namespace: ...}`, as the
        mesh's `openlineage:` block, which is the default; docs/lineage.md).
        The contract is compiled once: a path is loaded and compiled together
        (meshc.loader.load_compiled), a Contract compiled here, a CompiledContract used as is."""
        self.compiled = _compiled(contract)
        self.contract: Contract = self.compiled.contract
        self.engine: Engine[Any] = get_engine(engine) if isinstance(engine, str) else engine
        self._owns_engine = isinstance(engine, str)  # made here, so closed here
        self.root = Path(root)
        self.now = now
        self.progress = progress or (lambda _msg: None)
        self.extra_checks = (*_policy_checks(self.compiled, mesh), *extra_checks)
        self.upstream_runs = upstream_runs or []  # run records of the inputs (gold contracts)
        self.validator = validator  # "pandera" | "gx": the compiled artifacts judge the rows
        # runs of referenced contracts in this process (the mesh); else their recorded runs
        self.parent_runs = dict(parent_runs or {})
        self.openlineage = openlineage if openlineage is not None else _openlineage(mesh)
        self._spool = Spool()  # fetched sources and outputs waiting to be published
        self._places = Destinations(self.contract, self.root, self.engine)  # where outputs go

    # -- lifecycle ------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the engine this processor created from a name (not one it was given); the
        frames of its results are unusable afterwards. Idempotent."""
        if self._owns_engine:
            self.engine.close()
        self._spool.close()

    def __enter__(self) -> DataProcessor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- entry points ---------------------------------------------------------------------------
    @emits_openlineage  # a run that cannot start still sends START + FAIL (meshc.runner.lineage)
    def run_source(
        self,
        source: str | Path | None = None,
        *,
        output: str | Path | None = None,
        quarantine: str | Path | None = None,
        write: bool = True,
    ) -> RunResult:
        """Read the source (default: the contract's), validate, and write both outputs.
        `source`: any location text (meshc.storage.location): a path, an object URL, a Delta
        table's folder, `postgresql://host/db#schema.table`, `duckdb:file.duckdb#table`."""
        from meshc.storage.sources import declared_at, fetch, refuse_unreachable

        self._require_masking_key()
        location = self._source_location(source)
        spec = location.text
        at = declared_at(self.contract.locator, "source", location) if source is None else ""
        refuse_unreachable(self.engine.name, location, at)
        if not (location.local and location.kind == "files") and not self._reads_itself(location):
            what = f"{at}cannot read {spec}"
            self._places.refuse_spool_on_cluster(SourceError, what, "nothing was read")
        # local files are checked against the targets before reading; other storage is fetched
        # only once the targets are known to be writable
        files = (
            fetch(location, self._spool) if location.local and location.kind == "files" else None
        )
        if write:
            self._places.check(
                output, quarantine, files.paths if files else (), spec if files else None
            )
        native = self._read_natively(location)
        if native is not None:
            frame, inputs, fmt = native
        else:
            files = files or fetch(location, self._spool)
            self.progress(step("read", f"{len(files.paths)} {files.format} file(s) from {spec}"))
            src = self.contract.source
            frame = self.engine.read(
                files.paths,
                files.format,
                delimiter=src.delimiter if src else ",",
                header=src.header if src else True,
                text_columns=[c.name for c in plan_columns(self.compiled)],
            )
            inputs, fmt = files.inputs, files.format
        # written runs stream where the engine can (bounded memory for any source size)
        return self._execute(
            frame,
            spec,
            inputs,
            output,
            quarantine,
            write,
            stream=write,
            text_source=fmt in TEXT_FORMATS,
        )

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
            self._places.check(output, quarantine)
        return self._execute(
            frame,
            source_name,
            [{"namespace": "memory", "name": source_name}],
            output,
            quarantine,
            write,
        )

    # -- stages ---------------------------------------------------------------------------------
    def _source_location(self, source: str | Path | None) -> Location:
        """The contract's source, or the one given (a path or location text)."""
        from meshc.storage.location import LocationError, parse

        try:
            if source is not None:
                return parse(str(source), format=delta_if_table(str(source)))
            if self.contract.source is None:
                raise SourceError(
                    f"{self.contract.path}: the contract declares no source; pass one "
                    "(--source PATH, or run_source(source=...))"
                )
            return self.contract.source.location
        except LocationError as exc:
            raise SourceError(f"{exc}; nothing was read") from exc

    def _reads_itself(self, location: Location) -> bool:
        """Whether the engine reads this database itself (Spark: PostgreSQL through JDBC)."""
        from meshc.engines.base import ReadsDatabases

        return (
            location.kind == "table"
            and isinstance(self.engine, ReadsDatabases)
            and self.engine.reads_database(location.scheme)
        )

    def _read_natively(self, location: Location) -> tuple[Any, list[dict[str, Any]], str] | None:
        """(frame, inputs, format) when the engine reads this database itself (Spark: JDBC)."""
        from meshc.engines.base import ReadsDatabases

        engine = self.engine
        if not self._reads_itself(location) or not isinstance(engine, ReadsDatabases):
            return None
        from meshc.storage.database import inputs

        self.progress(step("read", f"{location.text} through {engine.name}"))
        return engine.read_database(location), inputs(location), "table"

    def _plan(
        self,
        run_id: str,
        source: str,
        now: dt.datetime,
        foreign: ForeignKeys,
        text_source: bool | None,
    ) -> ValidationPlan:
        from meshc.runner.lineage import lineage_columns

        lineage = None
        if self.contract.lineage.enabled and self.contract.lineage.columns:
            lineage = lineage_columns(self.contract, run_id, source, now)
        extra = (*foreign.checks, *self.extra_checks)
        return build_plan(
            self.compiled, now=now, lineage=lineage, extra_checks=extra, text_source=text_source
        )

    def _execute(
        self,
        frame: Any,
        source: str,
        inputs: list[dict[str, Any]],
        output: str | Path | None,
        quarantine: str | Path | None,
        write: bool,
        stream: bool = False,
        text_source: bool | None = None,
    ) -> RunResult:
        """Run the stages; the files a run writes (outputs, lineage records) are staged in one
        batch and committed together at the end, or removed when anything fails (even SIGTERM).
        `text_source`: what the frame is (read from csv/json: True, Parquet: False, an in-memory
        frame: None), for the plan (ValidationPlan.text_source)."""
        from meshc.runner.lineage import openlineage_run

        with (
            AtomicBatch(progress=self.progress) as batch,
            openlineage_run(self, batch.run_id, inputs, write),  # START, then COMPLETE/FAIL
        ):
            return self._execute_staged(
                batch, frame, source, inputs, output, quarantine, write, stream, text_source
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
        text_source: bool | None = None,
    ) -> RunResult:
        started = time.perf_counter()
        now = self.now or dt.datetime.now(dt.timezone.utc)
        run_id = batch.run_id
        foreign = resolve_foreign_keys(self.compiled, self.root, self.parent_runs)
        plan = self._plan(run_id, source, now, foreign, text_source)
        self._require_columns(frame, plan)
        self.progress(step("validate", f"{len(plan.checks)} checks on {self.engine.name}"))
        fold = self._masks_to_fold(stream)  # masked in the streamed pass: each output written once
        split, native_checks = self._validate(frame, plan, stream, now, fold)
        if split.rows_in != split.rows_valid + split.rows_quarantined:
            raise IntegrityError(
                f"{split.rows_in} source rows but {split.rows_valid} valid + "
                f"{split.rows_quarantined} quarantined: refusing to write"
            )
        self.progress(
            step("validate", rows_line(split.rows_in, split.rows_valid, split.rows_quarantined))
        )
        results = evaluate_dataset_checks(
            self.engine, split.valid, self.compiled.dataset_checks, now
        )
        split = split if fold else self._mask(split)
        outputs: dict[str, str | None] = {"valid": None, "quarantine": None}
        pending: list[Any] = []
        if write:
            outputs, pending = self._write(batch, split, output, quarantine)
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

        if pending:  # other storage first: a failure here leaves every target as it was
            from meshc.storage.publish import publish

            self.progress(step("commit", f"{len(pending)} output(s) to storage"))
            result.published = publish(pending)
        finished = dt.datetime.now(dt.timezone.utc)
        if write and self.contract.lineage.enabled:
            result.lineage = self._record_lineage(batch, result, inputs, now, finished)
        if write:
            self.progress(step("commit", f"run {run_id}"))
        batch.commit()  # outputs, then run record, then latest.json: all or nothing
        result.run_report = build_report(
            result,
            self.compiled,
            self.engine,
            source,
            elapsed=time.perf_counter() - started,
            injected=plan.checks,
            validator=self.validator,
            native_checks=native_checks,
        )
        result.report = result.run_report.to_dict()
        return result

    def _validate(
        self,
        frame: Any,
        plan: ValidationPlan,
        stream: bool,
        now: dt.datetime,
        fold: Mapping[str, str] | None = None,
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
        if fold and isinstance(self.engine, MasksWhileStreaming):
            masked = self.engine.validate_streaming_masked(frame, plan, fold)
            return masked, [c.id for c in plan.checks]
        if stream and isinstance(self.engine, StreamingEngine):
            return self.engine.validate_streaming(frame, plan), [c.id for c in plan.checks]
        return self.engine.validate(frame, plan), [c.id for c in plan.checks]

    def _require_masking_key(self) -> None:
        """`masking: hash` is keyed: without a key the run fails before reading anything."""
        if any(f.masking == "hash" for f in self.contract.fields):
            from meshc.engines.masking_key import masking_key

            masking_key()

    def _masks_to_fold(self, stream: bool) -> dict[str, str]:
        """The masks the engine applies in its streamed pass (meshc.runner.masks), or none."""
        from meshc.runner.masks import contract_masks, foldable

        masks = contract_masks(self.contract)
        able = stream and not self.validator and isinstance(self.engine, MasksWhileStreaming)
        return masks if able and foldable(masks, self.compiled.dataset_checks) else {}

    def _mask(self, split: Split[Any]) -> Split[Any]:
        """PII masking after the checks (rules see real values) and before anything is written or
        returned; the quarantine is masked too, reasons included."""
        masks = {f.name: f.masking for f in self.contract.fields if f.masking}
        if not masks:
            return split
        return replace(
            split,
            valid=self.engine.mask(split.valid, masks),
            quarantine=self.engine.mask(split.quarantine, masks),
        )

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
        if plan.extra_columns == "error":  # an earlier run's reasons and lineage are not extras
            source = source_columns(self.engine.columns(frame), plan)
            extra = sorted(set(source) - {c.name for c in plan.columns})
            if extra:
                raise SourceError(
                    f"the source has undeclared column(s) {', '.join(extra)} and "
                    "model.extra_columns is 'error'; nothing was written"
                )

    def _write(
        self,
        batch: AtomicBatch,
        split: Split[Any],
        output: str | Path | None,
        quarantine: str | Path | None,
    ) -> tuple[dict[str, str | None], list[Any]]:
        """Stage both outputs: local files in `batch` (committed with the lineage records by the
        caller), other storage as files in the spool, published by the caller before that commit
        (meshc.storage.publish). Returns role -> location text, and what is to be published."""
        from meshc.storage.publish import Staged, staged_format

        frames = {"valid": split.valid, "quarantine": split.quarantine}
        counts = {"valid": split.rows_valid, "quarantine": split.rows_quarantined}
        paths: dict[str, str | None] = {"valid": None, "quarantine": None}
        pending: list[Staged] = []
        for role, where in self._places.locations(output, quarantine).items():
            self.progress(step("write", f"{counts[role]:,} {role} rows to {where.text}"))
            if is_local_file(where):
                target = Path(where.url)
                batch.stage(target, self._writer(frames[role], file_format(target)))
            else:
                fmt = staged_format(where)
                file = self._spool.folder(role) / f"data.{EXT[fmt]}"
                self._writer(frames[role], fmt)(file)
                pending.append(Staged(role, where, file, fmt))
            paths[role] = where.text
        return paths, pending

    def _writer(self, frame: Any, fmt: str) -> Callable[[Path], None]:
        return lambda tmp: self.engine.write(frame, tmp, fmt)

    def _record_lineage(
        self,
        batch: AtomicBatch,
        result: RunResult,
        inputs: list[dict[str, Any]],
        started: dt.datetime,
        finished: dt.datetime,
    ) -> dict[str, Any]:
        """The run record, the OpenLineage event and latest.json, staged (meshc.runner.lineage)."""
        from meshc.runner.lineage import stage_lineage

        return stage_lineage(batch, self, result, inputs, started, finished)
