"""Lineage: typed columns on every output row, a run record, and the run's OpenLineage events.

The record and the final OpenLineage event are staged with the run's outputs (one commit); the
events also go through openlineage-python's client when a transport is configured: START when the
run begins, COMPLETE/FAIL after the commit, FAIL when the run stops on an error
(meshc/lineage/transport.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from meshc.contract import Contract

if TYPE_CHECKING:
    from meshc.engines.base import Engine
    from meshc.lineage.transport import Sender
    from meshc.rules.checks import CompiledContract, RowCheck
    from meshc.runner.result import RunResult
    from meshc.runner.writing import AtomicBatch

    RunMethod = Callable[..., RunResult]

RUN_RECORD_VERSION = 1


def lineage_columns(
    contract: Contract, run_id: str, source: str, processed_at: dt.datetime
) -> dict[str, Any]:
    return {
        "_meshc_run_id": run_id,
        "_meshc_source": source,
        "_meshc_contract": contract.ref,
        "_meshc_contract_version": contract.info.version,
        "_meshc_domain": contract.info.domain,
        "_meshc_system": contract.info.system or "",
        "_meshc_processed_at": processed_at,
    }


def run_record(
    contract: Contract,
    run_id: str,
    engine: str,
    started: dt.datetime,
    finished: dt.datetime,
    inputs: list[dict[str, Any]],
    outputs: dict[str, str | None],
    counts: dict[str, int],
    status: str,
) -> dict[str, Any]:
    return {
        "schema_version": RUN_RECORD_VERSION,
        "run_id": run_id,
        "contract": {
            "ref": contract.ref,
            "name": contract.info.name,
            "domain": contract.info.domain,
            "system": contract.info.system,
            "version": contract.info.version,
            "hash": contract.hash,
            "path": contract.path,
        },
        "engine": engine,
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "inputs": inputs,
        "outputs": outputs,
        "counts": counts,
        "status": status,
    }


def record_paths(root: Path, contract: Contract, run_id: str) -> tuple[Path, Path]:
    base = root / "_meshc" / "runs" / contract.info.domain / contract.info.name
    return base / f"{run_id}.json", base / f"{run_id}.openlineage.json"


def latest_record_path(root: Path, domain: str, name: str) -> Path:
    """The record of a contract's latest written run (written next to the per-run records)."""
    return root / "_meshc" / "runs" / domain / name / "latest.json"


class LineageRunner(Protocol):
    """What lineage reads from the runner (meshc.runner.processor.DataProcessor)."""

    contract: Contract
    compiled: CompiledContract
    engine: Engine[Any]
    root: Path
    upstream_runs: list[dict[str, Any]]
    parent_runs: dict[str, RunResult]
    extra_checks: tuple[RowCheck, ...]
    openlineage: Mapping[str, Any] | None


@dataclass
class _Emitting:
    """The OpenLineage run in progress: where its events go and what went wrong sending them."""

    sender: Sender
    job: Any  # meshc.lineage.events.JobIdentity
    final: Any = None  # the final RunEvent, staged with the run's files
    result: RunResult | None = None
    errors: list[str] = field(default_factory=list)

    def send(self, event: Any) -> None:
        error = self.sender.send(event)
        if error is not None:
            self.errors.append(error)


_CURRENT: ContextVar[_Emitting | None] = ContextVar("meshc_openlineage_run", default=None)


@contextmanager
def openlineage_run(
    runner: LineageRunner, run_id: str, sources: list[dict[str, Any]], write: bool
) -> Iterator[None]:
    """Around one run: START now, the final event (COMPLETE/FAIL) once the body returned (the
    run's files are committed), FAIL with the error when it raised. Nothing without a
    configured transport, or when the run writes no lineage."""
    attempt = _ATTEMPT.get()
    if attempt is not None:
        attempt.started = True
    if not _sends(runner, write):
        yield
        return
    emitting = _start(runner, run_id, record_inputs(runner, sources))
    token = _CURRENT.set(emitting)
    try:
        yield
    except BaseException as exc:
        emitting.final = None  # whatever was staged was rolled back
        emitting.send(_error_event(emitting.job, runner, sources, exc))
        raise
    finally:
        _CURRENT.reset(token)
        if emitting.final is not None:
            emitting.send(emitting.final)
        emitting.sender.close()
        _warn(emitting)


@dataclass
class _Attempt:
    started: bool = False


_ATTEMPT: ContextVar[_Attempt | None] = ContextVar("meshc_openlineage_attempt", default=None)


def emits_openlineage(method: RunMethod) -> RunMethod:
    """For `DataProcessor.run_source`: a run that stops before it starts (the source cannot be
    read, a target is refused, no masking key) is still a run a lineage backend should see
    fail: START and FAIL, with the error, under a fresh run id."""

    @functools.wraps(method)
    def run(runner: Any, *args: Any, **kwargs: Any) -> RunResult:
        if not _sends(runner, kwargs.get("write", True)):
            return method(runner, *args, **kwargs)
        attempt = _Attempt()
        token = _ATTEMPT.set(attempt)
        try:
            return method(runner, *args, **kwargs)
        except BaseException as exc:
            if not attempt.started:
                _failed_before_start(runner, args[0] if args else kwargs.get("source"), exc)
            raise
        finally:
            _ATTEMPT.reset(token)

    return run


def _failed_before_start(runner: LineageRunner, source: Any, exc: BaseException) -> None:
    import uuid

    from meshc.lineage.naming import file_dataset

    declared = runner.contract.source.path if runner.contract.source else None
    spec = source if source is not None else declared
    sources = [file_dataset(str(spec))] if spec is not None else []
    emitting = _start(runner, uuid.uuid4().hex, record_inputs(runner, sources))
    emitting.send(_error_event(emitting.job, runner, sources, exc))
    emitting.sender.close()


def _error_event(
    job: Any, runner: LineageRunner, sources: list[dict[str, Any]], exc: BaseException
) -> Any:
    from meshc.lineage.events import error_event

    message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return error_event(job, record_inputs(runner, sources), message)


def _sends(runner: LineageRunner, write: bool) -> bool:
    """True when this run's events go to a configured transport."""
    lineage = runner.contract.lineage
    if not (write and lineage.enabled and lineage.openlineage):
        return False
    from meshc.lineage.transport import transport_configured

    return _openlineage_installed() and transport_configured(runner.openlineage)


def _start(runner: LineageRunner, run_id: str, inputs: list[dict[str, Any]]) -> _Emitting:
    from meshc.lineage.events import JobIdentity, start_event
    from meshc.lineage.transport import Sender, job_namespace

    job = JobIdentity(job_namespace(runner.openlineage), runner.contract.ref, run_id)
    emitting = _Emitting(Sender(runner.openlineage), job)
    emitting.send(start_event(job, inputs))
    return emitting


def _warn(emitting: _Emitting) -> None:
    """Delivery problems become report warnings (the run's outcome does not change)."""
    result = emitting.result
    if result is None or not emitting.errors:
        return
    typed = getattr(result, "run_report", None)  # the typed report, when the runner keeps one
    if typed is not None:
        import dataclasses

        from meshc.runner.report import NotEvaluated

        extra = tuple(NotEvaluated("openlineage", e) for e in emitting.errors)
        result.run_report = dataclasses.replace(typed, warnings=(*typed.warnings, *extra))
        result.report = result.run_report.to_dict()
        return
    warnings = result.report.setdefault("warnings", [])
    warnings += [{"id": "openlineage", "message": e} for e in emitting.errors]


def record_inputs(runner: LineageRunner, sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The run's inputs, named as OpenLineage names files (meshc.lineage.naming)."""
    from meshc.lineage.naming import reference_inputs, run_inputs

    references = reference_inputs(runner.compiled, runner.root, runner.parent_runs)
    return run_inputs(sources, runner.upstream_runs, references)


def stage_lineage(
    batch: AtomicBatch,
    runner: LineageRunner,
    result: RunResult,
    sources: list[dict[str, Any]],
    started: dt.datetime,
    finished: dt.datetime,
) -> dict[str, Any]:
    """Stage the run record, the final OpenLineage event and latest.json in `batch`; the record
    (with `record_path` and `openlineage_event`) is returned."""
    counts = {
        "rows_in": result.rows_in,
        "rows_valid": result.rows_valid,
        "rows_quarantined": result.rows_quarantined,
    }
    record = run_record(
        runner.contract,
        result.run_id,
        runner.engine.name,
        started,
        finished,
        record_inputs(runner, sources),
        result.outputs,
        counts,
        "ok" if result.ok else "failed",
    )
    if runner.upstream_runs:
        record["upstream_runs"] = runner.upstream_runs
    if result.published:  # outputs beyond local files: their location, Delta version...
        record["published"] = result.published
    # failing rows per check id (a row may fail several; warn checks do not quarantine):
    # the "quarantine by rule" history that `meshc docs` charts
    record["rule_failures"] = {k: int(n) for k, n in sorted(result.failures.items())}
    record_path, event_path = record_paths(runner.root, runner.contract, result.run_id)
    text = json.dumps(record, indent=2, default=str)
    batch.stage_text(record_path, text)
    if runner.contract.lineage.openlineage and _openlineage_installed():
        from meshc.lineage.events import to_dict

        event = _final_event(runner, result, record)
        batch.stage_text(event_path, json.dumps(to_dict(event), indent=2))
        record["openlineage_event"] = str(event_path)
    # staged last, so renamed last: latest.json never points at a pair not yet in place
    batch.stage_text(record_path.with_name("latest.json"), text)
    record["record_path"] = str(record_path)
    return record


def _final_event(runner: LineageRunner, result: RunResult, record: dict[str, Any]) -> Any:
    from meshc.lineage.events import JobIdentity, RunFacts, final_event
    from meshc.lineage.facets import null_counts
    from meshc.lineage.transport import job_namespace

    emitting = _CURRENT.get()
    # nullCount costs one more pass over the valid output: paid only when a backend listens,
    # never by the file-only default (runs stay one pass over the data)
    nulls = (
        null_counts(runner.engine, result.valid_frame, runner.contract, result.rows_valid)
        if emitting is not None
        else {}
    )
    facts = RunFacts(
        record=record,
        contract=runner.contract,
        checks=(*runner.compiled.row_checks, *runner.extra_checks),
        dataset_checks=runner.compiled.dataset_checks,
        failures=result.failures,
        dataset_results=result.dataset_results,
        not_evaluated=result.not_evaluated,
        null_counts=nulls,
        parents=_parent_contracts(runner),
    )
    job = (
        emitting.job
        if emitting
        else JobIdentity(job_namespace(runner.openlineage), runner.contract.ref, result.run_id)
    )
    event = final_event(job, facts)
    if emitting is not None:
        emitting.final, emitting.result = event, result
    return event


def _openlineage_installed() -> bool:
    """openlineage-python comes with every engine extra; a bare `pip install meshc` (check only)
    has none, and its runs write the run record without the event."""
    from importlib.util import find_spec

    return find_spec("openlineage") is not None


def _parent_contracts(runner: LineageRunner) -> dict[str, Contract]:
    return {ref: run.contract for ref, run in runner.parent_runs.items()}


__all__ = [
    "RUN_RECORD_VERSION",
    "lineage_columns",
    "run_record",
    "record_paths",
    "latest_record_path",
    "openlineage_run",
    "emits_openlineage",
    "stage_lineage",
]
