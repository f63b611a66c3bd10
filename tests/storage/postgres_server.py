"""A real PostgreSQL server for the tests: Debian's binaries (`initdb`, `pg_ctl`, installed by
scripts/system-deps.sh), a cluster in a temp dir, listening on 127.0.0.1 on a free port with
password authentication (scram-sha-256) only. Started once per test session, stopped at its end.

initdb refuses to run as root, and tests run as root in CI: the binaries then run as the
`postgres` user (`runuser -u postgres --`) over a temp dir chowned to it. Tests skip, saying why,
only when the binaries are absent.

    server.url("meshc")        postgresql://meshc@127.0.0.1:PORT/meshc (no password: PGPASSWORD)
    server.connect("postgres") an ADBC connection (autocommit) for seeding and reading back
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SUPERUSER = "postgres"
PASSWORD = "meshc-test-password-public-not-a-secret"  # a throwaway cluster on 127.0.0.1
START_TIMEOUT_S = 120  # pg_ctl -w waits this long on a busy 2-core machine


def bin_dir() -> Path | None:
    """The folder holding initdb and pg_ctl: Debian's newest /usr/lib/postgresql/N/bin, or PATH."""
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
    )
    if debian:
        return debian[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    bin: Path
    folder: Path  # owned by the user the server runs as
    port: int
    host: str = "127.0.0.1"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        """The connection URL, as a contract writes it: the password never goes in it."""
        return f"postgresql://{user}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres", user: str = SUPERUSER) -> Any:
        """An autocommit ADBC connection as `user` (password: PASSWORD), for seeding and checks."""
        from adbc_driver_postgresql import dbapi

        uri = f"postgresql://{user}:{PASSWORD}@{self.host}:{self.port}/{database}"
        return dbapi.connect(uri, autocommit=True)

    def execute(self, *statements: str, database: str = "postgres") -> None:
        """Run the tests' own fixed SQL (DDL, grants) as the superuser."""
        with self.connect(database) as conn, conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)

    def rows(self, sql: str, database: str = "postgres") -> list[tuple[Any, ...]]:
        with self.connect(database) as conn, conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())

    # -- lifecycle ----------------------------------------------------------------------------
    def init(self) -> None:
        pwfile = self.folder / "pwfile"
        pwfile.write_text(PASSWORD + "\n", encoding="utf-8")
        _chown(pwfile)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
        )
        pwfile.unlink()

    def start(self) -> None:
        # TCP on 127.0.0.1 only; the Unix socket in our own folder (never /var/run/postgresql)
        options = f"-h {self.host} -p {self.port} -k {self.folder} -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
            "-t", str(START_TIMEOUT_S), "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """`mode`: fast (disconnect clients cleanly) or immediate (as a crash)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    @property
    def running(self) -> bool:
        done = self._run("pg_ctl", "-D", str(self.data), "status", check=False)
        return done.returncode == 0

    def _run(
        self, program: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=START_TIMEOUT_S + 30, cwd=self.folder
        )
        if check and done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr}\n{log}")
        return done


def _chown(path: Path) -> None:
    if os.geteuid() == 0:
        user = pwd.getpwnam(SUPERUSER)
        os.chown(path, user.pw_uid, user.pw_gid)


def _server_or_skip() -> PostgresServer:
    found = bin_dir()
    if found is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) are not installed: "
            "bash scripts/system-deps.sh installs Debian's `postgresql` package"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SUPERUSER)
        except KeyError:
            pytest.skip("running as root without a `postgres` user to run initdb as")
    # /tmp, not pytest's tmp_path: that one is private to root and the server runs as postgres
    folder = Path(tempfile.mkdtemp(prefix="meshc-pg-"))
    _chown(folder)
    return PostgresServer(found, folder, _free_port())


def postgres_server() -> Iterator[PostgresServer]:
    """The body of a session fixture: a started server, stopped and removed afterwards."""
    server = _server_or_skip()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(server.folder, ignore_errors=True)
