"""Foreign keys at run time: each `references` check becomes an accepted-values check against the
parent's valid keys, or is reported as not evaluated (a warning with the reason), never as passed.

The parent's keys come from its run in the same process (`meshc mesh` hands them over), else from
its latest recorded run under the lakehouse root (`_meshc/runs/<domain>/<name>/latest.json` names
the valid output it committed), reading only the key column. The same code serves `meshc mesh`,
`meshc run` and the Python API.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshc.errors import ContractError
from meshc.references import Reference, parse_reference, reference_problems
from meshc.rules import checks as ck
from meshc.rules import expr as ir
from meshc.rules.problems import RuleProblem


@dataclass(frozen=True)
class ForeignKeys:
    """The evaluable checks, and for the others (by check id) why they were not evaluated."""

    checks: tuple[ck.RowCheck, ...] = ()
    not_evaluated: dict[str, str] = field(default_factory=dict)
    checked_against: dict[str, str] = field(default_factory=dict)  # check id -> parent run


class _NotEvaluated(Exception):
    """Why the parent's keys could not be read (becomes the check's reason)."""


def resolve_foreign_keys(
    compiled: ck.CompiledContract, root: Path, parent_runs: Mapping[str, Any]
) -> ForeignKeys:
    """Resolve every ForeignKey check of `compiled`; `parent_runs` maps a contract ref to a
    RunResult of this process."""
    checks: list[ck.RowCheck] = []
    not_evaluated: dict[str, str] = {}
    against: dict[str, str] = {}
    for fk in compiled.row_checks:
        if not isinstance(fk, ck.ForeignKey):
            continue
        target = _parse(compiled.contract, fk)
        try:
            if target.ref == compiled.contract.ref:
                raise _NotEvaluated(
                    "a reference to the contract itself is not checked (its keys are the rows "
                    "being validated)"
                )
            keys, against[fk.id] = _parent_keys(target, root, parent_runs)
        except _NotEvaluated as exc:
            not_evaluated[fk.id] = f"not evaluated: {exc}"
            continue
        checks.append(_key_check(fk, keys))
    return ForeignKeys(tuple(checks), not_evaluated, against)


def _parse(contract: Any, fk: ck.ForeignKey) -> Reference:
    target = parse_reference(fk.target)
    if target is None:  # `meshc check` reports this as MC213; a run refuses the contract
        f = next(f for f in contract.fields if f.name == fk.column.name)
        raise ContractError(reference_problems(contract, f, {}))
    return target


def _parent_keys(
    target: Reference, root: Path, parent_runs: Mapping[str, Any]
) -> tuple[list[Any], str]:
    run = parent_runs.get(target.ref)
    if run is not None:
        table = run.valid_arrow()
        if target.column not in table.column_names:
            raise _NotEvaluated(f"the valid output of {target.ref} has no column '{target.column}'")
        return _distinct(table.column(target.column)), f"{target.ref} run {run.run_id}"
    record = _latest_record(target, root)
    path = _recorded_output(target, record)
    return _distinct(_read_column(path, target)), f"{target.ref} run {record['run_id']} ({path})"


def _latest_record(target: Reference, root: Path) -> dict[str, Any]:
    from meshc.runner.lineage import latest_record_path

    latest = latest_record_path(root, target.domain, target.name)
    if not latest.is_file():
        raise _NotEvaluated(
            f"no run of {target.ref} is recorded under {root} (run it first with the same "
            "--root, or run the whole mesh with `meshc mesh`)"
        )
    try:
        record = json.loads(latest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _NotEvaluated(f"the run record {latest} cannot be read ({exc})") from None
    if not isinstance(record, dict) or not isinstance(record.get("run_id"), str):
        raise _NotEvaluated(f"{latest} is not a meshc run record")
    return record


def _recorded_output(target: Reference, record: dict[str, Any]) -> Path:
    recorded = (record.get("outputs") or {}).get("valid")
    if not recorded:
        raise _NotEvaluated(
            f"the latest run of {target.ref} ({record['run_id']}) wrote no valid output"
        )
    path = Path(recorded)
    if not path.exists():
        relative = "" if path.is_absolute() else " (read relative to the current directory)"
        raise _NotEvaluated(
            f"the valid output of {target.ref}'s latest run, {path}, is not found{relative}"
        )
    return path


def _read_column(path: Path, target: Reference) -> Any:
    """Only the key column, whatever the parent's output format (a file or a folder)."""
    import pyarrow.dataset as ds

    suffix = path.suffix.lower()
    fmt = {".csv": "csv", ".ndjson": "json", ".jsonl": "json", ".json": "json"}.get(
        suffix, "parquet"
    )
    try:
        dataset = ds.dataset(path, format=fmt)
        if target.column not in dataset.schema.names:
            raise _NotEvaluated(
                f"the valid output of {target.ref}, {path}, has no column '{target.column}'"
            )
        return dataset.to_table(columns=[target.column]).column(target.column)
    except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
        raise _NotEvaluated(
            f"the valid output of {target.ref}, {path}, cannot be read ({exc})"
        ) from None


def _distinct(values: Any) -> list[Any]:
    import pyarrow.compute as pc

    return [v for v in pc.unique(values).to_pylist() if v is not None]


def _key_check(fk: ck.ForeignKey, keys: list[Any]) -> ck.RowCheck:
    """An in-list, not a join: fine for dimension-sized parents. A key that cannot be a value of
    the child's type matches no child value, so it is left out."""
    from meshc.rules.sql import literal_for

    values = []
    for key in sorted(keys, key=str):
        try:
            values.append(literal_for(_plain(key), fk.column.type))
        except RuleProblem:
            continue
    common: ck.CheckMeta = {
        "id": fk.id,
        "severity": fk.severity,
        "rule": fk.rule,
        "origin": fk.origin,
        "description": f"no {fk.target} matches this value",
    }
    if values:
        return ck.AcceptedValues(column=fk.column, values=tuple(values), **common)
    # an empty parent: every present key is an orphan
    return ck.SqlRule(expr=ir.IsNull(fk.column), sql=f"{fk.column.name} IS NULL", **common)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value
