"""`meshc bootstrap`: one contract per dataset in a landing folder, plus the registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from meshc.bootstrap import profile, writer
from meshc.bootstrap.infer import DEFAULT_SAMPLE_ROWS, InferredContract, infer_contract
from meshc.runner.progress import Progress


@dataclass(frozen=True)
class Written:
    inferred: InferredContract
    path: Path


@dataclass(frozen=True)
class BootstrapResult:
    contracts: list[Written]
    registry: Path | None


def bootstrap(
    landing: str | Path,
    output: str | Path,
    registry: str | Path | None = None,
    *,
    suggest_rules: bool = False,
    domain: str | None = None,
    system: str | None = None,
    format: str | None = None,
    sample_rows: int | None = DEFAULT_SAMPLE_ROWS,
    measure: bool = True,
    progress: Progress | None = None,
    seed: int = 0,
    max_clean_share: float | None = None,
    on_dataset: Callable[[int, int, str], None] | None = None,
) -> BootstrapResult:
    """Write `<output>/<name>.yaml` for every dataset under `landing`, and the registry."""
    landing, output = Path(landing), Path(output)
    if not landing.exists():
        from meshc.errors import SourceError

        raise SourceError(f"landing folder not found: {landing}")
    datasets = profile.discover(landing, format)
    if not datasets:
        from meshc.errors import SourceError

        raise SourceError(f"no csv, parquet, json or ndjson datasets in {landing}")
    domain = domain or profile.identifier(landing.resolve().name)
    written = []
    for i, dataset in enumerate(datasets):
        if on_dataset is not None:
            on_dataset(i, len(datasets), dataset.name)
        inferred = infer_contract(
            dataset.location,
            suggest_rules,
            name=dataset.name,
            domain=domain,
            system=system,
            format=format,
            sample_rows=sample_rows,
            measure=measure,
            progress=progress,
            seed=seed,
            **({} if max_clean_share is None else {"max_clean_share": max_clean_share}),
        )
        written.append(Written(inferred, inferred.save(output / f"{dataset.name}.yaml")))
    registry_path = None
    if registry is not None:
        registry_path = writer.write_registry(Path(registry), [w.path for w in written])
    return BootstrapResult(written, registry_path)
