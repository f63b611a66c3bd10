"""The published pre-commit hook really runs `meshc check` through pre-commit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT

pytestmark = pytest.mark.slow


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


# -- the README's snippet, against a tag of this repository --------------------------------------
README_URL = "https://github.com/meshc/meshc"
GIT_AUTHOR = ["-c", "user.name=meshc-test", "-c", "user.email=test@example.invalid"]


def _readme_snippet() -> str:
    """The first YAML block of the README's pre-commit section, verbatim."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Pre-commit") :]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match is not None, "README.md: no yaml block in the pre-commit section"
    return match.group(1)


def _version() -> str:
    match = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert match is not None
    return match.group(1)


def _release_clone(tmp_path: Path, tag: str) -> Path:
    """A clone of this repository whose `tag` names what the working tree holds now: the
    uncommitted changes are committed in the clone, and the tag is created on (or moved onto) the
    clone's last commit, even in a clean clone. The repository itself is not touched."""
    clone = tmp_path / "meshc"
    _git(tmp_path, "clone", "-q", str(ROOT), str(clone))
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        source, target = ROOT / name, clone / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif target.exists() and not source.exists():
            target.unlink()
    _git(clone, "add", "-A")
    changed = subprocess.run(["git", "diff", "--cached", "--quiet"], cwd=clone).returncode != 0
    if changed:
        _git(clone, *GIT_AUTHOR, "commit", "-q", "-m", "working tree")
    # always: a clean tree's tag may name an older commit (v0.1.0 was tagged long ago), and the
    # hooks must install the code under test, not that commit's
    _git(clone, "tag", "-f", tag)
    return clone


def _hook_lines(output: str) -> dict[str, str]:
    """pre-commit's summary: hook name -> Passed / Failed."""
    return {
        m.group(1).strip(): m.group(2)
        for m in re.finditer(r"^(.+?)\.{3,}(Passed|Failed|Skipped)", output, re.M)
    }


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """This repository at its release tag (see _release_clone), made once for the module."""
    if shutil.which("git") is None:
        pytest.skip("git is required for pre-commit")
    tag = f"v{_version()}"
    return _release_clone(tmp_path_factory.mktemp("release"), tag), tag


@pytest.fixture(scope="module")
def pre_commit_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One PRE_COMMIT_HOME for the module: pre-commit builds the hook's environment (a pip
    install of meshc) once per repository and rev, and both tests use the same release clone."""
    return {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre-commit-home")),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def _hook_repo(tmp_path: Path, release: tuple[Path, str], hook: str) -> Path:
    """A git repository whose pre-commit config runs `hook` (its YAML lines) from the release,
    with the five-problem contract staged as contracts/orders.yaml."""
    clone, tag = release
    repo = tmp_path / "repo"
    (repo / "contracts").mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {clone}\n    rev: {tag}\n    hooks:\n{hook}"
    )
    shutil.copy(FIXTURES / "five_problems.yaml", repo / "contracts" / "orders.yaml")
    _git(repo, "add", ".")
    return repo


def test_hook_runs_through_pre_commit(
    tmp_path: Path, release: tuple[Path, str], pre_commit_env: dict[str, str]
) -> None:
    repo = _hook_repo(tmp_path, release, "      - id: meshc-check\n")
    bad = repo / "contracts" / "orders.yaml"
    cmd = [
        sys.executable,
        "-m",
        "pre_commit",
        "run",
        "--files",
        "contracts/orders.yaml",
        "--verbose",
    ]
    failed = subprocess.run(
        cmd, cwd=repo, capture_output=True, text=True, env=pre_commit_env, timeout=900
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "MC201" in failed.stdout and "orders.yaml:5:34" in failed.stdout

    shutil.copy(FIXTURES / "seed_orders.yaml", bad)
    _git(repo, "add", ".")
    passed = subprocess.run(
        cmd, cwd=repo, capture_output=True, text=True, env=pre_commit_env, timeout=900
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout


def test_readme_snippet_runs_both_hooks_at_the_release_tag(
    tmp_path: Path, release: tuple[Path, str], pre_commit_env: dict[str, str]
) -> None:
    snippet = _readme_snippet()
    clone, tag = release
    assert re.search(r"^\s*rev: (\S+)$", snippet, re.M)[1] == tag  # type: ignore[index]
    assert README_URL in snippet

    project = tmp_path / "project"
    (project / "contracts").mkdir(parents=True)
    _git(project, "init", "-q")
    (project / ".pre-commit-config.yaml").write_text(snippet.replace(README_URL, str(clone)))
    contract = project / "contracts" / "orders.yaml"
    shutil.copy(FIXTURES / "seed_orders.yaml", contract)
    _git(project, "add", ".")
    _git(project, *GIT_AUTHOR, "commit", "-q", "-m", "contracts")
    env = pre_commit_env

    def pre_commit() -> subprocess.CompletedProcess[str]:
        _git(project, "add", ".")
        cmd = [sys.executable, "-m", "pre_commit", "run", "--files", "contracts/orders.yaml"]
        return subprocess.run(
            cmd, cwd=project, capture_output=True, text=True, env=env, timeout=900
        )

    good = pre_commit()
    assert good.returncode == 0, good.stdout + good.stderr
    assert set(_hook_lines(good.stdout).values()) == {"Passed"}
    assert len(_hook_lines(good.stdout)) == 2

    # a breaking change without a major bump: only the breaking-change hook refuses it
    text = contract.read_text()
    contract.write_text(text.replace("    - {name: order_date, type: date}\n", ""))
    breaking = pre_commit()
    assert breaking.returncode == 1, breaking.stdout + breaking.stderr
    assert sorted(_hook_lines(breaking.stdout).values()) == ["Failed", "Passed"]
    assert "contracts/orders.yaml:3:3: MC502" in breaking.stdout
    assert "field 'order_date': field_removed" in breaking.stdout

    # an invalid contract: both refuse it, with the located message
    shutil.copy(FIXTURES / "five_problems.yaml", contract)
    bad = pre_commit()
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "contracts/orders.yaml:5:34: MC201" in bad.stdout

    # the hook environment has no dataframe engine: a run names the extra to install
    (meshc,) = Path(env["PRE_COMMIT_HOME"]).glob("repo*/py_env-*/bin/meshc")
    for missing in ("polars", "pyarrow", "openlineage"):
        probe = [str(meshc.with_name("python")), "-c", f"import {missing}"]
        assert subprocess.run(probe, capture_output=True).returncode != 0, missing
    shutil.copy(FIXTURES / "seed_orders.yaml", contract)
    (project / "orders.csv").write_text("order_id,order_amount,order_date,order_status\n")
    run = subprocess.run(
        [str(meshc), "run", "-c", "contracts/orders.yaml", "--source", "orders.csv"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert "pip install 'meshc[polars]'" in run.stderr and "Traceback" not in run.stderr


def test_the_hook_with_daemon_is_served_by_its_daemon(
    tmp_path: Path, release: tuple[Path, str], pre_commit_env: dict[str, str]
) -> None:
    """`args: [--daemon]` (README): the first run checks in-process and starts a daemon in the
    hook's own environment; the next run is served by it, with the same located findings."""
    import tempfile
    import time

    repo = _hook_repo(tmp_path, release, "      - id: meshc-check\n        args: [--daemon]\n")
    folder = tempfile.mkdtemp(prefix="meshc-daemon-")  # short: a socket path fits ~100 bytes
    env = {**pre_commit_env, "MESHC_DAEMON_DIR": folder}
    cmd = [sys.executable, "-m", "pre_commit", "run", "--files", "contracts/orders.yaml"]

    def pre_commit() -> subprocess.CompletedProcess[str]:
        return subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env=env, timeout=900)

    def status() -> subprocess.CompletedProcess[str]:
        (meshc,) = Path(env["PRE_COMMIT_HOME"]).glob("repo*/py_env-*/bin/meshc")
        return subprocess.run([meshc, "daemon", "status"], capture_output=True, text=True, env=env)

    try:
        first = pre_commit()
        assert first.returncode == 1 and "contracts/orders.yaml:5:34: MC201" in first.stdout
        deadline = time.monotonic() + 60
        while status().returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert ", 0 checks served" in status().stdout
        second = pre_commit()
        findings = first.stdout[first.stdout.index("meshc check") :]  # after the install lines
        assert second.returncode == 1 and second.stdout == findings
        assert ", 1 checks served" in status().stdout
    finally:
        (meshc,) = Path(env["PRE_COMMIT_HOME"]).glob("repo*/py_env-*/bin/meshc")
        subprocess.run([meshc, "daemon", "stop"], capture_output=True, env=env)
        shutil.rmtree(folder, ignore_errors=True)
