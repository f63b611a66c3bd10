"""`--validator pandera`: judge a typed frame with the Pandera schema `meshc compile` emits.

The schema module is generated in memory (the same text as the artifact) and executed; every
check is switched to raise errors (warn checks included, so they are reported as in `meshc run`),
the frame is validated lazily, and `SchemaErrors.failure_cases` is read back into row -> rule ids
through each check's `title` (the meshc rule id). pandas rows are positions after a reset index;
Polars reports positions already.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshc.errors import MeshcError
from meshc.rules import checks as ck

Failures = dict[int, list[str]]


def load_schema(compiled: ck.CompiledContract, flavour: str) -> Any:
    """Execute the emitted module for `flavour` and return its `schema`."""
    from meshc.emit.pandera_emit import emit_schema

    text, _ = emit_schema(compiled, flavour)
    namespace: dict[str, Any] = {"__name__": f"meshc_pandera_{flavour}"}
    exec(compile(text, f"<pandera_{flavour}.py>", "exec"), namespace)  # noqa: S102 - our own output
    schema = namespace["schema"]
    for check in _all_checks(schema):
        check.raise_warning = False
    return schema


def _all_checks(schema: Any) -> list[Any]:
    checks = list(schema.checks)
    for column in schema.columns.values():
        checks.extend(column.checks)
    return checks


def validate(compiled: ck.CompiledContract, flavour: str, frame: Any) -> Failures:
    """Row position -> ids of the checks it fails (no particular order)."""
    import pandera.errors

    schema = load_schema(compiled, flavour)
    if flavour == "pandas":
        frame = frame.reset_index(drop=True)
    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        rows = cases.to_dicts() if hasattr(cases, "to_dicts") else cases.to_dict("records")
        return _read_failures(schema, compiled, rows)
    return {}


def _read_failures(
    schema: Any, compiled: ck.CompiledContract, rows: list[Mapping[str, Any]]
) -> Failures:
    # the checks the emitter folded into `Column(unique=True)` (pandas: single column, error)
    unique_ids: dict[str, list[str]] = {}
    for c in compiled.row_checks:
        if isinstance(c, ck.Unique) and len(c.key) == 1 and c.severity == "error":
            unique_ids.setdefault(c.key[0].name, []).append(c.id)
    out: dict[int, set[str]] = {}
    for row in rows:
        index = row.get("index")
        rule_ids = _rule_ids(schema, unique_ids, row)
        if index is None or index != index:  # a schema-level failure (dtype, missing column)
            raise MeshcError(
                f"pandera rejected the frame itself: {row.get('check')} on "
                f"{row.get('column')} ({row.get('failure_case')})"
            )
        out.setdefault(int(index), set()).update(rule_ids)
    return {i: sorted(ids) for i, ids in out.items()}


def _rule_ids(
    schema: Any, unique_ids: Mapping[str, list[str]], row: Mapping[str, Any]
) -> list[str]:
    context, column, check = row.get("schema_context"), row.get("column"), str(row.get("check"))
    number = row.get("check_number")
    if context == "DataFrameSchema" and number is not None and number == number:
        return [str(schema.checks[int(number)].title)]
    if check == "not_nullable":
        return [f"{column}.required"]
    if check == "field_uniqueness":
        return unique_ids[str(column)]
    if number is not None and number == number:
        return [str(schema.columns[column].checks[int(number)].title)]
    raise MeshcError(f"cannot map pandera failure {check!r} on {column!r} to a meshc rule")
