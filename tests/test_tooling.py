"""Strict tooling is part of the suite, so CI enforces what pre-commit runs locally."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
TREES = ["meshc", "tests", "examples", "benchmarks"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="needs a checkout")
def test_ruff_lint_and_format() -> None:
    lint = _run("ruff", "check", *TREES)
    assert lint.returncode == 0, lint.stdout[-4000:]
    fmt = _run("ruff", "format", "--check", *TREES)
    assert fmt.returncode == 0, fmt.stdout[-4000:]


def test_mypy_on_the_package() -> None:
    proc = _run("mypy", "meshc")
    assert proc.returncode == 0, proc.stdout[-4000:]
