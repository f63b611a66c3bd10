"""The engine suite runs every common case on every selected engine.

`engine_name` is parametrised over the engines `--engines` selects (all registered ones by
default); Spark's cases carry the `spark` marker, so `-m "not spark"` leaves them out. `engine` is
that engine, created through the registry (Spark on the shared session of tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from meshc.engines.registry import ENGINES, get_engine


def selected_engines(config: pytest.Config) -> list[str]:
    option = str(config.getoption("--engines"))
    if option == "all":
        return list(ENGINES)
    names = [n.strip().lower() for n in option.split(",") if n.strip()]
    unknown = [n for n in names if n not in ENGINES]
    if unknown:
        raise pytest.UsageError(f"--engines: unknown {unknown}; choose from {', '.join(ENGINES)}")
    return names


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine_name" in metafunc.fixturenames:
        params = [
            pytest.param(name, id=name, marks=[pytest.mark.spark] if name == "spark" else [])
            for name in selected_engines(metafunc.config)
        ]
        metafunc.parametrize("engine_name", params)


@pytest.fixture
def engine(engine_name: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    pytest.importorskip(ENGINES[engine_name].library)
    options: dict[str, object] = {}
    if engine_name == "spark":
        options["session"] = request.getfixturevalue("spark_session")
    created = get_engine(engine_name, **options)
    yield created
    close = getattr(created, "close", None)
    if close is not None:
        close()
