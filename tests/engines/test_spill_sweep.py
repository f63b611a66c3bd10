"""Spill folders of killed runs are swept by the next streamed validation, on either streaming
engine; a live process's folder never is (meshc/engines/spill_dir.py). Real child processes,
killed with SIGKILL: nothing in them gets to clean up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from meshc.engines.base import ColumnSpec, ValidationPlan
from meshc.engines.registry import ENGINES, get_engine
from meshc.types import INTEGER

ROOT = Path(__file__).resolve().parents[2]
STREAMING = ["polars", "duckdb"]

# validates a small CSV in a streamed pass (its spill folder made and held), says so, then waits
_HOLDS_A_SPILL_FOLDER = """
import sys
from meshc.engines.base import ColumnSpec, ValidationPlan
from meshc.engines.registry import get_engine
from meshc.types import INTEGER
engine = get_engine(sys.argv[1])
frame = engine.read([sys.argv[2]], "csv", text_columns=["x"])
split = engine.validate_streaming(frame, ValidationPlan((ColumnSpec("x", INTEGER),), ()))
print(split.rows_in, flush=True)
sys.stdin.read()
"""


@pytest.fixture
def tmpdir_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """TMPDIR (spill folders) pointed at a folder of the test, for this process and children."""
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder


def _source(tmp_path: Path) -> Path:
    source = tmp_path / "x.csv"
    source.write_text("x\n1\n2\nbad\n")
    return source


def _streamed_validation(name: str, source: Path) -> Path:
    """Run one streamed validation in this process; its spill folder (open until closed)."""
    with get_engine(name) as engine:
        frame = engine.read([str(source)], "csv", text_columns=["x"])
        split = engine.validate_streaming(frame, ValidationPlan((ColumnSpec("x", INTEGER),), ()))
        assert split.rows_in == 3
        (mine,) = [p for p in _spill_folders() if _owner_pid(p) == os.getpid()]
    assert not mine.exists()  # closing the engine removed it
    return mine


def _spill_folders() -> list[Path]:
    return sorted(Path(tempfile.gettempdir()).glob("meshc-spill-*"))


def _owner_pid(folder: Path) -> int:
    return int(folder.name.removeprefix("meshc-spill-").split("-")[0])


@pytest.mark.parametrize("name", STREAMING)
def test_a_killed_runs_spill_folder_is_swept_by_the_next_never_while_it_lives(
    name: str, tmp_path: Path, tmpdir_env: Path
) -> None:
    pytest.importorskip(ENGINES[name].library)
    source = _source(tmp_path)
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDS_A_SPILL_FOLDER, name, str(source)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "3", child.stderr
        (held,) = _spill_folders()
        assert _owner_pid(held) == child.pid
        _streamed_validation(name, source)  # sweeps first: the live child's folder stays
        assert held.is_dir() and any(held.rglob("*.parquet"))
    finally:
        child.kill()  # SIGKILL: no finalizer, no atexit
        child.communicate()
    assert child.returncode == -signal.SIGKILL
    assert held.is_dir()  # left behind: nobody removed it
    _streamed_validation(name, source)
    assert _spill_folders() == []


@pytest.mark.parametrize("name", STREAMING)
def test_the_owner_lock_decides_not_the_pid(name: str, tmp_path: Path, tmpdir_env: Path) -> None:
    """A folder named with a live pid (this one: a dead run's pid reused) but not locked is
    stale; a folder without a lock file (an older meshc; DuckDB's were `meshc-duckdb-*`) only
    once it is older than the grace period."""
    from meshc.runner.commit import OWNER_GRACE_SECONDS

    pytest.importorskip(ENGINES[name].library)
    reused = tmpdir_env / f"meshc-spill-{os.getpid()}-0123456789ab"
    reused.mkdir()
    (reused / ".owner.lock").write_text("")
    legacy = tmpdir_env / "meshc-duckdb-abc123"
    young = tmpdir_env / "meshc-duckdb-def456"
    for folder in (legacy, young):
        folder.mkdir()
        (folder / "valid.parquet").write_text("left over")
    old = time.time() - OWNER_GRACE_SECONDS - 60
    os.utime(legacy, (old, old))
    _streamed_validation(name, _source(tmp_path))
    assert not reused.exists() and not legacy.exists() and young.is_dir()
