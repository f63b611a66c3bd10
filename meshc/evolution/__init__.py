"""Contract evolution: what changed between two versions of a contract, and whom it breaks.

    diff(old, new) -> list[Change]            meshc.evolution.diff (pure)
    render.*(diffs) -> str                    meshc.evolution.render (text, json, markdown, ...)
    check_against_base(files, ref)            meshc.evolution.gitbase (`meshc check --base REF`)

The classification of every change kind lives in `changes.CLASSIFICATION` and in
docs/evolution.md.
"""

from __future__ import annotations

from meshc.evolution.changes import CLASSIFICATION, Change, ContractDiff, Direction, Impact
from meshc.evolution.diff import diff, diff_contracts

__all__ = [
    "CLASSIFICATION",
    "Change",
    "ContractDiff",
    "Direction",
    "Impact",
    "diff",
    "diff_contracts",
]
