"""`meshc check --daemon`: a check served by the warm daemon prints and exits exactly as the same
check in-process, in the client's folder and environment; the daemon stops when its code is not
the client's, when idle, and when asked; a folder others may enter is refused."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from meshc.cli import daemon

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
CLEAN = ROOT / "contracts" / "crm" / "orders.yaml"
OK = "✓ 1 contract(s) OK\n"
WAIT_S = 60.0  # generous: a loaded CI machine starts Python slowly; no timing is asserted

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the daemon needs fork")


def meshc(
    *args: str,
    env: dict[str, str],
    cwd: Path = ROOT,
    tree: Path | None = None,
    python: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess; `tree`: a folder holding another meshc/ to run instead;
    `python`: options of the interpreter (`-X utf8`)."""
    if tree is not None:
        env = {**env, "PYTHONPATH": str(tree), "PYTHONSAFEPATH": "1"}
    return subprocess.run(
        [sys.executable, *python, "-m", "meshc", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
    )


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    # mkdtemp, not tmp_path: a socket's path must fit in about 100 bytes
    folder = Path(tempfile.mkdtemp(prefix="meshc-daemon-"))
    monkeypatch.setenv(daemon.DIR_ENV, str(folder))  # this process asks the same daemon
    environment = {**os.environ}
    yield environment
    for log in folder.rglob("*.log"):  # every daemon a test started, whichever meshc it runs
        for pid in re.findall(r"started, pid (\d+)", log.read_text()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGTERM)
    shutil.rmtree(folder, ignore_errors=True)


def served(env: dict[str, str], tree: Path | None = None) -> int | None:
    """How many checks this meshc's daemon served; None when none runs."""
    if tree is None:  # this process runs the repository's meshc too
        answer = daemon.ask("status")
        return None if answer is None else int(answer["served"])
    status = meshc("daemon", "status", env=env, tree=tree)
    if status.returncode != 0:
        return None
    return int(status.stdout.split(", ")[1].split()[0])


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.1)
    pytest.fail(f"waited {WAIT_S:g} s for {what}")


def started(env: dict[str, str]) -> None:
    start = meshc("daemon", "start", env=env)
    assert start.returncode == 0, start.stderr
    assert served(env) == 0


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "github"])
def test_a_served_check_prints_and_exits_as_in_process(
    fmt: str, env: dict[str, str], seed_contract: Path
) -> None:
    started(env)
    args = ("check", "--format", fmt, str(FIXTURES / "five_problems.yaml"), str(seed_contract))
    here, there = meshc(*args, env=env), meshc(*args, "--daemon", env=env)
    assert (there.returncode, there.stdout, there.stderr) == (
        here.returncode,
        here.stdout,
        here.stderr,
    )
    assert there.returncode == 1 and "MC201" in there.stdout
    assert served(env) == 1  # the daemon answered: it was no in-process fallback


def test_a_served_check_reads_the_clients_folder_and_environment(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Relative paths resolve in the client's folder; the client's MESHC_CACHE_DIR is used."""
    started(env)
    shutil.copytree(ROOT / "contracts" / "crm", tmp_path / "contracts" / "crm")
    shutil.copy(ROOT / "mesh.yaml", tmp_path / "mesh.yaml")  # where the referenced contracts are
    cache = tmp_path / "rule-cache"
    check = meshc(
        "check",
        "--daemon",
        "contracts/crm/orders.yaml",
        env={**env, "MESHC_CACHE_DIR": str(cache)},
        cwd=tmp_path,
    )
    assert (check.returncode, check.stdout) == (0, OK), check.stderr
    assert served(env) == 1
    assert any(cache.iterdir())  # the rules were compiled into the client's cache folder


def test_usage_errors_and_help_come_through_the_daemon(env: dict[str, str]) -> None:
    started(env)
    bad_here = meshc("check", "--format", "xml", env=env)
    bad_there = meshc("check", "--daemon", "--format", "xml", env=env)
    assert bad_there.returncode == bad_here.returncode == 2
    assert bad_there.stderr == bad_here.stderr
    assert "--daemon" in meshc("check", "--daemon", "--help", env=env).stdout
    assert served(env) == 2


def test_the_first_check_starts_a_daemon_and_checks_in_process(env: dict[str, str]) -> None:
    assert served(env) is None
    first = meshc("check", "--daemon", str(CLEAN), env=env)
    assert (first.returncode, first.stdout) == (0, OK), first.stderr
    wait_for(lambda: served(env) is not None, "the daemon the first check started")
    assert served(env) == 0  # the first check ran in-process; the daemon serves the next one
    meshc("check", "--daemon", str(CLEAN), env=env)
    assert served(env) == 1


def test_a_daemon_running_other_code_stops_and_a_new_one_serves(env: dict[str, str]) -> None:
    """meshc's files changed after the daemon imported them (an upgrade, a checkout): it must not
    answer with the old code. It stops; the check runs in-process; a fresh daemon starts."""
    tree = Path(env[daemon.DIR_ENV]) / "tree"
    shutil.copytree(ROOT / "meshc", tree / "meshc", ignore=shutil.ignore_patterns("__pycache__"))
    assert meshc("daemon", "start", env=env, tree=tree).returncode == 0
    old_pid = meshc("daemon", "status", env=env, tree=tree).stdout.split("pid ")[1].split(",")[0]
    changed = tree / "meshc" / "cli" / "output.py"
    changed.write_text(
        changed.read_text() + "\nCHANGED = True  # the code the daemon imported differs\n"
    )
    check = meshc("check", "--daemon", str(CLEAN), env=env, tree=tree)
    assert (check.returncode, check.stdout) == (0, OK), check.stderr
    wait_for(lambda: served(env, tree) is not None, "a fresh daemon")
    status = meshc("daemon", "status", env=env, tree=tree).stdout
    assert f"pid {old_pid}," not in status and ", 0 checks served" in status
    logs = "".join(log.read_text() for log in Path(env[daemon.DIR_ENV]).glob("*.log"))
    assert "stopped (meshc's code, the installed packages or the interpreter's options" in logs


def test_an_idle_daemon_stops(env: dict[str, str]) -> None:
    assert meshc("daemon", "start", "--idle-timeout", "0.01", env=env).returncode == 0
    wait_for(lambda: served(env) is None, "the idle daemon to stop")
    assert not list(Path(env[daemon.DIR_ENV]).glob("*.sock"))


def test_stop_and_status_say_whether_one_runs(env: dict[str, str]) -> None:
    assert meshc("daemon", "status", env=env).returncode == 1
    assert meshc("daemon", "stop", env=env).stdout == "no meshc daemon is running\n"
    started(env)
    assert "already running" in meshc("daemon", "start", env=env).stdout
    assert meshc("daemon", "stop", env=env).stdout == "meshc daemon stopped\n"
    wait_for(lambda: served(env) is None, "the daemon to stop")


def test_a_folder_others_may_enter_is_refused(env: dict[str, str]) -> None:
    folder = Path(env[daemon.DIR_ENV])
    folder.chmod(0o755)
    status = meshc("daemon", "status", env=env)
    assert status.returncode == 2 and "is not private to this user" in status.stderr
    check = meshc("check", "--daemon", str(CLEAN), env=env)  # in-process, as ever
    assert (check.returncode, check.stdout) == (0, OK)
    assert check.stderr == (
        f"warning: --daemon: {folder} is not private to this user (chmod 700 it, or set "
        f"{daemon.DIR_ENV}); checking in-process\n"
    )
    assert not list(folder.glob("*.sock"))


@pytest.mark.parametrize(
    "argv,line",
    [
        (["check", "--daemon", "a.yaml"], ["check", "a.yaml"]),
        (["check", "a.yaml", "--daemon", "--strict"], ["check", "a.yaml", "--strict"]),
        (["check", "--", "--daemon"], None),  # after `--`, a path named --daemon
        (["run", "--daemon"], None),
    ],
)
def test_the_flag_is_taken_off_a_check_line_only(argv: list[str], line: list[str] | None) -> None:
    assert daemon.check_line(argv) == line


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_on_the_client_interrupts_the_served_check(
    signum: int, code: int, env: dict[str, str], tmp_path: Path
) -> None:
    """The client forwards SIGINT (Ctrl-C) and SIGTERM (a CI or hook timeout) to the check it
    waits for: exit 130 or 143 and nothing printed, as in-process; the daemon's child does not
    run on (it holds the client's stdout: it would print after the client ended)."""
    started(env)
    contract = tmp_path / "contracts" / "crm" / "orders.yaml"
    shutil.copytree(ROOT / "contracts" / "crm", contract.parent)
    shutil.copy(ROOT / "mesh.yaml", tmp_path / "mesh.yaml")
    rules = "".join(  # enough rules to take seconds to compile
        f'    - {{name: r{i}, sql: "order_amount + {i} >= {i} AND quantity * {i} < {i} + 9"}}\n'
        for i in range(3000)
    )
    text = contract.read_text().replace("  row_rules:\n", "  row_rules:\n" + rules, 1)
    contract.write_text(text)
    client = subprocess.Popen(
        [sys.executable, "-m", "meshc", "check", "--daemon", "--no-cache", str(contract)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    wait_for(lambda: (daemon.ask("status") or {}).get("running") == 1, "the check to start")
    client.send_signal(signum)
    out, err = client.communicate(timeout=WAIT_S)
    assert (client.returncode, out, err) == (code, "", "")
    wait_for(lambda: (daemon.ask("status") or {}).get("running") == 0, "the child to end")


def test_a_symlinked_socket_folder_is_refused(env: dict[str, str]) -> None:
    """Whoever owns a link in /tmp may point it elsewhere between the check and the connect (to
    a folder where their own process listens): only a real folder is used, as tmux does."""
    folder = Path(env[daemon.DIR_ENV])
    link = folder.with_name(folder.name + "-link")
    link.symlink_to(folder, target_is_directory=True)
    linked = {**env, daemon.DIR_ENV: str(link)}
    try:
        status = meshc("daemon", "status", env=linked)
        assert status.returncode == 2 and "is a symbolic link" in status.stderr
        check = meshc("check", "--daemon", str(CLEAN), env=linked)
        assert (check.returncode, check.stdout) == (0, OK)
        assert "is a symbolic link" in check.stderr and "checking in-process" in check.stderr
    finally:
        link.unlink()
    assert not list(folder.glob("*.sock"))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_a_socket_another_user_listens_on_is_sent_nothing(env: dict[str, str]) -> None:
    """The client checks who listens before it sends its streams and environment (tokens,
    keys): another user's process on the socket gets no byte, and the check runs in-process."""
    listen_as_nobody = (
        "import os, socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "s.bind(sys.argv[1])\n"
        "os.setgid(65534); os.setuid(65534)\n"
        "s.listen()  # the peer credentials a client sees are the listener's here\n"
        "print('ready', flush=True)\n"
        "conn, _ = s.accept(); conn.settimeout(60)\n"
        "print(len(conn.recv(1 << 20)), flush=True)\n"
    )
    listener = subprocess.Popen(
        [sys.executable, "-c", listen_as_nobody, str(daemon.socket_path())],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert listener.stdout is not None and listener.stdout.readline() == "ready\n"
        check = meshc("check", "--daemon", str(CLEAN), env=env)
        assert (check.returncode, check.stdout) == (0, OK)
        assert "another user (uid 65534)" in check.stderr
        assert listener.communicate(timeout=WAIT_S)[0] == "0\n"  # EOF: nothing was sent
    finally:
        listener.kill()
        listener.wait()


def test_the_check_that_starts_the_daemon_prints_what_it_prints_in_process(
    env: dict[str, str],
) -> None:
    """The daemon it leaves running is no leaked subprocess to warn about (PYTHONWARNINGS)."""
    warnings = {**env, "PYTHONWARNINGS": "default"}
    here = meshc("check", str(CLEAN), env=warnings)
    first = meshc("check", "--daemon", str(CLEAN), env=warnings)
    assert (first.returncode, first.stdout, first.stderr) == (0, OK, here.stderr)
    wait_for(lambda: served(env) is not None, "the daemon the first check started")


@pytest.mark.parametrize("setup", ["-X utf8", "PYTHONPATH"])
def test_a_daemon_of_other_interpreter_settings_stops_and_a_matching_one_serves(
    setup: str, env: dict[str, str]
) -> None:
    """Interpreter options and the import path decide what a check imports and how it reads
    and writes text: a daemon started with others does not answer. It stops; the check runs
    in-process and starts a daemon with its own settings, which serves the next such check."""
    started(env)
    old_pid = (daemon.ask("status") or {})["pid"]
    python: tuple[str, ...] = tuple(setup.split()) if setup.startswith("-") else ()
    other = {**env}
    if setup == "PYTHONPATH":
        other["PYTHONPATH"] = str(Path(env[daemon.DIR_ENV]))  # a folder the daemon's lacks
    first = meshc("check", "--daemon", str(CLEAN), env=other, python=python)
    assert (first.returncode, first.stdout, first.stderr) == (0, OK, "")
    wait_for(
        lambda: (daemon.ask("status") or {}).get("pid") not in (None, old_pid),
        "a daemon with the check's settings",
    )
    second = meshc("check", "--daemon", str(CLEAN), env=other, python=python)
    assert (second.returncode, second.stdout, second.stderr) == (0, OK, "")
    assert served(env) == 1


def test_a_daemon_that_does_not_answer_is_not_waited_for(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A stopped or stuck daemon must not hang the hook: the client checks in-process after
    daemon.ANSWER_S, its pipes end with it (no descriptor waits in the daemon's queue), and the
    request the daemon reads when it wakes is not checked a second time."""
    started(env)
    pid = int((daemon.ask("status") or {})["pid"])
    out = tmp_path / "out.txt"
    os.kill(pid, signal.SIGSTOP)
    try:
        with out.open("w") as stdout:
            check = subprocess.run(
                [sys.executable, "-m", "meshc", "check", "--daemon", str(CLEAN)],
                stdout=stdout,
                stderr=subprocess.PIPE,
                text=True,
                cwd=ROOT,
                env=env,
                timeout=WAIT_S,
            )
    finally:
        os.kill(pid, signal.SIGCONT)
    assert check.returncode == 0 and "did not answer" in check.stderr
    # awake, it answers in turn: the request the client gave up on first, which it drops
    assert served(env) == 0
    assert out.read_text() == OK


def test_a_relative_daemon_folder_is_the_callers(env: dict[str, str]) -> None:
    """MESHC_DAEMON_DIR=run/meshc names a folder under the caller's working folder, for the
    daemon too (which runs elsewhere)."""
    folder = Path(env[daemon.DIR_ENV])
    relative = {**env, daemon.DIR_ENV: "relative"}
    start = meshc("daemon", "start", env=relative, cwd=folder)
    assert start.returncode == 0, start.stderr
    assert f"{folder / 'relative'}/check-" in start.stdout
    assert meshc("daemon", "stop", env=relative, cwd=folder).stdout == "meshc daemon stopped\n"
