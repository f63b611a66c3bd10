"""Fixtures shared by the conformance tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def spark_session() -> Iterator[object]:
    """The engine's own shared session, started once for every Spark case."""
    from meshc.engines._spark.session import get_session

    yield get_session()
