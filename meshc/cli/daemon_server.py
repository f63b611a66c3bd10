"""The meshc daemon: a warm process that serves `meshc check --daemon` (the client and the
messages: meshc.cli.daemon).

It imports what a check needs (sqlglot with its DuckDB dialect, the rule compiler, the YAML and
JSON Schema readers), then forks one child per check: every check starts from the same warm state,
never from what an earlier check left, and checks run side by side. It listens on a Unix socket in
a folder private to the user, serves only that user (the peer's uid, where the platform tells it),
and holds a lock on the socket for its whole life, so one runs per socket. It stops when asked
(`meshc daemon stop`), on SIGTERM, after its idle timeout, and when a client's fingerprint differs
from its own (it would run other code than the client).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import io
import os
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from meshc.cli import daemon
from meshc.cli.signals import exit_on_sigterm

# What a check of a contract with SQL rules imports (a gold or ODCS contract, --base and the other
# output formats import a little more, in the child, as a fresh process would).
WARM_MODULES = (
    "meshc.cli.app",
    "meshc.cli.check_fast",
    "meshc.check_cache",
    "meshc.checking",
    "meshc.loader",
    "meshc.schema_validation",
    "meshc.rules.compiler",
    "meshc.governance.money",
    "meshc.storage.checks",
    "yaml",
    "jsonschema_rs",
    "sqlglot.dialects.duckdb",
)
_POLL_S = 0.5
# A daemon that stops (stale, asked) holds its lock until its process ends, a few ms after its
# last answer: the daemon started in its place waits that long for the lock, not for ever.
_LOCK_WAIT_S = 10.0


# Checked once at start-up, so that a child's first check finds what every check builds on first
# use (the JSON Schema validator, compiled regexes, sqlglot's tries) and pays only for its own.
# Findings or not, it warms the same code; nothing it leaves depends on the contract.
_WARM_CONTRACT = """
info: {name: warm_up, version: "1.0.0", domain: meshc, owner: meshc@example.com}
source: {path: warm_up.csv, format: csv}
model:
  fields:
    - {name: id, type: string, primary_key: true, pattern: '^W-[0-9]{3}$'}
    - {name: status, type: string, required: true, accepted_values: [a, b]}
    - {name: day, type: date, required: true, min: "2024-01-01"}
    - {name: amount, type: float, required: true}
    - {name: price, type: "decimal(10,2)"}
    - {name: count, type: integer, min: 1, max: 10}
    - {name: at, type: timestamp with time zone}
quality:
  row_rules:
    - {name: amount_positive, sql: "amount >= 0 AND CAST(price AS DOUBLE) <= amount"}
    - {name: recent, sql: "day <= CURRENT_DATE AND status IN ('a', 'b')", severity: warn}
  dataset_rules:
    - {type: unique, columns: [id, at]}
    - {type: row_count, min: 1}
    - {type: sql, name: positive, sql: "SUM(amount) > 0"}
quarantine: {enabled: true, include_error_reason: true}
lineage: {enabled: true}
"""


@dataclass
class _State:
    place: Path  # the socket; its log is next to it
    fingerprint: list[Any]
    idle_timeout_s: float
    started: float = field(default_factory=time.time)
    last_check: float = field(default_factory=time.monotonic)
    served: int = 0
    children: set[int] = field(default_factory=set)
    lock_fd: int = -1  # closed in each child: a check running on never holds the next daemon off

    @property
    def idle(self) -> bool:
        quiet = time.monotonic() - self.last_check
        return not self.children and quiet > self.idle_timeout_s


def main() -> None:
    """`python -c ... SOCKET IDLE_TIMEOUT_S`, as meshc.cli.daemon.start_in_background runs it."""
    place, idle_timeout_s = Path(sys.argv[1]), float(sys.argv[2])
    if place != daemon.socket_path():  # another Python or meshc than the client's
        _log(place, f"not started: this meshc's socket is {daemon.socket_path()}")
        sys.exit(1)
    serve(place, idle_timeout_s)


def serve(place: Path, idle_timeout_s: float) -> None:
    """Serve checks on the socket `place` until stopped; return at once if a daemon holds it."""
    lock = _lock(place)
    if lock is None:
        return
    # taken before importing: a file changed while importing makes it stale, never stale code fresh
    state = _State(place, _as_sent(daemon.fingerprint()), idle_timeout_s, lock_fd=lock.fileno())
    _warm(place)
    listener = _listen(place)
    signal.signal(signal.SIGTERM, _stop)
    _log(place, f"started, pid {os.getpid()}")
    reason = "idle"
    try:
        while not state.idle:
            _reap(state)
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                stopping = _handle(conn, listener, state)
            if stopping:
                reason = stopping
                break
    except SystemExit:
        reason = "SIGTERM"
    finally:
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            place.unlink()
        _log(place, f"stopped ({reason}) after {state.served} checks")


def _lock(place: Path) -> Any:
    """The socket's lock file, locked (held until the process ends); None when another daemon
    still holds it after _LOCK_WAIT_S."""
    lock = open(place.with_suffix(".lock"), "a")  # noqa: SIM115 (held until the process ends)
    deadline = time.monotonic() + _LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return lock
        except OSError:
            if time.monotonic() > deadline:
                lock.close()
                return None
            time.sleep(0.05)


def _warm(place: Path) -> None:
    """Import what a check needs and check one contract, in a temporary folder, output dropped."""
    for module in WARM_MODULES:
        importlib.import_module(module)
    from meshc.cli.check_fast import CheckArgs, execute

    here = os.getcwd()
    with tempfile.TemporaryDirectory(dir=place.parent) as tmp, open(os.devnull, "w") as devnull:
        Path(tmp, "warm_up.yaml").write_text(_WARM_CONTRACT, encoding="utf-8")
        os.chdir(tmp)
        try:
            with contextlib.redirect_stdout(devnull), contextlib.redirect_stderr(devnull):
                execute(CheckArgs(paths=("warm_up.yaml",), no_cache=True))
        except Exception as exc:  # a colder daemon still serves: each check then warms itself
            _log(place, f"warm-up check failed: {type(exc).__name__}: {exc}")
        finally:
            os.chdir(here)


def _listen(place: Path) -> socket.socket:
    with contextlib.suppress(FileNotFoundError):
        place.unlink()  # left by a daemon that was killed: the lock says none holds it
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    umask = os.umask(0o177)  # the socket file is the user's alone from the start
    try:
        listener.bind(str(place))
    finally:
        os.umask(umask)
    listener.listen(16)
    listener.settimeout(_POLL_S)
    return listener


def _stop(signum: int, frame: object) -> NoReturn:
    raise SystemExit(128 + signum)


def _as_sent(value: list[Any]) -> list[Any]:
    import json

    return list(json.loads(json.dumps(value)))  # tuples as the client's JSON has them: lists


def _handle(conn: socket.socket, listener: socket.socket, state: _State) -> str | None:
    """Answer one connection; the reason to stop, or None to go on."""
    conn.settimeout(5)  # a client that connects and says nothing does not hold the daemon
    fds: list[int] = []
    try:
        if daemon.peer_uid(conn) not in (None, os.getuid()):
            return None
        request = daemon.receive(conn)
        op = request.get("op")
        if op == "status":
            daemon.send(conn, _status(state))
        elif op == "stop":
            daemon.send(conn, {"stopping": os.getpid()})
            return "asked to stop"
        elif op == "check" and request.get("fingerprint") == state.fingerprint:
            daemon.send(conn, {"ready": True})  # the client sends its streams only now
            sent, fds, _, _ = socket.recv_fds(conn, 1, 3)
            if sent != b"C" or len(fds) != len(request["streams"]):  # it gave up waiting
                return None
            _fork_check(conn, listener, request, fds, state)
        elif op == "check":
            daemon.send(conn, {"stale": True})
            return "meshc's code, the installed packages or the interpreter's options changed"
        else:
            daemon.send(conn, {"error": f"unknown request {op!r}"})
    except (OSError, ValueError, KeyError, TypeError):  # a client gone, or no meshc client
        return None
    finally:
        for fd in fds:
            os.close(fd)
    return None


def _status(state: _State) -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "started": state.started,
        "served": state.served,
        "running": len(state.children),
        "idle_timeout_s": state.idle_timeout_s,
        "meshc": state.fingerprint[1],
        "python": sys.executable,
    }


def _fork_check(
    conn: socket.socket,
    listener: socket.socket,
    request: dict[str, Any],
    fds: list[int],
    state: _State,
) -> None:
    state.last_check = time.monotonic()  # a status request does not keep it alive: a check does
    pid = os.fork()
    if pid == 0:
        listener.close()
        os.close(state.lock_fd)  # the lock's file stays locked by the daemon's own descriptor
        _check_in_child(conn, request, fds, state.place)
    state.children.add(pid)
    state.served += 1


def _reap(state: _State) -> None:
    for pid in list(state.children):
        with contextlib.suppress(ChildProcessError):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if not done:
                continue
        state.children.discard(pid)


def _check_in_child(
    conn: socket.socket, request: dict[str, Any], fds: list[int], place: Path
) -> NoReturn:
    """Become the client, as far as a check can tell: its streams, folder, environment and
    umask; run its command line; send the exit code. Never returns."""
    code, announced = 2, False
    try:
        exit_on_sigterm()  # as the check will: a SIGTERM before it begins is exit 143 too
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _take_streams(request, fds)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.umask(int(request["umask"]))
        conn.settimeout(None)
        daemon.send(conn, {"pid": os.getpid()})
        daemon.receive(conn)  # the client's go: one that gave up waiting checks in-process
        announced = True  # from here on the client waits for this check's exit code
        sys.argv = [str(request["argv0"]), *request["argv"]]
        sys.modules["__main__"].__package__ = request["main_package"]
        code = _run()
    except KeyboardInterrupt:  # the client's Ctrl-C, forwarded before the check began
        code = 130
    except SystemExit as exc:  # the client's SIGTERM, forwarded before the check began
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException as exc:  # meshc's own failure, in the log; announced: the client's too
        import traceback

        log = place.with_suffix(".log")
        _log(place, "a check failed to start:\n" + traceback.format_exc())
        if announced:
            print(f"internal error in the meshc daemon: {exc!r} (see {log})", file=sys.stderr)
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        with contextlib.suppress(OSError):
            daemon.send(conn, {"exit": code})
        os._exit(0)


def _take_streams(request: dict[str, Any], fds: list[int]) -> None:
    given = dict(zip(request["streams"], fds, strict=True))
    for target in (0, 1, 2):
        source = given[target] if target in given else os.open(os.devnull, os.O_RDWR)
        if source != target:
            os.dup2(source, target)
            os.close(source)
    encoding = request.get("encoding") or "utf-8"
    sys.stdin = _text_stream(0, "r", encoding, "strict")
    sys.stdout = _text_stream(1, "w", encoding, request.get("errors") or "strict")
    sys.stderr = _text_stream(2, "w", encoding, "backslashreplace")


def _text_stream(fd: int, mode: str, encoding: str, errors: str) -> io.TextIOWrapper:
    """The text stream Python makes for a standard stream: line-buffered on a terminal (stderr
    always), block-buffered elsewhere."""
    raw = io.FileIO(fd, mode, closefd=False)
    buffered = io.BufferedReader(raw) if mode == "r" else io.BufferedWriter(raw)
    line_buffering = mode == "w" and (fd == 2 or os.isatty(fd))
    return io.TextIOWrapper(
        buffered, encoding=encoding, errors=errors, line_buffering=line_buffering
    )


def _run() -> int:
    from meshc.cli import app

    try:
        app.main()
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    return 0


def _log(place: Path, line: str) -> None:
    with contextlib.suppress(OSError), open(place.with_suffix(".log"), "a") as log:
        log.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")
