"""`meshc check --daemon`: a check served by a warm meshc process, as dmypy serves mypy.

A check whose rules changed pays for Python's start-up and for importing sqlglot with its DuckDB
dialect before it reads a byte: most of its time. The daemon (meshc.cli.daemon_server) pays that
once: it imports what a check needs, then forks one child per check. The child takes the client's
stdin, stdout and stderr (passed over a Unix socket), its working folder, environment and umask,
runs the same `meshc check` line, and sends back the exit code: the output is what an in-process
check prints, written to the client's own terminal or pipe.

This module is the client, and what client and server share (where the socket lives, what the
messages look like). The client checks in-process whenever the daemon cannot serve, so `--daemon`
never changes an answer, only where it is computed:
- no daemon is running: one is started in the background, for the next check;
- the daemon was started from other code (meshc's files or an installed package changed since)
  or by an interpreter with another import path or other options: it stops, and a new one is
  started;
- the daemon does not take the check within ANSWER_S (stopped, stuck): a warning says so;
- no Unix sockets (Windows), no private folder for the socket, or another user's process
  listening on it (it is sent nothing): a warning says so.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import struct
import sys
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import subprocess

DIR_ENV = "MESHC_DAEMON_DIR"
IDLE_TIMEOUT_S = 30 * 60  # a daemon nobody asked for half an hour stops
# How long a client waits for the daemon to take a check (it forks in milliseconds): a stopped or
# stuck daemon must not hang the hook. Above the daemon's 5 s for a client that says nothing.
ANSWER_S = 10.0
_MESHC_DIR = Path(__file__).resolve().parent.parent
_HEADER = struct.Struct("!I")
_MAX_MESSAGE = 1 << 24
_PROTOCOL = 2  # the messages' version: 2 sends the streams after the daemon said it is ready


class DaemonUnavailable(Exception):
    """The daemon cannot be used here; the message says why."""


def folder() -> Path:
    """The private folder of this user's meshc daemons: $MESHC_DAEMON_DIR, else
    $XDG_RUNTIME_DIR/meshc, else meshc-UID in the temporary folder. Created 0700; refused when
    another user owns it or others may enter it, as ssh-agent's socket folder is, and when it is
    a symbolic link: whoever owns a link in /tmp may point it elsewhere after this check."""
    if not hasattr(socket, "AF_UNIX") or not hasattr(socket, "send_fds"):
        raise DaemonUnavailable("this platform has no Unix sockets that pass file descriptors")
    named = os.environ.get(DIR_ENV)
    if named:
        path = Path(named).absolute()  # the caller's, also for the daemon it starts elsewhere
    elif os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(os.environ["XDG_RUNTIME_DIR"]) / "meshc"
    else:
        import tempfile

        path = Path(tempfile.gettempdir()) / f"meshc-{os.getuid()}"
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.lstat()
    except OSError as exc:
        raise DaemonUnavailable(f"cannot use {path}: {exc.strerror}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise DaemonUnavailable(f"{path} is a symbolic link (set {DIR_ENV} to a real folder)")
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise DaemonUnavailable(
            f"{path} is not private to this user (chmod 700 it, or set {DIR_ENV})"
        )
    return path


def socket_path() -> Path:
    """This Python and this meshc's socket: another venv or another meshc tree has its own, and
    so has another version of the messages (a daemon of the old one, started before an upgrade,
    could not read a new client's request, nor be told to stop: it ends when idle)."""
    identity = f"{sys.executable}\0{_MESHC_DIR}\0{_PROTOCOL}".encode()
    path = folder() / f"check-{zlib.crc32(identity):08x}.sock"
    if len(os.fsencode(path)) >= 100:  # sun_path holds 104-108 bytes, by platform
        raise DaemonUnavailable(f"the socket path {path} is too long (set {DIR_ENV})")
    return path


def fingerprint() -> list[Any]:
    """What the daemon's imported code was read from: meshc's files and the folders packages are
    installed in (an install or upgrade there changes the folder), the import path, and the
    interpreter's options (-X utf8, -W, PYTHON* variables read at start-up: how text is read
    and written, which warnings print). A daemon whose fingerprint differs from the client's
    runs other code than the client would, or runs it otherwise: it stops."""
    import site

    count = newest = size = 0
    for root, dirs, files in os.walk(_MESHC_DIR):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            info = os.stat(os.path.join(root, name))
            count, size = count + 1, size + info.st_size
            newest = max(newest, info.st_mtime_ns)
    places = [*getattr(site, "getsitepackages", list)(), site.getusersitepackages()]
    stamps = sorted({(p, os.stat(p).st_mtime_ns) for p in places if p and os.path.isdir(p)})
    # the first entry is the script's folder (the console script's, the working folder for -m
    # and -c) unless the interpreter adds none: the rest is where imports come from
    path = sys.path[0 if sys.flags.safe_path else 1 :]
    options = [list(sys.flags), sys.warnoptions]  # -X options that matter are flags too (utf8)
    return [sys.version, str(_MESHC_DIR), count, newest, size, stamps, path, options]


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    data = json.dumps(message).encode()
    sock.sendall(_HEADER.pack(len(data)) + data)


def receive(sock: socket.socket) -> dict[str, Any]:
    """One message; ConnectionError when the other side closed first."""
    (length,) = _HEADER.unpack(_exactly(sock, _HEADER.size))
    if length > _MAX_MESSAGE:
        raise ConnectionError(f"a message of {length} bytes")
    message = json.loads(_exactly(sock, length))
    if not isinstance(message, dict):
        raise ConnectionError("a message that is no object")
    return message


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the daemon closed the connection")
        data += chunk
    return data


def connect() -> socket.socket | None:
    """A connection to this meshc's daemon; None when none is listening. DaemonUnavailable when
    another user's process listens there: it is sent nothing (no streams, no environment)."""
    place = socket_path()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(ANSWER_S)  # a connect waits while the daemon's backlog is full
    try:
        sock.connect(str(place))
        uid = peer_uid(sock)
    except OSError:
        sock.close()
        return None
    if uid is not None and uid != os.getuid():
        sock.close()
        raise DaemonUnavailable(f"{place} is served by another user (uid {uid})")
    return sock


def peer_uid(sock: socket.socket) -> int | None:
    """The user id of the process at the other end; None where the platform does not say (not
    Linux: the folder's 0700 is the guard)."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[1])


def check_line(argv: list[str]) -> list[str] | None:
    """A `meshc check` line that asks for the daemon, without --daemon; None for any other line
    (after `--` a "--daemon" is a path)."""
    end = argv.index("--") if "--" in argv else len(argv)
    if argv[:1] != ["check"] or "--daemon" not in argv[:end]:
        return None
    return [arg for arg in argv[:end] if arg != "--daemon"] + argv[end:]


def run_check(argv: list[str]) -> int | None:
    """The exit code of `meshc check` run by the daemon with this process's standard streams;
    None when it cannot serve (the caller checks in-process), after starting one if none runs."""
    try:
        sock = connect()
    except DaemonUnavailable as exc:  # a setting to fix: say so, once per check
        print(f"warning: --daemon: {exc}; checking in-process", file=sys.stderr)
        return None
    if sock is None:
        _start_for_the_next_check()
        return None
    # Ctrl-C is held until the check's pid is known (a few ms), so that it reaches the check
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        with sock:
            try:
                reply = _ask_to_check(sock, argv)
            except TimeoutError:
                print(
                    f"warning: --daemon: the meshc daemon did not answer in {ANSWER_S:g} s "
                    "(`meshc daemon stop` it); checking in-process",
                    file=sys.stderr,
                )
                return None
            except (OSError, ValueError):  # it stopped before it took the check: nothing printed
                return None
            if "pid" not in reply:  # it could not take the check (its log says why)
                if reply.get("stale"):  # it stops: the next check meets a fresh one
                    _start_for_the_next_check()
                return None
            return _exit_code(sock, int(reply["pid"]), held)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a Ctrl-C held and not forwarded: here


def _ask_to_check(sock: socket.socket, argv: list[str]) -> dict[str, Any]:
    streams = [fd for fd in (0, 1, 2) if _is_open(fd)]
    umask = os.umask(0o022)
    os.umask(umask)
    stdout = sys.stdout
    send(
        sock,
        {
            "op": "check",
            "argv": argv,
            # what click names the program by in usage lines: `meshc`, or `python -m meshc`
            "argv0": sys.argv[0],
            "main_package": getattr(sys.modules["__main__"], "__package__", None),
            "streams": streams,
            "cwd": os.getcwd(),
            "env": dict(os.environ),
            "umask": umask,
            "encoding": getattr(stdout, "encoding", None),
            "errors": getattr(stdout, "errors", None),
            "fingerprint": fingerprint(),
        },
    )
    reply = receive(sock)
    if not reply.get("ready"):
        return reply
    # The streams go only to a daemon that is reading this connection: descriptors in flight
    # to one that is stuck would keep the caller's pipes open (pre-commit waits for their end).
    socket.send_fds(sock, [b"C"], streams)
    reply = receive(sock)
    if "pid" in reply:  # its check waits for this go: had we given up, it would print nothing
        sock.settimeout(None)
        send(sock, {"go": True})
    return reply


def _exit_code(sock: socket.socket, pid: int, held: set[int | signal.Signals]) -> int:
    """Wait for the check's exit code; Ctrl-C here interrupts the check there (exit 130), and
    SIGTERM (meshc.cli.signals: SystemExit) ends it there (143) rather than leave it running."""
    while True:
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a Ctrl-C held so far: raised here
            return int(receive(sock)["exit"])
        except (KeyboardInterrupt, SystemExit) as exc:
            interrupted = isinstance(exc, KeyboardInterrupt)
            try:
                os.kill(pid, signal.SIGINT if interrupted else signal.SIGTERM)
            except ProcessLookupError:
                return 130 if interrupted else 143
        except (OSError, KeyError, ValueError):
            # it may have printed already: checking again here would print twice
            print("error: the meshc daemon's check ended without an exit code", file=sys.stderr)
            return 2


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _start_for_the_next_check() -> None:
    import warnings

    with warnings.catch_warnings():  # left running on purpose: no "subprocess is still running"
        warnings.simplefilter("ignore", ResourceWarning)
        start_in_background()  # the Popen is dropped (and its __del__ runs) here


def start_in_background(idle_timeout_s: int = IDLE_TIMEOUT_S) -> subprocess.Popen[bytes] | None:
    """Start this meshc's daemon, detached, with this interpreter's options (its fingerprint is
    then the client's); it exits at once when one already runs."""
    import subprocess

    try:
        place = socket_path()
    except DaemonUnavailable:
        return None
    # the options (-X, -W, -B...) that made sys.flags: what multiprocessing starts workers with
    options = subprocess._args_from_interpreter_flags()  # type: ignore[attr-defined]
    return subprocess.Popen(
        [sys.executable, *options, "-c", "import meshc.cli.daemon_server as s; s.main()"]
        + [str(place), str(idle_timeout_s)],
        cwd=place.parent,  # the private folder: `-c` puts the working folder first on sys.path
        env={**os.environ, DIR_ENV: str(place.parent)},  # as found here, from any folder
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # not the terminal's: Ctrl-C on a check never reaches it
    )


def ask(op: str) -> dict[str, Any] | None:
    """The daemon's answer to `status` or `stop`; None when none is running."""
    sock = connect()
    if sock is None:
        return None
    with sock:
        try:
            send(sock, {"op": op})
            return receive(sock)
        except TimeoutError:
            raise DaemonUnavailable(f"the meshc daemon did not answer in {ANSWER_S:g} s") from None
        except OSError:
            return None
