"""The published pre-commit hook really runs `meshc check` through pre-commit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT

pytestmark = pytest.mark.slow


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is required for pre-commit")
def test_hook_runs_through_pre_commit(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "contracts").mkdir(parents=True)
    _git(repo, "init", "-q")
    bad = repo / "contracts" / "orders.yaml"
    shutil.copy(FIXTURES / "five_problems.yaml", bad)
    _git(repo, "add", ".")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    cmd = [
        sys.executable,
        "-m",
        "pre_commit",
        "try-repo",
        str(ROOT),
        "meshc-check",
        "--files",
        "contracts/orders.yaml",
        "--verbose",
    ]
    failed = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env=env, timeout=900)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "MC201" in failed.stdout and "orders.yaml:5:34" in failed.stdout

    shutil.copy(FIXTURES / "seed_orders.yaml", bad)
    _git(repo, "add", ".")
    passed = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env=env, timeout=900)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
