"""The RunEvents of one meshc run: START when it begins, COMPLETE (or FAIL when it failed a
threshold or a dataset rule) with every facet when its files are committed, FAIL with the error
when it stops on one. Built with openlineage-python's classes; `to_dict` is its own serialiser."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import JobFacet, dataset_version_dataset, job_type_job
from openlineage.client.serde import Serde

from meshc.contract import Contract
from meshc.lineage import facets
from meshc.lineage.naming import output_datasets

PRODUCER = "https://github.com/meshc/meshc"
DEFAULT_NAMESPACE = "meshc"


@dataclass(frozen=True)
class JobIdentity:
    """The job (one contract) and the run, as a lineage backend keys them."""

    namespace: str
    name: str
    run_id: str

    @property
    def run_uuid(self) -> str:
        """OpenLineage run ids are UUIDs; meshc's run ids are 32 hex digits."""
        return str(uuid.UUID(hex=self.run_id)) if len(self.run_id) == 32 else self.run_id


@dataclass(frozen=True)
class RunFacts:
    """What the final event reports, gathered by the runner once the run is staged."""

    record: Mapping[str, Any]  # the run record (meshc.runner.lineage.run_record)
    contract: Contract
    checks: Sequence[Any]  # the row checks judged (contract, policies, foreign keys)
    dataset_checks: Sequence[Any]
    failures: Mapping[str, int]
    dataset_results: Sequence[Any]
    not_evaluated: Mapping[str, str]
    null_counts: Mapping[str, int]
    parents: Mapping[str, Contract] = field(default_factory=dict)  # ref -> producer's contract


def start_event(job: JobIdentity, inputs: Sequence[Mapping[str, Any]]) -> RunEvent:
    return _event(RunState.START, job, _now(), [_input(i) for i in inputs], [])


def error_event(job: JobIdentity, inputs: Sequence[Mapping[str, Any]], error: str) -> RunEvent:
    """FAIL: the run stopped on an error (nothing was written)."""
    run_facets = {"errorMessage": facets.error_message(error)}
    return _event(RunState.FAIL, job, _now(), [_input(i) for i in inputs], [], run_facets)


def final_event(job: JobIdentity, facts: RunFacts) -> RunEvent:
    """COMPLETE, or FAIL (with the reason) when the run's status is `failed`."""
    record = facts.record
    ok = record["status"] == "ok"
    asserted = facets.assertions(
        facts.checks, facts.failures, facts.dataset_results, facts.not_evaluated,
        facts.dataset_checks,
    )  # fmt: skip
    inputs = [_judged_input(i, facts, asserted) for i in record["inputs"]]
    outputs = [
        _output(role, dataset, facts)
        for role, dataset in output_datasets(record["outputs"]).items()
    ]
    run_facets = {} if ok else {"errorMessage": facets.error_message(_failure_reason(facts))}
    return _event(
        RunState.COMPLETE if ok else RunState.FAIL,
        job,
        record["finished_at"],
        inputs,
        outputs,
        run_facets,
    )


def to_dict(event: RunEvent) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(Serde.to_json(event))
    return parsed


def _event(
    state: RunState,
    job: JobIdentity,
    at: str,
    inputs: list[InputDataset],
    outputs: list[OutputDataset],
    run_facets: Mapping[str, Any] | None = None,
) -> RunEvent:
    job_facets: dict[str, JobFacet] = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration="MESHC", jobType="DATA_CONTRACT"
        )
    }
    return RunEvent(
        eventType=state,
        eventTime=at,
        run=Run(runId=job.run_uuid, facets=dict(run_facets or {})),
        job=Job(namespace=job.namespace, name=job.name, facets=job_facets),
        producer=PRODUCER,
        inputs=inputs,
        outputs=outputs,
    )


def _input(entry: Mapping[str, Any]) -> InputDataset:
    return InputDataset(namespace=entry["namespace"], name=entry["name"])


def _judged_input(entry: Mapping[str, Any], facts: RunFacts, asserted: Any) -> InputDataset:
    """A source file: the contract's columns, every assertion, its row count when it is the
    only source. A gold input: its producer's columns, the assertions (the transform's rows
    derive from it), its row count. A `references` parent: its columns and row count only."""
    parent: str | None = entry.get("contract")
    if parent is None:
        columns = facets.contract_columns(facts.contract)
    elif parent in facts.parents:
        columns = facets.contract_columns(facts.parents[parent])
    else:
        columns = None
    sources = [i for i in facts.record["inputs"] if i.get("contract") is None]
    rows = entry.get("rows")
    if parent is None and len(sources) == 1:
        rows = facts.record["counts"]["rows_in"]
    input_facets: dict[str, Any] = {"dataQualityMetrics": facets.input_metrics(rows)}
    if entry.get("role") != "reference":
        input_facets["dataQualityAssertions"] = asserted
    dataset_facets: dict[str, Any] = _version(entry.get("version"))
    if columns is not None:
        dataset_facets["schema"] = facets.schema(columns)
    return InputDataset(
        namespace=entry["namespace"],
        name=entry["name"],
        facets=dataset_facets,
        inputFacets=input_facets,
    )


def _output(role: str, dataset: Mapping[str, str], facts: RunFacts) -> OutputDataset:
    counts = facts.record["counts"]
    rows = counts["rows_valid"] if role == "valid" else counts["rows_quarantined"]
    nulls = facts.null_counts if role == "valid" else {}
    published = (facts.record.get("published") or {}).get(role) or {}
    return OutputDataset(
        namespace=dataset["namespace"],
        name=dataset["name"],
        facets={
            "schema": facets.schema(facets.output_columns(facts.contract, role)),
            "dataQualityMetrics": facets.output_metrics(rows, nulls),
            **_version(published.get("version")),
        },
        outputFacets={"outputStatistics": facets.output_statistics(rows)},
    )


def _version(version: Any) -> dict[str, Any]:
    """The `version` facet of a dataset that has versions (a Delta table), else nothing."""
    if version is None:
        return {}
    return {"version": dataset_version_dataset.DatasetVersionDatasetFacet(str(version))}


def _failure_reason(facts: RunFacts) -> str:
    failed = [r.id for r in facts.dataset_results if not r.passed and r.severity == "error"]
    reasons = [f"dataset rule {rule_id} failed" for rule_id in failed]
    limit = facts.contract.max_quarantine_ratio
    counts = facts.record["counts"]
    if limit is not None and counts["rows_in"]:
        ratio = counts["rows_quarantined"] / counts["rows_in"]
        if ratio > limit:
            reasons.append(f"quarantined {ratio:.2%} > max_quarantine_ratio {limit:.2%}")
    return "; ".join(reasons) or "the run failed"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()
