"""meshc: a data-contract compiler for data-mesh teams.

Importing meshc is cheap: engines, pandera and Great Expectations load only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # re-exported lazily through __getattr__ (see _LAZY)
    from meshc.contract import Contract  # noqa: F401
    from meshc.loader import load_contract, loads_contract  # noqa: F401
    from meshc.rules.compiler import compile_contract  # noqa: F401
    from meshc.runner.processor import DataProcessor  # noqa: F401
    from meshc.runner.result import RunResult  # noqa: F401

_LAZY = {
    "Contract": "meshc.contract",
    "load_contract": "meshc.loader",
    "loads_contract": "meshc.loader",
    "compile_contract": "meshc.rules.compiler",
    "DataProcessor": "meshc.runner.processor",
    "RunResult": "meshc.runner.result",
    "infer_contract": "meshc.bootstrap",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'meshc' has no attribute {name!r}")
