"""Write safety (issue #12, items 1-5), one class of defect per test group:

1. a target never overlaps an input (source file, folder or glob, the contract) or the other target;
2. a contract never writes outside the lakehouse root (absolute or `..` targets) unless the user
   names the file on the command line;
3. the valid/quarantine pair (and the lineage record) are committed together, under a lock;
4. a failed run (exit 2) changes nothing: previous outputs and lineage records stay byte-identical;
5. an interrupted run leaves nothing behind (temporary files, spill folders) once the next run ran.

The fault test at the end kills real `meshc run` processes at seeded random moments and fills a
tiny file system, and checks the invariants of 3-5 after every kill.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from meshc import DataProcessor
from meshc.errors import ContractError, WriteError
from tests.conftest import ROOT, run_meshc

CONTRACT = """\
info: {{version: 1, name: orders, domain: crm}}
model:
  fields:
    - {{name: id, type: integer}}
    - {{name: amount, type: float}}
    - {{name: note, type: string}}
quality:
  row_rules:
    - sql: "amount >= 0"
output: {{target: {output}}}
quarantine: {{enabled: true, target: {quarantine}}}
lineage: {{enabled: true}}
"""


def _csv(path: Path, rows: int, seed: int = 0) -> Path:
    rng = random.Random(seed)
    lines = ["id,amount,note"]
    for i in range(rows):
        amount = rng.choice(["-1", "x"]) if i % 7 == 3 else f"{rng.uniform(0, 999):.2f}"
        lines.append(f"{i},{amount},{''.join(rng.choices('abcdefghij', k=12))}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _contract(
    folder: Path, output: str = "silver/crm/orders", quarantine: str = "quarantine/crm/orders"
) -> Path:
    path = folder / "orders.yaml"
    path.write_text(CONTRACT.format(output=json.dumps(output), quarantine=json.dumps(quarantine)))
    return path


class Lake:
    """A contract with declared targets, its source and its lakehouse root."""

    def __init__(self, folder: Path, rows: int = 20, root: Path | None = None) -> None:
        self.folder = folder
        self.contract = _contract(folder)
        self.source = _csv(folder / "orders.csv", rows)
        self.root = root or folder / "lake"
        self.valid = self.root / "silver/crm/orders/data.parquet"
        self.quarantine = self.root / "quarantine/crm/orders/data.parquet"
        self.runs = self.root / "_meshc/runs/crm/orders"
        self.latest = self.runs / "latest.json"

    def run(self, engine: str = "polars", **kwargs: object) -> object:
        processor = DataProcessor(self.contract, engine, root=self.root)
        return processor.run_source(self.source, **kwargs)  # type: ignore[arg-type]

    def cli(self, *args: str) -> list[str]:
        return ["run", "-c", str(self.contract), "-s", str(self.source), "--root", str(self.root),
                *args]  # fmt: skip

    def folders(self) -> list[Path]:
        return [self.valid.parent, self.quarantine.parent, self.runs]

    def snapshot(self) -> dict[str, bytes]:
        """Every published file of the lake (hidden lock, temporary and journal files aside)."""
        return {
            str(p.relative_to(self.root)): p.read_bytes()
            for p in sorted(self.root.rglob("*"))
            if p.is_file() and not p.name.startswith(".")
        }

    def pair_run_ids(self) -> tuple[set[str], set[str], str]:
        """Run ids in the valid rows, in the quarantined rows, and in latest.json."""
        valid = set(pq.read_table(self.valid).column("_meshc_run_id").to_pylist())
        quarantined = set(pq.read_table(self.quarantine).column("_meshc_run_id").to_pylist())
        return valid, quarantined, json.loads(self.latest.read_text())["run_id"]

    def leftovers(self) -> list[Path]:
        """Temporary files and commit journals anywhere in the lake."""
        return [
            p
            for p in self.root.rglob(".*")
            if p.name.endswith(".tmp") or p.name.startswith(".meshc-journal-")
        ]


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# -- 1. a target never overlaps an input or the other target -------------------------------------


def _overlaps(lake: Lake) -> dict[str, tuple[dict[str, object], str]]:
    """name -> (run_source arguments, the path the message must name besides the target)."""
    src, folder = lake.source, lake.folder
    symlink, hardlink = folder / "alias.csv", folder / "hard.csv"
    symlink.symlink_to(src.name)
    os.link(src, hardlink)
    (folder / "sub").mkdir()
    return {
        "output is the source": ({"output": src}, str(src)),
        "quarantine is the source through ..": (
            {"quarantine": folder / "sub/../orders.csv"},
            str(src),
        ),
        "output is a symlink to the source": ({"output": symlink}, str(src)),
        "output is a hard link to the source": ({"output": hardlink}, str(src)),
        "valid and quarantine are one file": (
            {"output": folder / "s.parquet", "quarantine": folder / "s.parquet"},
            "quarantine output",
        ),
        "output is the contract": ({"output": lake.contract}, str(lake.contract)),
    }


def test_no_target_may_overlap_a_source_file_the_contract_or_the_other_target(lake: Lake) -> None:
    before = {p: p.read_bytes() for p in (lake.source, lake.contract)}
    for name, (kwargs, named) in _overlaps(lake).items():
        with pytest.raises(WriteError, match="nothing was written") as caught:
            lake.run(**kwargs)
        message = str(caught.value)
        assert named in message, name
        assert {p: p.read_bytes() for p in before} == before, name
        assert not lake.root.exists(), name


def test_no_target_may_lie_in_the_source_folder_or_match_the_source_glob(lake: Lake) -> None:
    processor = DataProcessor(lake.contract, root=lake.root)
    with pytest.raises(WriteError, match="source folder"):
        processor.run_source(lake.folder, output=lake.folder / "out/valid.parquet")
    with pytest.raises(WriteError, match="source glob"):
        processor.run_source(str(lake.folder / "*.csv"), output=lake.folder / "valid.csv")
    assert not (lake.folder / "out").exists() and not (lake.folder / "valid.csv").exists()


def test_cli_refuses_an_output_over_its_source_with_exit_2(lake: Lake) -> None:
    before = lake.source.read_bytes()
    proc = run_meshc(*lake.cli("-o", str(lake.source)))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count(str(lake.source)) >= 2  # the target and the source it would destroy
    assert lake.source.read_bytes() == before
    same = run_meshc(
        *lake.cli("-o", str(lake.folder / "s.parquet"), "-q", str(lake.folder / "s.parquet"))
    )
    assert same.returncode == 2 and "quarantine output" in same.stderr
    assert not (lake.folder / "s.parquet").exists()


# -- 2. a contract never writes outside the lakehouse root ---------------------------------------


@pytest.mark.parametrize(
    ("output", "quarantine", "code", "key"),
    [
        ("/tmp/meshc-escape/silver", "quarantine/crm/orders", "MC209", "output"),
        ("silver/crm/orders", "../../escaped/q", "MC210", "quarantine"),
        ("silver/../../escaped", "quarantine/crm/orders", "MC210", "output"),
    ],
)
def test_a_contract_target_outside_the_root_is_a_located_check_error_and_refused_at_run(
    tmp_path: Path, output: str, quarantine: str, code: str, key: str
) -> None:
    from meshc.checking import run_check

    contract = _contract(tmp_path, output, quarantine)
    found = [d for d in run_check([str(contract)]).diagnostics if d.code == code]
    assert len(found) == 1, run_check([str(contract)]).diagnostics
    line = 10 if key == "output" else 11  # the line of `output:` / `quarantine:` in CONTRACT
    assert (found[0].line, found[0].severity.value) == (line, "error")
    assert contract.read_text().splitlines()[line - 1][found[0].col - 1] == '"'  # at the value
    assert found[0].hint and ("-o" if key == "output" else "-q") in found[0].hint
    assert run_meshc("check", str(contract)).returncode == 1

    source = _csv(tmp_path / "orders.csv", 10)
    root = tmp_path / "deep/er/lake"
    with pytest.raises(ContractError) as caught:
        DataProcessor(contract, root=root).run_source(source)
    assert caught.value.diagnostics[0].code == code
    proc = run_meshc("run", "-c", str(contract), "-s", str(source), "--root", str(root))
    shown = proc.stdout + proc.stderr  # contract diagnostics are rendered as by `check`
    assert proc.returncode == 2 and code in shown and "Traceback" not in shown
    assert not (tmp_path / "escaped").exists() and not Path("/tmp/meshc-escape").exists()
    # named on the command line, the same paths are the user's choice
    explicit = {key if key == "quarantine" else "output": tmp_path / "mine.parquet"}
    result = DataProcessor(contract, root=root).run_source(source, **explicit)  # type: ignore[arg-type]
    assert (tmp_path / "mine.parquet").is_file() and result.rows_in == 10


# -- 3. the pair is committed together, under a lock ---------------------------------------------

_KILLED_BETWEEN_RENAMES = """
import os, signal, sys
from meshc import DataProcessor
contract, source, root = sys.argv[1:4]
real_replace = os.replace
def replace_then_die(src, dst):
    # a crash at the worst moment: right after the first output was renamed into place
    real_replace(src, dst)
    if str(dst).endswith("data.parquet"):
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace_then_die
DataProcessor(contract, root=root).run_source(source)
"""


def test_a_run_killed_between_renames_is_completed_never_mixed(lake: Lake) -> None:
    from meshc.runner.commit import recover_folders

    lake.run()
    first, _, _ = lake.pair_run_ids()
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _KILLED_BETWEEN_RENAMES,
            str(lake.contract),
            str(lake.source),
            str(lake.root),
        ],  # fmt: skip
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    recover_folders(lake.folders())  # what the next run does first, under the lock
    valid, quarantined, latest = lake.pair_run_ids()
    assert valid == quarantined == {latest} != first
    assert lake.leftovers() == []


def test_a_commit_under_a_relative_root_is_recovered_from_any_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Journal paths are absolute: a recovery started elsewhere completes the pair, never mixes."""
    from meshc.runner.commit import recover_folders

    monkeypatch.chdir(tmp_path)
    relative = Lake(tmp_path, root=Path("lake"))
    relative.run()
    second = _csv(tmp_path / "second.csv", 25, seed=1)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _KILLED_BETWEEN_RENAMES,
            str(relative.contract),
            str(second),
            "lake",
        ],  # fmt: skip
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    lake = Lake(tmp_path)  # the same lake, by absolute paths
    recover_folders(lake.folders())
    valid, quarantined, latest = lake.pair_run_ids()
    assert valid == quarantined == {latest}
    assert lake.leftovers() == []


def test_a_journal_whose_staged_file_is_gone_is_kept_and_reported_never_dropped(
    tmp_path: Path,
) -> None:
    """A committed run whose tmp vanished before its target was replaced cannot be completed:
    the recovery fails naming the journal, and keeps it and the other staged files."""
    from meshc.runner.commit import recover_folders
    from meshc.runner.writing import AtomicBatch

    dead = _dead_pid()
    folders = [tmp_path / "valid", tmp_path / "quarantine"]
    renames, journals = [], []
    for folder in folders:
        folder.mkdir()
        (folder / "data.parquet").write_text("previous run")
        tmp = folder / f".data.parquet.meshc-{dead}-0123abcd.tmp"
        tmp.write_text("killed run")
        renames.append([str(tmp), str(folder / "data.parquet"), tmp.stat().st_ino])
        journals.append(folder / ".meshc-journal-killed.json")
    Path(renames[0][0]).unlink()  # removed by someone else; its target was never replaced
    record = {"run_id": "killed", "renames": renames, "journals": list(map(str, journals))}
    for journal in journals:
        journal.write_text(json.dumps(record))
    for _ in range(2):  # every later recovery says it again
        with pytest.raises(OSError, match="cannot be completed") as caught:
            recover_folders(folders)
        message = str(caught.value)
        assert any(str(j) in message for j in journals) and renames[0][0] in message
    with AtomicBatch() as batch:  # a run writing there says so too, and changes nothing
        batch.stage_text(folders[0] / "other.txt", "new run")
        with pytest.raises(WriteError, match="cannot be completed"):
            batch.commit()
    assert all(j.exists() for j in journals) and Path(renames[1][0]).exists()
    assert [(f / "data.parquet").read_text() for f in folders] == ["previous run"] * 2
    assert not (folders[0] / "other.txt").exists()


def test_a_staged_file_removed_before_the_commit_fails_the_run_and_changes_nothing(
    tmp_path: Path,
) -> None:
    from meshc.runner.writing import AtomicBatch

    targets = [tmp_path / "valid/data.parquet", tmp_path / "quarantine/data.parquet"]
    for target in targets:
        target.parent.mkdir()
        target.write_text("previous run")
    with AtomicBatch() as batch:
        for target in targets:
            batch.stage_text(target, "new run")
        batch.staged[1][0].unlink()  # e.g. another run's sweep took it for a dead one's
        with pytest.raises(WriteError, match="nothing was changed"):
            batch.commit()
    assert [t.read_text() for t in targets] == ["previous run"] * 2
    assert [p.name for t in targets for p in t.parent.iterdir() if p.name != ".meshc.lock"] == [
        "data.parquet",
        "data.parquet",
    ]


@pytest.mark.parametrize("copies_written", [1, 2])
def test_a_journal_is_rolled_forward_only_when_every_copy_was_written(
    tmp_path: Path, copies_written: int
) -> None:
    """Killed while writing its journal copies, a run never committed: it is rolled back."""
    from meshc.runner.commit import recover_folders

    dead = _dead_pid()
    folders = [tmp_path / "valid", tmp_path / "quarantine"]
    renames, journals = [], []
    for folder in folders:
        folder.mkdir()
        (folder / "data.parquet").write_text("previous run")
        tmp = folder / f".data.parquet.meshc-{dead}-0123abcd.tmp"
        tmp.write_text("killed run")
        renames.append([str(tmp), str(folder / "data.parquet")])
        journals.append(folder / ".meshc-journal-killed.json")
    record = {
        "run_id": "killed",
        "pid": dead,
        "renames": renames,
        "journals": list(map(str, journals)),
    }
    for journal in journals[:copies_written]:
        journal.write_text(json.dumps(record))
    recover_folders(folders)
    expected = "killed run" if copies_written == len(journals) else "previous run"
    assert [(f / "data.parquet").read_text() for f in folders] == [expected, expected]
    assert [p.name for f in folders for p in f.iterdir() if p.name != ".meshc.lock"] == [
        "data.parquet",
        "data.parquet",
    ]


_RUN_WITH_PROGRESS = """
import sys
from meshc import DataProcessor
from meshc.cli.signals import exit_on_sigterm
exit_on_sigterm()
contract, source, root = sys.argv[1:4]
say = lambda msg: print(msg, file=sys.stderr, flush=True)
DataProcessor(contract, root=root, progress=say).run_source(source)
"""


def _start_waiting_run(lake: Lake) -> subprocess.Popen[str]:
    """A run started while the test holds the targets' locks; returns once it says it waits."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _RUN_WITH_PROGRESS,
            str(lake.contract),
            str(lake.source),
            str(lake.root),
        ],  # fmt: skip
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "waiting for another meshc run" in line:
            return proc
    proc.communicate()
    pytest.fail("the second run never waited for the lock held by the first")


def test_a_concurrent_run_waits_for_the_lock_and_commits_after_it(lake: Lake) -> None:
    from meshc.runner.commit import locked

    lake.run()
    before = lake.snapshot()
    with locked(lake.folders()):
        proc = _start_waiting_run(lake)
        assert lake.snapshot() == before  # nothing published while another run holds the lock
    proc.communicate()  # drains and closes its stderr
    assert proc.returncode == 0
    valid, quarantined, latest = lake.pair_run_ids()
    assert valid == quarantined == {latest}
    assert lake.snapshot() != before and lake.leftovers() == []


# -- 4. a failed run changes nothing ---------------------------------------------------------------


def test_a_quarantine_target_that_is_a_folder_fails_before_anything_is_published(
    lake: Lake,
) -> None:
    lake.run()
    before = lake.snapshot()
    folder = lake.folder / "qdir"
    folder.mkdir()
    proc = run_meshc(*lake.cli("-q", str(folder)))
    assert proc.returncode == 2 and "is a folder" in proc.stderr, proc.stderr
    assert lake.snapshot() == before and list(folder.iterdir()) == []


def test_a_lineage_record_that_cannot_be_written_publishes_no_output(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    out = tmp_path / "out"
    (lake.root / "_meshc").parent.mkdir(parents=True)
    (lake.root / "_meshc").write_text("a file where the run records' folder must go")
    with pytest.raises(WriteError) as caught:
        lake.run(output=out / "valid.parquet", quarantine=out / "q.parquet")
    assert not out.exists()  # the outputs were not published without their run record
    assert "nothing was" in str(caught.value)


# -- 5. an interrupted run leaves nothing behind -------------------------------------------------


@pytest.fixture
def tmpdir_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """TMPDIR (spill folders) pointed at a folder of the test, for this process and children."""
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder


def test_the_next_run_sweeps_leftovers_of_killed_runs(lake: Lake, tmpdir_env: Path) -> None:
    """A killed run leaves its owner lock files unlocked (the kernel released them)."""
    lake.run()
    token = f"{_dead_pid()}-0123456789ab"
    spill = tmpdir_env / f"meshc-spill-{token}"
    spill.mkdir()
    stale = [
        spill,
        lake.valid.with_name(f".data.parquet.meshc-{token}-0123abcd.tmp"),
        lake.runs / f".latest.json.meshc-{token}-0123abcd.tmp",
        lake.valid.parent / f".meshc-owner-{token}.lock",
        lake.runs / f".meshc-owner-{token}.lock",
    ]
    for path in stale[1:]:
        path.write_text("left over")
    (spill / ".owner.lock").write_text("")
    lake.run()
    assert [p for p in stale if p.exists()] == []


def test_staleness_is_decided_by_the_owner_lock_never_by_pid(lake: Lake, tmpdir_env: Path) -> None:
    """A run in another PID namespace (another container on the same lakehouse) has a pid that
    looks dead here: while it holds its owner locks, its staged files and spill folder stay."""
    import fcntl

    from meshc.engines._polars.spill import sweep_stale
    from meshc.runner.commit import recover_folders

    lake.run()
    token = f"{_dead_pid()}-0123456789ab"
    staged = lake.valid.with_name(f".data.parquet.meshc-{token}-0123abcd.tmp")
    staged.write_text("staged by a live run")
    spill = tmpdir_env / f"meshc-spill-{token}"
    spill.mkdir()
    (spill / "valid.parquet").write_text("spilled by a live run")
    locks = [lake.valid.parent / f".meshc-owner-{token}.lock", spill / ".owner.lock"]
    held = [os.open(p, os.O_RDWR | os.O_CREAT) for p in locks]
    try:
        for fd in held:
            fcntl.flock(fd, fcntl.LOCK_EX)
        recover_folders(lake.folders())
        sweep_stale(tmpdir_env)
        assert staged.exists() and spill.exists() and all(p.exists() for p in locks)
    finally:
        for fd in held:
            os.close(fd)  # the owner finished (or was killed)
    recover_folders(lake.folders())
    sweep_stale(tmpdir_env)
    assert not staged.exists() and not spill.exists() and not locks[0].exists()


def test_a_leftover_without_an_owner_lock_is_swept_only_after_the_grace_period(
    lake: Lake, tmpdir_env: Path
) -> None:
    """No lock file (an older meshc, no fcntl): only the age of the file says it is stale."""
    from meshc.engines._polars.spill import sweep_stale
    from meshc.runner.commit import OWNER_GRACE_SECONDS, recover_folders

    lake.run()
    dead = _dead_pid()
    staged = lake.valid.with_name(f".data.parquet.meshc-{dead}-0123abcd.tmp")
    staged.write_text("staged by an older meshc")
    spill = tmpdir_env / f"meshc-spill-{dead}-abc123"
    spill.mkdir()
    recover_folders(lake.folders())
    sweep_stale(tmpdir_env)
    assert staged.exists() and spill.exists()
    old = time.time() - OWNER_GRACE_SECONDS - 60
    for path in (staged, spill):
        os.utime(path, (old, old))
    recover_folders(lake.folders())
    sweep_stale(tmpdir_env)
    assert not staged.exists() and not spill.exists()


def test_sigterm_during_a_run_exits_143_and_leaves_nothing(lake: Lake, tmpdir_env: Path) -> None:
    from meshc.runner.commit import locked

    lake.run()
    before = lake.snapshot()
    with locked(lake.folders()):
        proc = _start_waiting_run(lake)  # its outputs are staged and its spill folder exists
        proc.send_signal(signal.SIGTERM)
        proc.communicate()
        assert proc.returncode == 143
    assert lake.snapshot() == before
    assert lake.leftovers() == [] and list(tmpdir_env.glob("meshc-spill-*")) == []


# -- the fault test: real kills at seeded random moments, and a full file system ------------------

KILLS_PER_SIGNAL = 6


def _check_never_mixed(lake: Lake, before: dict[str, bytes], previous_run: str) -> str:
    """After a killed run (and the recovery every next run performs): the previous files intact,
    or the new pair complete with latest.json pointing at it. Returns the current run id."""
    from meshc.runner.commit import recover_folders

    recover_folders(lake.folders())
    valid, quarantined, latest = lake.pair_run_ids()
    if latest == previous_run:
        assert lake.snapshot() == before
    else:
        assert valid == quarantined == {latest}
    assert lake.leftovers() == []
    return latest


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_fault_kills_at_random_moments_never_mix_runs_or_leave_files(
    engine: str, tmp_path: Path, tmpdir_env: Path
) -> None:
    lake = Lake(tmp_path, rows=3000)
    command = [sys.executable, "-m", "meshc", *lake.cli("--engine", engine)]
    started = time.monotonic()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    span = time.monotonic() - started  # kill points spread over one run's length
    rng = random.Random(f"meshc-fault-{engine}")
    current = json.loads(lake.latest.read_text())["run_id"]
    for sig in (signal.SIGKILL, signal.SIGTERM):
        for _ in range(KILLS_PER_SIGNAL):
            before = lake.snapshot()
            proc = subprocess.Popen(
                command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            time.sleep(rng.uniform(0.3, 1.0) * span)  # interpreter start-up is not interesting
            proc.send_signal(sig)
            _, err = proc.communicate()
            assert proc.returncode in (0, -sig, 143), err.decode()[-2000:]
            current = _check_never_mixed(lake, before, current)
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    assert lake.leftovers() == []
    assert list(tmpdir_env.glob("meshc-spill-*")) == []


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A 256 KB tmpfs (needs root and mount permission; skipped otherwise)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_fault_a_full_file_system_fails_with_exit_2_and_changes_nothing(
    engine: str, tmp_path: Path, tiny_fs: Path, tmpdir_env: Path
) -> None:
    lake = Lake(tmp_path, rows=50, root=tiny_fs)  # targets and run records on the tiny fs
    first = run_meshc(*lake.cli("--engine", engine))
    assert first.returncode == 0, first.stderr
    before = lake.snapshot()
    _csv(lake.source, 40_000, seed=1)  # its outputs cannot fit in what is left
    proc = run_meshc(*lake.cli("--engine", engine))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "nothing was changed" in proc.stderr
    assert lake.snapshot() == before and lake.leftovers() == []
