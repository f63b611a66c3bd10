"""`--validator gx`: judge a typed frame with the Great Expectations suite `meshc compile` emits.

Runs in an ephemeral context (nothing is written to disk), with the COMPLETE result format and
the synthetic `_meshc_row_id` column as the unexpected index, so every failing row comes back:
on pandas it is added here (the row position), on Spark the frame already has it.
"""

from __future__ import annotations

import json
from typing import Any

from meshc.emit.gx_emit import ROW_ID, emit_suite
from meshc.errors import MeshcError
from meshc.rules import checks as ck

Failures = dict[int, list[str]]


def validate(compiled: ck.CompiledContract, flavour: str, frame: Any) -> Failures:
    """Failing rows per check; `flavour` is the suite's data source kind (pandas or spark)."""
    import great_expectations as gx

    text, _ = emit_suite(compiled, flavour)
    context = gx.get_context(mode="ephemeral")
    _quiet(context)
    suite = context.suites.add(gx.ExpectationSuite(**json.loads(text)))
    source: Any
    if flavour == "pandas":
        data = frame.reset_index(drop=True).assign(**{ROW_ID: range(len(frame))})
        source = context.data_sources.add_pandas("meshc")
    else:  # Spark rows carry their id already (meshc.validators.rows)
        data = frame
        source = context.data_sources.add_spark("meshc")
    batch = (
        source.add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": data})
    )
    result = batch.validate(
        suite,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_ID]},
    )
    return _read(result)


def _quiet(context: Any) -> None:
    """No progress bars on stderr (the CLI owns stderr)."""
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context.variables.progress_bars = ProgressBarsConfig(globally=False)
    except (ImportError, AttributeError):  # pragma: no cover - older or newer GX
        pass


def _read(result: Any) -> Failures:
    out: dict[int, set[str]] = {}
    for item in result.results:
        config = item.expectation_config
        meta = config.meta or {}
        if meta.get("meshc_scope") != "row":
            continue
        problem = _raised(item.exception_info)
        if problem is not None:
            raise MeshcError(f"GX could not evaluate {meta.get('meshc_rule_id')}: {problem}")
        if item.success is False and not item.result.get("unexpected_index_list"):
            raise MeshcError(
                f"GX failed {meta.get('meshc_rule_id')} without naming the failing rows"
            )
        for entry in item.result.get("unexpected_index_list") or []:
            row = entry[ROW_ID] if isinstance(entry, dict) else entry
            out.setdefault(int(row), set()).add(str(meta["meshc_rule_id"]))
    return {i: sorted(ids) for i, ids in out.items()}


def _raised(info: Any) -> str | None:
    """The message of an exception GX caught, whether `exception_info` is flat or (GX 1.x)
    keyed by metric id; None when nothing was raised."""
    if not isinstance(info, dict):
        return None
    entries = [info] + [v for v in info.values() if isinstance(v, dict)]
    for entry in entries:
        if entry.get("raised_exception"):
            return str(entry.get("exception_message") or "an exception was raised")
    return None
