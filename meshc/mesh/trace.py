"""Lineage traces: from a contract's latest run record back through the runs of its inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from meshc.errors import MeshcError


def latest_record(root: Path, ref: str) -> dict[str, Any]:
    domain, _, name = ref.partition(".")
    path = root / "_meshc" / "runs" / domain / name / "latest.json"
    if not path.exists():
        raise MeshcError(f"no run recorded for {ref} under {root} (run it first)")
    return json.loads(path.read_text("utf-8"))


def trace(contract: str, root: Path) -> dict[str, Any]:
    ref = contract
    if contract.endswith((".yaml", ".yml")):
        from meshc.loader import load_contract

        ref = load_contract(contract).ref
    return _node(latest_record(root, ref))


def _node(record: dict[str, Any]) -> dict[str, Any]:
    c = record["contract"]
    return {
        "ref": c["ref"],
        "domain": c["domain"],
        "system": c["system"],
        "version": c["version"],
        "run_id": record["run_id"],
        "engine": record["engine"],
        "status": record["status"],
        "upstream": [_node(u) for u in record.get("upstream_runs", [])],
    }
