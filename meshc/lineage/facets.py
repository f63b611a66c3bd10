"""The facets meshc puts on its OpenLineage events, built with openlineage-python's classes.

- inputs:  `schema` (the columns the contract reads, or the producer's contract for a gold
           input), `dataQualityAssertions` (one assertion per check the run judged: assertion =
           rule id, success = no row failed / the dataset rule passed, column when the check has
           one) and `dataQualityMetrics` (rowCount when known per input);
- outputs: `schema`, `dataQualityMetrics` (rowCount, and nullCount per contract column of the
           valid output, from one aggregate pass on the engine), `outputStatistics` (rowCount);
- run:     `errorMessage` on a FAIL (the error, or why the run failed its thresholds).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from openlineage.client.facet_v2 import (
    data_quality_assertions_dataset as dqa,
)
from openlineage.client.facet_v2 import (
    data_quality_metrics_dataset as dqm,
)
from openlineage.client.facet_v2 import (
    data_quality_metrics_input_dataset as dqm_in,
)
from openlineage.client.facet_v2 import (
    error_message_run,
    output_statistics_output_dataset,
    schema_dataset,
)

from meshc.contract import Contract
from meshc.engines.base import LINEAGE_COLUMNS, REASONS
from meshc.rules import checks as ck

_LINEAGE_TYPES = {"_meshc_processed_at": "timestamp"}  # the others are strings


def schema(columns: Iterable[tuple[str, str, str | None]]) -> schema_dataset.SchemaDatasetFacet:
    """(name, type, description) -> the schema facet, in column order."""
    return schema_dataset.SchemaDatasetFacet(
        fields=[
            schema_dataset.SchemaDatasetFacetFields(
                name=name, type=type_, description=description, ordinal_position=i
            )
            for i, (name, type_, description) in enumerate(columns, start=1)
        ]
    )


def contract_columns(contract: Contract) -> list[tuple[str, str, str | None]]:
    return [(f.name, f.type_text, f.description) for f in contract.fields]


def output_columns(contract: Contract, role: str) -> list[tuple[str, str, str | None]]:
    """The columns of the valid output (typed) or of the quarantine (values as read + reasons),
    each followed by the lineage columns when the contract adds them."""
    if role == "valid":
        columns = contract_columns(contract)
    else:
        columns = [(f.name, "string", f.description) for f in contract.fields]
        if contract.quarantine.include_error_reason:
            columns.append((REASONS, "array<struct<rule_id, rule, column, value, message>>", None))
    if contract.lineage.columns:
        columns += [(c, _LINEAGE_TYPES.get(c, "string"), None) for c in LINEAGE_COLUMNS]
    return columns


def assertions(
    checks: Iterable[ck.RowCheck],
    failures: Mapping[str, int],
    dataset_results: Iterable[Any],
    not_evaluated: Mapping[str, str],
    dataset_checks: Iterable[ck.DatasetCheck] = (),
) -> dqa.DataQualityAssertionsDatasetFacet:
    """One assertion per check judged in the run: row checks (the contract's, those policies and
    foreign keys add, and the type casts that failed) and dataset rules. A check that was not
    evaluated is left out: it was not asserted."""
    found: list[dqa.Assertion] = []
    seen: set[str] = set()
    for check in checks:
        if check.id in seen or check.id in not_evaluated:
            continue
        seen.add(check.id)
        count = int(failures.get(check.id, 0))
        found.append(
            _assertion(check.id, count == 0, _column(check), check.severity, count, check.rule)
        )
    for rule_id, count in sorted(failures.items()):
        if rule_id not in seen:  # type casts (`<column>.type`) and checks added at run time
            column = rule_id.removesuffix(".type") if rule_id.endswith(".type") else None
            found.append(_assertion(rule_id, count == 0, column, "error", int(count)))
    columns = {c.id: _column(c) for c in dataset_checks}
    for result in dataset_results:
        found.append(
            dqa.Assertion(
                assertion=result.id,
                success=bool(result.passed),
                column=columns.get(result.id),
                severity=result.severity,
                description=result.rule,
                actual=None if result.observed is None else str(result.observed),
            )
        )
    return dqa.DataQualityAssertionsDatasetFacet(assertions=found)


def _assertion(
    rule_id: str,
    success: bool,
    column: str | None,
    severity: str,
    failed_rows: int,
    rule: str | None = None,
) -> dqa.Assertion:
    return dqa.Assertion(
        assertion=rule_id,
        success=success,
        column=column,
        severity=severity,
        description=rule,
        actual=f"{failed_rows} failing row{'' if failed_rows == 1 else 's'}",
    )


def _column(check: ck.RowCheck | ck.DatasetCheck) -> str | None:
    column = getattr(check, "column", None)
    if column is not None:
        return str(column.name)
    key: tuple[Any, ...] = getattr(check, "key", ())
    return str(key[0].name) if len(key) == 1 else None


def input_metrics(rows: int | None) -> dqm_in.DataQualityMetricsInputDatasetFacet:
    return dqm_in.DataQualityMetricsInputDatasetFacet(columnMetrics={}, rowCount=rows)


def output_metrics(rows: int, null_counts: Mapping[str, int]) -> dqm.DataQualityMetricsDatasetFacet:
    return dqm.DataQualityMetricsDatasetFacet(
        rowCount=rows,
        columnMetrics={c: dqm.ColumnMetrics(nullCount=n) for c, n in null_counts.items()},
    )


def output_statistics(
    rows: int,
) -> output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet:
    return output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(rowCount=rows)


def error_message(message: str, stack: str | None = None) -> error_message_run.ErrorMessageRunFacet:
    return error_message_run.ErrorMessageRunFacet(
        message=message, programmingLanguage="python", stackTrace=stack
    )


def null_counts(engine: Any, frame: Any, contract: Contract, rows: int) -> dict[str, int]:
    """nullCount per contract column of the valid output: one aggregate pass on the engine
    (the same kind of pass as the dataset rules); nothing when the output is empty."""
    if rows == 0 or not contract.fields:
        return {}
    from meshc.rules import expr as ir
    from meshc.types import INTEGER

    exprs: dict[str, ir.Expr] = {
        f"n{i}": ir.Agg("count", ir.Col(f.name, f.type), INTEGER)
        for i, f in enumerate(contract.fields)
    }
    values = engine.aggregate(frame, exprs)
    return {f.name: rows - int(values[f"n{i}"] or 0) for i, f in enumerate(contract.fields)}
