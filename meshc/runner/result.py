"""RunResult: what one run produced (frames, counts, failures, lineage, report).

Its own module so that the report (meshc/runner/report.py) and the mesh can name it without
importing the runner. `from meshc.runner.processor import RunResult` keeps working.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic

from meshc.contract import Contract
from meshc.engines.base import Engine, FrameT, Materializing
from meshc.runner.dataset_checks import DatasetResult

if TYPE_CHECKING:
    from meshc.runner.report import RunReport


@dataclass
class RunResult(Generic[FrameT]):
    """What a run produced: native frames, counts, per-rule failures, lineage and a report.

    Generic in the engine's frame type, as `Engine[FrameT]` is: `RunResult[pl.LazyFrame |
    pl.DataFrame]` from the Polars engine, `RunResult[duckdb.DuckDBPyRelation]` from DuckDB...
    `valid_frame` / `quarantine_frame` are the frames the run produced and are never replaced:
    on Polars a streamed run's are lazy scans of its spill files. `valid` / `quarantine` are the
    same rows in memory, made by the engine on first access and cached in private fields (so they
    stay readable once the engine is closed; `valid_arrow()` uses them when present).

    The frames belong to `engine_impl` (a DuckDB relation lives on its connection): readable
    until that engine is closed, by the DataProcessor that created it (`processor.close()`, or
    leaving `with DataProcessor(...) as processor:`) or by `result.close()` /
    `with processor.run_source() as result:`. An unclosed engine is released when collected.
    """

    contract: Contract
    engine: str
    run_id: str
    valid_frame: FrameT  # the engine's frame; lazy (over the spill files) when the run streamed
    quarantine_frame: FrameT
    rows_in: int
    rows_valid: int
    rows_quarantined: int
    failures: dict[str, int]
    dataset_results: list[DatasetResult]
    outputs: dict[str, str | None]
    lineage: dict[str, Any] | None
    report: dict[str, Any] = field(default_factory=dict)
    engine_impl: Engine[FrameT] | None = field(default=None, repr=False)
    # checks that could not be evaluated (foreign keys without parent data): id -> reason
    not_evaluated: dict[str, str] = field(default_factory=dict)
    checked_against: dict[str, str] = field(default_factory=dict)  # foreign key id -> parent run
    # the typed report (meshc.runner.report.RunReport); `report` is its JSON form, to_dict()
    run_report: RunReport | None = field(default=None, repr=False)
    # role -> what was published beyond local files: {"location", "version" (Delta)...}
    published: dict[str, dict[str, Any]] = field(default_factory=dict)
    # `valid` / `quarantine` once made (the frames above stay as the run produced them)
    _valid: FrameT | None = field(default=None, init=False, repr=False, compare=False)
    _quarantine: FrameT | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def valid(self) -> FrameT:
        """The valid rows as the engine's in-memory frame (a Polars DataFrame on Polars);
        materialised on first access when the run streamed its outputs, then cached."""
        if self._valid is None:
            self._valid = self._materialize(self.valid_frame)
        return self._valid

    @property
    def quarantine(self) -> FrameT:
        if self._quarantine is None:
            self._quarantine = self._materialize(self.quarantine_frame)
        return self._quarantine

    def _materialize(self, frame: FrameT) -> FrameT:
        engine = self.engine_impl
        return engine.materialize(frame) if isinstance(engine, Materializing) else frame

    def valid_arrow(self) -> Any:
        """The valid rows as a pyarrow Table, whatever the engine."""
        assert self.engine_impl is not None
        return self.engine_impl.to_arrow(
            self._valid if self._valid is not None else self.valid_frame
        )

    def quarantine_arrow(self) -> Any:
        assert self.engine_impl is not None
        held = self._quarantine if self._quarantine is not None else self.quarantine_frame
        return self.engine_impl.to_arrow(held)

    @property
    def pass_rate(self) -> float:
        return 1.0 if self.rows_in == 0 else self.rows_valid / self.rows_in

    @property
    def quarantine_ratio(self) -> float:
        return 0.0 if self.rows_in == 0 else self.rows_quarantined / self.rows_in

    @property
    def failed_dataset_rules(self) -> list[DatasetResult]:
        return [r for r in self.dataset_results if not r.passed and r.severity == "error"]

    @property
    def ok(self) -> bool:
        """False when a dataset rule failed or the contract's max_quarantine_ratio was exceeded."""
        limit = self.contract.max_quarantine_ratio
        return not self.failed_dataset_rules and (limit is None or self.quarantine_ratio <= limit)

    def to_json(self) -> str:
        return json.dumps(self.report, indent=2, default=str)

    def close(self) -> None:
        """Release the engine that holds the frames (a DuckDB connection); the frames are unusable
        afterwards. Idempotent."""
        if self.engine_impl is not None:
            self.engine_impl.close()

    def __enter__(self) -> RunResult[FrameT]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
