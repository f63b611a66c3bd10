"""Lineage: typed columns on every output row, a run record, and an OpenLineage run event."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from meshc.contract import Contract

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


def openlineage_event(record: dict[str, Any], namespace: str = "meshc") -> dict[str, Any]:
    """A COMPLETE/FAIL OpenLineage RunEvent built with openlineage-python's own classes."""
    from openlineage.client.event_v2 import (
        InputDataset,
        Job,
        OutputDataset,
        Run,
        RunEvent,
        RunState,
    )
    from openlineage.client.serde import Serde

    state = RunState.COMPLETE if record["status"] == "ok" else RunState.FAIL
    inputs = [
        InputDataset(namespace=i.get("namespace", "file"), name=i["name"]) for i in record["inputs"]
    ]
    outputs = [
        OutputDataset(namespace="file", name=path) for path in record["outputs"].values() if path
    ]
    event = RunEvent(
        eventType=state,
        eventTime=record["finished_at"],
        run=Run(runId=_uuid(record["run_id"])),
        job=Job(namespace=namespace, name=record["contract"]["ref"]),
        producer="https://github.com/meshc/meshc",
        inputs=inputs,
        outputs=outputs,
    )
    return json.loads(Serde.to_json(event))


def _uuid(run_id: str) -> str:
    import uuid

    return str(uuid.UUID(hex=run_id)) if len(run_id) == 32 else run_id


def record_paths(root: Path, contract: Contract, run_id: str) -> tuple[Path, Path]:
    base = root / "_meshc" / "runs" / contract.info.domain / contract.info.name
    return base / f"{run_id}.json", base / f"{run_id}.openlineage.json"


def latest_record_path(root: Path, domain: str, name: str) -> Path:
    """The record of a contract's latest written run (written next to the per-run records)."""
    return root / "_meshc" / "runs" / domain / name / "latest.json"
