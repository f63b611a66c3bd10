from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
