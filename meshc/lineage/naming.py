"""Dataset identity in OpenLineage events: one name per file, whoever reads or writes it.

The OpenLineage naming spec names a local file `namespace = "file"`, `name = <absolute path>`
(openlineage-python's `naming.dataset.LocalFileSystem`). A producer names its valid output this
way, and a gold contract or a contract with `references` names the same file as its input, so a
lineage backend joins the two runs on the dataset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

FILE_NAMESPACE = "file"


def file_dataset(path: str | Path) -> dict[str, str]:
    """The OpenLineage (namespace, name) of a local file or folder."""
    return {"namespace": FILE_NAMESPACE, "name": str(Path(path).resolve())}


def dataset(text: str) -> dict[str, str]:
    """The OpenLineage (namespace, name) of any location text (meshc.storage.location), by the
    OpenLineage naming spec: `s3://bucket` + key, `postgres://host:port` + `db.schema.table`;
    a DuckDB file is `duckdb://<absolute file>` + table; local files as `file_dataset`."""
    from urllib.parse import urlsplit

    from meshc.storage.location import OBJECT_SCHEMES, object_parts, scheme_of

    scheme = scheme_of(text)
    if scheme == "file":
        return file_dataset(text)
    if scheme in OBJECT_SCHEMES:
        _, bucket, key = object_parts(text)
        return {"namespace": f"{scheme}://{bucket}", "name": key}
    connection, _, table = text.partition("#")
    if scheme == "postgresql":
        parts = urlsplit(connection)
        host = f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
        database = parts.path.lstrip("/") or "postgres"
        return {"namespace": f"postgres://{host}", "name": f"{database}.{table}"}
    database_file = connection.split(":", 1)[1]
    return {"namespace": f"duckdb://{Path(database_file).resolve()}", "name": table}


def output_datasets(outputs: Mapping[str, str | None]) -> dict[str, dict[str, str]]:
    """role ("valid", "quarantine") -> the dataset a run wrote."""
    return {role: dataset(path) for role, path in outputs.items() if path}


def upstream_input(record: Mapping[str, Any]) -> dict[str, Any]:
    """A gold contract's input: the valid output its producer's run wrote (same name as the
    producer's output), with the producer's contract and run id for the trace."""
    valid = (record.get("outputs") or {}).get("valid")
    ref = record["contract"]["ref"]
    named = dataset(valid) if valid else {"namespace": "meshc", "name": ref}
    entry: dict[str, Any] = {**named, "contract": ref, "run_id": record["run_id"]}
    rows = (record.get("counts") or {}).get("rows_valid")
    if rows is not None:
        entry["rows"] = rows
    return entry


def run_inputs(
    sources: Sequence[Mapping[str, Any]],
    upstream_runs: Sequence[Mapping[str, Any]],
    references: Sequence[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """The inputs of a run record: a gold run's producers' outputs (its staged transform result
    is an internal step, not an input), else the source files; then the parents' outputs that
    foreign keys were checked against."""
    inputs = [upstream_input(u) for u in upstream_runs] or [dict(s) for s in sources]
    seen = {(i["namespace"], i["name"]) for i in inputs}
    for ref in references:
        if (ref["namespace"], ref["name"]) not in seen:
            inputs.append(dict(ref))
            seen.add((ref["namespace"], ref["name"]))
    return inputs


def reference_inputs(
    compiled: Any, root: Path, parent_runs: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The valid outputs of the contracts this one's `references` point at: the parent's run in
    this process (the mesh), else its latest recorded run under `root`; none when neither wrote
    one (the check is then not evaluated, and nothing was read)."""
    from meshc.references import parse_reference
    from meshc.rules.checks import ForeignKey

    found: list[dict[str, Any]] = []
    for check in compiled.row_checks:
        target = parse_reference(check.target) if isinstance(check, ForeignKey) else None
        if target is None or target.ref == compiled.contract.ref:
            continue
        record = _parent_record(target.ref, root, parent_runs)
        if record is not None and (record.get("outputs") or {}).get("valid"):
            found.append(upstream_input(record))
    return found


def _parent_record(ref: str, root: Path, parent_runs: Mapping[str, Any]) -> dict[str, Any] | None:
    run = parent_runs.get(ref)
    if run is not None:
        return {
            "contract": {"ref": ref},
            "run_id": run.run_id,
            "outputs": run.outputs,
            "counts": {"rows_valid": run.rows_valid},
        }
    import json

    from meshc.runner.lineage import latest_record_path

    domain, _, name = ref.partition(".")
    try:
        record = json.loads(latest_record_path(root, domain, name).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and "run_id" in record else None
