"""The meshc exception tree.

    MeshcError                      every error meshc raises on purpose
    ├── ContractError               a contract cannot be loaded, validated or compiled
    │   │                           (carries the Diagnostics that explain why)
    │   └── UnsupportedConstruct    a rule construct one engine or emitter cannot express
    ├── EngineNotAvailable          an engine name is unknown or its library is not installed
    ├── SourceError                 a source cannot be read or lacks a contract column
    ├── WriteError                  an output could not be written (previous outputs kept)
    └── IntegrityError              source rows != valid rows + quarantined rows

The library raises on the first problem; `meshc check` collects Diagnostics instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from meshc.diagnostics import Diagnostic


class MeshcError(Exception):
    """Root of every error meshc raises deliberately."""


class ContractError(MeshcError):
    """A contract is invalid; `diagnostics` says where and why."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(d.render() for d in self.diagnostics))


class UnsupportedConstruct(ContractError):
    """A construct that a given engine or emitter cannot express (never a silent fallback)."""


class EngineNotAvailable(MeshcError):
    """Unknown engine name, or the engine's library is not installed."""


class SourceError(MeshcError):
    """The source cannot be read, or it lacks a column the contract declares."""


class WriteError(MeshcError):
    """An output could not be written; earlier outputs were left intact."""


class IntegrityError(MeshcError):
    """Rows were lost or duplicated: source != valid + quarantined."""
