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
- the daemon was started from other code (meshc's files or an installed package changed since):
  it stops, and a new one is started;
- no Unix sockets (Windows), or no private folder for the socket.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import subprocess

DIR_ENV = "MESHC_DAEMON_DIR"
IDLE_TIMEOUT_S = 30 * 60  # a daemon nobody asked for half an hour stops
_MESHC_DIR = Path(__file__).resolve().parent.parent
_HEADER = struct.Struct("!I")
_MAX_MESSAGE = 1 << 24


class DaemonUnavailable(Exception):
    """The daemon cannot be used here; the message says why."""


def folder() -> Path:
    """The private folder of this user's meshc daemons: $MESHC_DAEMON_DIR, else
    $XDG_RUNTIME_DIR/meshc, else meshc-UID in the temporary folder. Created 0700; refused when
    another user owns it or others may enter it, as ssh-agent's socket folder is."""
    if not hasattr(socket, "AF_UNIX") or not hasattr(socket, "send_fds"):
        raise DaemonUnavailable("this platform has no Unix sockets that pass file descriptors")
    named = os.environ.get(DIR_ENV)
    if named:
        path = Path(named)
    elif os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(os.environ["XDG_RUNTIME_DIR"]) / "meshc"
    else:
        import tempfile

        path = Path(tempfile.gettempdir()) / f"meshc-{os.getuid()}"
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.stat()
    except OSError as exc:
        raise DaemonUnavailable(f"cannot use {path}: {exc.strerror}") from None
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise DaemonUnavailable(
            f"{path} is not private to this user (chmod 700 it, or set {DIR_ENV})"
        )
    return path


def socket_path() -> Path:
    """This Python and this meshc's socket: another venv or another meshc tree has its own."""
    identity = f"{sys.executable}\0{_MESHC_DIR}".encode()
    path = folder() / f"check-{zlib.crc32(identity):08x}.sock"
    if len(os.fsencode(path)) >= 100:  # sun_path holds 104-108 bytes, by platform
        raise DaemonUnavailable(f"the socket path {path} is too long (set {DIR_ENV})")
    return path


def fingerprint() -> list[Any]:
    """What the daemon's imported code was read from: meshc's files and the folders packages are
    installed in (an install or upgrade there changes the folder). A daemon whose fingerprint
    differs from the client's runs other code than the client would: it stops."""
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
    return [sys.version, str(_MESHC_DIR), count, newest, size, stamps]


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
    """A connection to this meshc's daemon; None when none is listening."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(socket_path()))
    except OSError:
        sock.close()
        return None
    return sock


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
        start_in_background()
        return None
    # Ctrl-C is held until the check's pid is known (a few ms), so that it reaches the check
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        with sock:
            try:
                reply = _ask_to_check(sock, argv)
            except (OSError, ValueError):  # it stopped before it took the check: nothing printed
                return None
            if "pid" not in reply:  # it could not take the check (its log says why)
                if reply.get("stale"):  # it stops: the next check meets a fresh one
                    start_in_background()
                return None
            return _exit_code(sock, int(reply["pid"]), held)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a Ctrl-C held and not forwarded: here


def _ask_to_check(sock: socket.socket, argv: list[str]) -> dict[str, Any]:
    streams = [fd for fd in (0, 1, 2) if _is_open(fd)]
    socket.send_fds(sock, [b"C"], streams)
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
    return receive(sock)


def _exit_code(sock: socket.socket, pid: int, held: set[int | signal.Signals]) -> int:
    """Wait for the check's exit code; Ctrl-C here interrupts the check there (exit 130)."""
    while True:
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a Ctrl-C held so far: raised here
            return int(receive(sock)["exit"])
        except KeyboardInterrupt:
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:
                return 130
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


def start_in_background(idle_timeout_s: int = IDLE_TIMEOUT_S) -> subprocess.Popen[bytes] | None:
    """Start this meshc's daemon, detached; it exits at once when one already runs."""
    import subprocess

    try:
        place = socket_path()
    except DaemonUnavailable:
        return None
    return subprocess.Popen(
        [sys.executable, "-c", "import meshc.cli.daemon_server as s; s.main()", str(place)]
        + [str(idle_timeout_s)],
        cwd=place.parent,  # the private folder: `-c` puts the working folder first on sys.path
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
            sock.sendall(b"A")
            send(sock, {"op": op})
            return receive(sock)
        except OSError:
            return None
