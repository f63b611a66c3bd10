"""Where a run writes: its outputs' locations (an explicit -o/-q, or the contract's declared
targets resolved against the root), and the checks made on them before anything is read."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from meshc.contract import Contract
from meshc.engines.base import Engine
from meshc.errors import WriteError
from meshc.storage.location import Location


@dataclass(frozen=True)
class Destinations:
    contract: Contract
    root: Path
    engine: Engine[Any]

    def local_files(
        self, output: str | Path | None, quarantine: str | Path | None
    ) -> dict[str, Path]:
        """The local files this run writes its outputs to, by role ("valid", "quarantine")."""
        return {
            role: Path(where.url)
            for role, where in self.locations(output, quarantine).items()
            if is_local_file(where)
        }

    def locations(
        self, output: str | Path | None, quarantine: str | Path | None
    ) -> dict[str, Location]:
        """Where this run writes its outputs, by role ("valid", "quarantine")."""
        out, q = self.contract.output, self.contract.quarantine
        targets = {
            "valid": self._location(output, "output", out.location if out else None),
            "quarantine": self._location(quarantine, "quarantine", q.location)
            if q.enabled
            else None,
        }
        return {role: where for role, where in targets.items() if where is not None}

    def _location(
        self, explicit: str | Path | None, section: str, declared: Location | None
    ) -> Location | None:
        """An explicit location is used as given (a local path keeps its own format by suffix);
        a declared one is resolved against the root (meshc.storage.targets)."""
        from meshc.storage.location import LocationError, parse

        try:
            if explicit is not None:
                text = str(explicit)
                fmt = delta_if_table(text) or file_format(Path(text))
                if declared is not None and declared.kind == "delta" and not Path(text).suffix:
                    fmt = "delta"  # a new table where the contract declares Delta
                given = parse(text, format=fmt)
                if declared is not None and given.kind == declared.kind:
                    return replace(given, mode=declared.mode)  # the contract's append holds
                return given
        except LocationError as exc:
            raise WriteError(f"{exc}; nothing was written") from exc
        if declared is None:
            return None
        if declared.local:
            path = self._target(section, declared)
            return replace(declared, url=str(path))
        if declared.kind == "table":  # a relative duckdb: file lives under the root
            from meshc.storage.database import anchored

            return anchored(declared, self.root)
        if declared.kind == "files":  # a folder in a bucket receives data.<ext>, as locally
            return declared.with_child(f"data.{EXT[declared.format or 'parquet']}")
        return declared

    def check(
        self,
        output: str | Path | None,
        quarantine: str | Path | None,
        sources: tuple[str, ...] = (),
        source_spec: str | None = None,
    ) -> None:
        """Before reading: refuse targets that overlap an input or each other, or cannot be
        written (an existing folder, a file where a folder must go, no permission)."""
        from meshc.runner.lineage import record_paths
        from meshc.runner.targets import refuse_overlaps, refuse_unwritable

        targets = self.local_files(output, quarantine)
        refuse_overlaps(targets, sources, source_spec, self.contract.path)
        self._refuse_unreachable(output, quarantine)
        extra = []
        if self.contract.lineage.enabled:
            extra.append(record_paths(self.root, self.contract, "latest")[0])
        refuse_unwritable([*targets.values(), *extra])

    def _refuse_unreachable(self, output: str | Path | None, quarantine: str | Path | None) -> None:
        from meshc.storage.sources import declared_at
        from meshc.storage.support import reach

        explicit = {"valid": output, "quarantine": quarantine}
        for role, where in self.locations(output, quarantine).items():
            found = reach(self.engine.name, where)
            section = "output" if role == "valid" else "quarantine"
            at = "" if explicit[role] else declared_at(self.contract.locator, section, where)
            if not found.supported:
                raise WriteError(
                    f"{at}the {self.engine.name} engine cannot write {where.text}: {found.how}; "
                    "nothing was written"
                )
            if not is_local_file(where):
                self.refuse_spool_on_cluster(
                    WriteError, f"{at}cannot write {where.text}", "nothing was written"
                )

    def refuse_spool_on_cluster(self, error: type[Exception], what: str, after: str) -> None:
        """Storage other than local files goes through this machine's spool, which the workers
        of a cluster (a Spark master other than local) cannot see."""
        from meshc.engines.base import Distributed

        if isinstance(self.engine, Distributed) and not self.engine.on_this_machine():
            raise error(
                f"{what} on a {self.engine.name} cluster: meshc passes this storage through this "
                "machine's temporary folder, which the cluster's workers cannot reach; run it on a "
                f"local master, or on polars, pandas or duckdb; {after}"
            )

    def _target(self, section: str, where: Location) -> Path:
        """A declared local target is a folder under the root that receives `data.<format>` (a
        Delta table is the folder itself), refused when it leaves the root (meshc.target_paths)."""
        declared = where.url
        fmt = where.format or "parquet"
        from meshc.target_paths import target_problem

        problem = target_problem(section, declared)
        if problem is not None:
            from meshc.diagnostics import Diagnostic
            from meshc.errors import ContractError

            code, message, hint = problem
            loc = self.contract.locator
            found = (
                loc.diagnostic(code, message, (section, "target"), hint=hint)
                if loc is not None
                else Diagnostic(code, message, self.contract.path, hint=hint)
            )
            raise ContractError([found])
        from meshc.runner.targets import refuse_outside_root

        folder = self.root / declared
        target = folder if where.kind == "delta" else folder / f"data.{EXT[fmt]}"
        refuse_outside_root(self.root, target, section, declared)
        return target


EXT = {"parquet": "parquet", "csv": "csv", "json": "ndjson"}


def is_local_file(where: Location) -> bool:
    return where.local and where.kind == "files"


def delta_if_table(text: str) -> str | None:
    """'delta' when a local path given on the command line is a Delta table's folder."""
    from meshc.storage.location import scheme_of

    if scheme_of(text) == "file" and (Path(text) / "_delta_log").is_dir():
        return "delta"
    return None


def file_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    return {"ndjson": "json", "jsonl": "json", "json": "json", "csv": "csv"}.get(suffix, "parquet")
