from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engines",
        default="all",
        help="engines the engine suite (tests/engines) runs on, comma-separated, e.g. "
        "--engines polars,duckdb (default: all registered engines; Spark cases also carry the "
        "`spark` marker, so -m 'not spark' still leaves them out)",
    )


@pytest.fixture(scope="session")
def spark_session() -> Iterator[object]:
    """meshc's own shared local Spark session, started once for every Spark test."""
    from meshc.engines._spark.session import get_session

    yield get_session()


def run_meshc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess, as a user or CI would."""
    return subprocess.run(
        [sys.executable, "-m", "meshc", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=300,
    )


@pytest.fixture
def seed_contract() -> Path:
    return FIXTURES / "seed_orders.yaml"


TEST_MASKING_KEY = "meshc-test-masking-key-public-not-a-secret"


@pytest.fixture(autouse=True)
def _masking_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """`masking: hash` is a keyed hash and refuses to run without a key: every test (and every CLI
    subprocess it starts, which inherits the environment) gets this fixed, public test key."""
    monkeypatch.delenv("MESHC_MASKING_KEY_FILE", raising=False)
    monkeypatch.setenv("MESHC_MASKING_KEY", TEST_MASKING_KEY)
