"""Lazy engine registry: names -> modules, imported only when an engine is asked for."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from meshc.diagnostics import did_you_mean
from meshc.errors import EngineNotAvailable

if TYPE_CHECKING:
    from meshc.engines.base import Engine

# name -> (module, library it needs, pip extra)
ENGINES: dict[str, tuple[str, str, str]] = {
    "polars": ("meshc.engines._polars.engine", "polars", "polars"),
    "pandas": ("meshc.engines._pandas.engine", "pandas", "pandas"),
    "duckdb": ("meshc.engines._duckdb.engine", "duckdb", "duckdb"),
    "spark": ("meshc.engines._spark.engine", "pyspark", "spark"),
}
DEFAULT_ENGINE = "polars"


def get_engine(name: str = DEFAULT_ENGINE, **options: object) -> Engine:
    """An engine instance by name; a clear error for typos and missing libraries."""
    key = name.lower()
    if key not in ENGINES:
        hint = did_you_mean(name, ENGINES) or f"choose one of: {', '.join(ENGINES)}"
        raise EngineNotAvailable(f"unknown engine '{name}' ({hint})")
    module_name, library, extra = ENGINES[key]
    try:
        import_module(library)
    except ImportError:
        raise EngineNotAvailable(
            f"engine '{key}' needs {library}: pip install 'meshc[{extra}]'"
        ) from None
    module = import_module(module_name)
    return module.create(**options)
