"""Run every contract of a mesh in dependency order, each domain on its engine."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshc.contract import Contract
from meshc.engines.registry import DEFAULT_ENGINE
from meshc.errors import ContractError
from meshc.mesh.graph import ContractGraph, build_graph
from meshc.references import check_references
from meshc.rules import checks as ck
from meshc.runner.processor import DataProcessor, RunResult
from meshc.target_overlap import check_target_overlaps

if TYPE_CHECKING:
    from meshc.mesh.project import MeshProject


@dataclass
class ProductStatus:
    """One line of the data-product table."""

    ref: str
    domain: str
    engine: str
    result: RunResult | None
    error: str | None = None

    @property
    def trust(self) -> str:
        if self.result is None:
            return "error"
        if not self.result.ok:
            return "failed"
        return "trusted" if self.result.quarantine_ratio <= 0.05 else "degraded"

    @property
    def freshness(self) -> str:
        if self.result is None:
            return "-"
        fresh = [
            r for r in self.result.dataset_results if r.id.endswith("freshness") or "fresh" in r.id
        ]
        if not fresh:
            return "-"
        return "fresh" if all(r.passed for r in fresh) else "stale"


def run_mesh(
    contracts: Iterable[Contract],
    *,
    engines: dict[str, str] | None = None,
    default_engine: str = DEFAULT_ENGINE,
    root: Path = Path("lakehouse"),
    now: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
    extra_checks: Callable[[Contract], tuple[ck.RowCheck, ...]] | None = None,
    mesh: MeshProject | None = None,
) -> list[ProductStatus]:
    """Run every contract (parents first); a failing contract does not stop the others, but its
    dependants are reported as errors rather than run on missing data. A reference that does
    not resolve (MC211-MC213), or two contracts writing the same target under `root` (MC214), is a
    ContractError before anything runs. `mesh`: the project whose
    policies the runner applies to every contract it governs (`extra_checks`: more rules)."""
    contracts = list(contracts)
    problems = [*check_references(contracts), *check_target_overlaps(contracts, root)]
    if problems:
        raise ContractError(problems)
    if any(f.masking == "hash" for c in contracts for f in c.fields):
        from meshc.engines.masking_key import masking_key

        masking_key()  # no key: one clear error before anything runs, not one per product
    graph = build_graph(contracts)
    statuses: list[ProductStatus] = []
    try:
        _run_in_order(
            graph, statuses, engines, default_engine, root, now, progress, extra_checks, mesh
        )
    except BaseException:
        close_results(statuses)  # nobody gets these results: release their engines now
        raise
    return statuses


def close_results(statuses: Iterable[ProductStatus]) -> None:
    """Release the engines behind a mesh run's results (a DuckDB connection each) once the caller
    has read what it needs; their frames are unreadable afterwards."""
    for status in statuses:
        if status.result is not None:
            status.result.close()


def _run_in_order(
    graph: ContractGraph,
    statuses: list[ProductStatus],
    engines: dict[str, str] | None,
    default_engine: str,
    root: Path,
    now: dt.datetime | None,
    progress: Callable[[str], None] | None,
    extra_checks: Callable[[Contract], tuple[ck.RowCheck, ...]] | None,
    mesh: MeshProject | None,
) -> None:
    say = progress or (lambda _m: None)
    results: dict[str, RunResult] = {}
    for ref in graph.order():
        contract = graph.contracts[ref]
        engine = (engines or {}).get(contract.info.domain, default_engine)
        missing = [p for p in graph.parents[ref] if p not in results]
        if missing:
            statuses.append(
                ProductStatus(
                    ref,
                    contract.info.domain,
                    engine,
                    None,
                    f"skipped: input(s) {', '.join(missing)} did not run",
                )
            )
            continue
        say(f"{ref} on {engine}")
        try:
            result = _run_one(contract, engine, root, now, results, extra_checks, mesh, say)
        except Exception as exc:  # one broken product must not hide the rest of the mesh
            from meshc.errors import MeshcError

            if not isinstance(exc, MeshcError):
                raise
            statuses.append(ProductStatus(ref, contract.info.domain, engine, None, str(exc)))
            continue
        results[ref] = result
        statuses.append(ProductStatus(ref, contract.info.domain, engine, result))


def _run_one(
    contract: Contract,
    engine: str,
    root: Path,
    now: dt.datetime | None,
    results: dict[str, RunResult],
    extra: Callable[[Contract], tuple[ck.RowCheck, ...]] | None,
    mesh: MeshProject | None = None,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    checks = extra(contract) if extra else ()
    say = progress or (lambda _line: None)
    upstream = (
        [_upstream(results[i.ref]) for i in contract.transform.inputs]
        if contract.transform
        else None
    )
    processor = DataProcessor(
        contract,
        engine,
        root=root,
        now=now,
        extra_checks=checks,
        upstream_runs=upstream,
        parent_runs=results,  # foreign keys are checked against the parents' runs just made
        mesh=mesh,  # the runner adds the row rules the mesh's policies imply
        progress=lambda line: say(f"{contract.ref}: {line}"),  # its stage lines
    )
    if contract.transform is None:
        return processor.run_source()
    staged = _stage_transform(contract, engine, root, results)
    return processor.run_source(staged)


def _stage_transform(
    contract: Contract, engine: str, root: Path, results: dict[str, RunResult]
) -> Path:
    import pyarrow.parquet as pq

    from meshc.mesh.transform import run_transform
    from meshc.runner.writing import AtomicBatch

    assert contract.transform is not None
    inputs = {}
    for i in contract.transform.inputs:
        parent = results[i.ref]
        table = _arrow(parent)
        inputs[i.alias] = table.drop_columns(
            [c for c in table.column_names if c.startswith("_meshc")]
        )
    table = run_transform(contract, engine, inputs)
    target = root / "_meshc" / "staging" / contract.info.domain / f"{contract.info.name}.parquet"
    batch = AtomicBatch()
    batch.stage(target, lambda tmp: pq.write_table(table, tmp))
    batch.commit()
    return target


def _upstream(result: RunResult) -> dict[str, Any]:
    """The input's run record as the gold record embeds it (its own upstream included)."""
    if result.lineage is not None:
        return {
            k: v for k, v in result.lineage.items() if k not in ("record_path", "openlineage_event")
        }
    c = result.contract
    return {
        "run_id": result.run_id,
        "engine": result.engine,
        "status": "ok" if result.ok else "failed",
        "contract": {
            "ref": c.ref,
            "domain": c.info.domain,
            "system": c.info.system,
            "version": c.info.version,
        },
        # the gold run names the file it read as its input (meshc.lineage.naming)
        "outputs": result.outputs,
        "counts": {"rows_valid": result.rows_valid},
    }


def _arrow(result: RunResult) -> Any:
    return result.valid_arrow()
