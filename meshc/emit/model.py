"""What the emitters hand back: artifact files and the gaps they could not express."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Gap:
    """A rule a target cannot express, with the reason; listed in the manifest and as a warning."""

    target: str  # e.g. "gx_pandas", "pandera_polars"
    rule_id: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"target": self.target, "rule_id": self.rule_id, "reason": self.reason}


@dataclass(frozen=True)
class Artifact:
    """One emitted file: its path relative to the contract's output folder, and its text."""

    name: str
    text: str
