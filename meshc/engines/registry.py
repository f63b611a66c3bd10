"""Lazy engine registry: names -> modules, imported only when an engine is asked for."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from meshc.diagnostics import did_you_mean
from meshc.errors import EngineNotAvailable

if TYPE_CHECKING:
    from meshc.engines.base import Engine, EngineFactory


class EngineEntry(NamedTuple):
    module: str  # imported only when the engine is asked for
    library: str  # the library it needs
    extra: str  # pip install 'meshc[extra]'
    # capability: the `meshc run --validator` artifacts that judge this engine's frames row by row
    row_validators: tuple[str, ...] = ()


# The one list of engines: the CLI's --engine choices and every capability lookup come from here.
ENGINES: dict[str, EngineEntry] = {
    "polars": EngineEntry("meshc.engines._polars.engine", "polars", "polars", ("pandera",)),
    "pandas": EngineEntry("meshc.engines._pandas.engine", "pandas", "pandas", ("pandera", "gx")),
    "duckdb": EngineEntry("meshc.engines._duckdb.engine", "duckdb", "duckdb"),
    "spark": EngineEntry("meshc.engines._spark.engine", "pyspark", "spark", ("gx",)),
}
DEFAULT_ENGINE = "polars"


def engines_judged_by(validator: str) -> tuple[str, ...]:
    """The engines whose frames `validator` (pandera, gx) judges row by row, sorted by name."""
    return tuple(
        sorted(name for name, entry in ENGINES.items() if validator in entry.row_validators)
    )


def get_engine(name: str = DEFAULT_ENGINE, **options: Any) -> Engine[Any]:
    """An engine instance by name; a clear error for typos and missing libraries. `options` go
    to the engine module's `create(**options)` (DuckDB: `config`, Spark: `session`); an option
    the engine does not take is a TypeError. The caller owns the engine: close it when done
    (`engine.close()`, or `with get_engine("duckdb") as engine:`)."""
    key = name.lower()
    if key not in ENGINES:
        hint = did_you_mean(name, ENGINES) or f"choose one of: {', '.join(ENGINES)}"
        raise EngineNotAvailable(f"unknown engine '{name}' ({hint})")
    module_name, library, extra, _ = ENGINES[key]
    try:
        import_module(library)
    except ImportError:
        raise EngineNotAvailable(
            f"engine '{key}' needs {library}: pip install 'meshc[{extra}]'"
        ) from None
    create = cast("EngineFactory", import_module(module_name).create)
    return create(**options)
