"""Spark beyond the local session: a real standalone cluster (a master and a worker) and a Spark
Connect server, both started from pyspark's own distribution on 127.0.0.1 by a session fixture,
give the same splits as meshc's local session (rows, counts, reasons).

The runs on them happen in subprocesses (tests/spark_splits.py, the CLI): a SparkSession is a
per-process singleton and the test session's shared local one must stay as it is.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.spark, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
SPLITS_SCRIPT = ROOT / "tests" / "spark_splits.py"
START_TIMEOUT_S = 180  # JVM start-up on a busy 2-core CI machine
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
CONNECT_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
# the driver (the subprocess) and the executor talk over 127.0.0.1 only
DRIVER_CONF = ("spark.driver.host=127.0.0.1", "spark.driver.bindAddress=127.0.0.1")


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to the server's own process group (it was started in a new session)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)


@dataclass(frozen=True)
class Cluster:
    master_url: str  # spark://127.0.0.1:PORT, one worker with one core
    connect_url: str  # sc://127.0.0.1:PORT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def _start(name: str, args: list[str], logs: Path, env: dict[str, str]) -> Server:
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    return Server(name, process, log)


def _wait_until(server: Server, ready: Any, what: str) -> None:
    """Poll `ready()` until true; a readable failure with the log's tail otherwise."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        if server.process.poll() is not None or time.monotonic() > deadline:
            state = (
                f"exited with {server.process.returncode}"
                if server.process.poll() is not None
                else f"not {what} after {START_TIMEOUT_S}s"
            )
            raise RuntimeError(
                f"{server.name} {state}; its log ({server.log}) ends with:\n{server.tail()}"
            )
        time.sleep(0.5)


def _listening(port: int) -> Any:
    def ready() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    return ready


def _logged(server: Server, text: str) -> Any:
    return lambda: text in (server.log.read_text(errors="replace") if server.log.exists() else "")


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A standalone master + worker and a Spark Connect server; all stopped on teardown, also
    when one of them fails to start."""
    home, base = _spark_home(), tmp_path_factory.mktemp("spark-cluster")
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(base),
        "SPARK_LOCAL_DIRS": str(base / "local"),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_DAEMON_MEMORY": "512m",
    }
    spark_class, spark_submit = (
        str(home / "bin" / "spark-class"),
        str(home / "bin" / "spark-submit"),
    )
    master_port, connect_port = _free_port(), _free_port()
    master_url = f"spark://127.0.0.1:{master_port}"
    servers: list[Server] = []
    try:
        master = _start(
            "master",
            [
                spark_class,
                MASTER_CLASS,
                "--host",
                "127.0.0.1",
                "--port",
                str(master_port),
                "--webui-port",
                str(_free_port()),
            ],
            base,
            env,
        )
        servers.append(master)
        connect = _start(
            "connect-server",
            [
                spark_submit,
                "--class",
                CONNECT_CLASS,
                "--name",
                "meshc-tests-connect",
                "--master",
                "local[1]",
                "--conf",
                f"spark.connect.grpc.binding.port={connect_port}",
                "--conf",
                "spark.connect.grpc.binding.address=127.0.0.1",
                "--conf",
                "spark.ui.enabled=false",
                "--conf",
                "spark.driver.memory=1g",
            ],
            base,
            env,
        )
        servers.append(connect)
        _wait_until(master, _listening(master_port), "listening")
        worker = _start(
            "worker",
            [
                spark_class,
                WORKER_CLASS,
                master_url,
                "--host",
                "127.0.0.1",
                "--cores",
                "1",
                "--memory",
                "1g",
                "--webui-port",
                str(_free_port()),
                "--work-dir",
                str(base / "work"),
            ],
            base,
            env,
        )
        servers.append(worker)
        _wait_until(worker, _logged(worker, "Successfully registered with master"), "registered")
        _wait_until(connect, _listening(connect_port), "listening")
        yield Cluster(master_url, f"sc://127.0.0.1:{connect_port}")
    finally:
        for server in reversed(servers):
            server.stop()


@pytest.fixture(scope="module")
def local_splits(spark_session: Any) -> dict[str, Any]:
    """The reference: the same runs on meshc's shared local session, in this process."""
    sys.path.insert(0, str(SPLITS_SCRIPT.parent))
    try:
        import spark_splits
    finally:
        sys.path.remove(str(SPLITS_SCRIPT.parent))
    from meshc.engines.registry import get_engine

    return spark_splits.splits(get_engine("spark", session=spark_session))


def _remote_splits(master: str, *conf: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(SPLITS_SCRIPT), master, *conf],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_standalone_cluster_gives_the_local_splits(
    spark_cluster: Cluster, local_splits: dict[str, Any]
) -> None:
    outcome = _remote_splits(spark_cluster.master_url, *DRIVER_CONF, "spark.executor.memory=512m")
    assert outcome["master"] == spark_cluster.master_url  # ran on the cluster, not locally
    assert outcome["splits"] == local_splits


def test_spark_connect_gives_the_local_splits(
    spark_cluster: Cluster, local_splits: dict[str, Any]
) -> None:
    outcome = _remote_splits(spark_cluster.connect_url)
    assert outcome["master"] == "connect"
    assert outcome["splits"] == local_splits


def test_cli_runs_on_spark_connect(spark_cluster: Cluster, local_splits: dict[str, Any]) -> None:
    """`meshc run --spark-master sc://...`: the CLI's flag reaches the engine."""
    from tests.conftest import run_meshc

    done = run_meshc(
        "run", "-c", "examples/seed/orders.yaml", "-s", "examples/seed/orders.csv",
        "--engine", "spark", "--no-write",
        "--format", "json", "--quiet", "--spark-master", spark_cluster.connect_url,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    rows = json.loads(done.stdout)["rows"]
    seed = local_splits["seed"]
    assert (rows["in"], rows["valid"], rows["quarantined"]) == (
        seed["rows_in"],
        seed["rows_valid"],
        seed["rows_quarantined"],
    )


def test_storage_through_the_spool_is_refused_on_a_cluster(
    spark_cluster: Cluster, tmp_path: Path
) -> None:
    """A DuckDB-file source or table target passes through this machine's spool, which a cluster's
    executors cannot see: refused before reading or writing, with what to do instead."""
    import duckdb

    from tests.conftest import run_meshc

    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE TABLE orders AS SELECT * FROM read_csv('examples/seed/orders.csv')")
    conf = [a for c in DRIVER_CONF for a in ("--spark-conf", c)]
    common = ["--engine", "spark", "--spark-master", spark_cluster.master_url, *conf]
    read = run_meshc(
        "run", "-c", "examples/seed/orders.yaml", "-s", f"duckdb:{database}#orders",
        "--no-write", *common,
    )  # fmt: skip
    written = run_meshc(
        "run", "-c", "examples/seed/orders.yaml", "-s", "examples/seed/orders.csv",
        "-o", f"duckdb:{database}#silver_orders", "-q", str(tmp_path / "q.parquet"), *common,
    )  # fmt: skip
    for done, verb in ((read, "read"), (written, "write")):
        assert done.returncode == 2, done.stderr
        assert f"cannot {verb}" in done.stderr and "cluster" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    with duckdb.connect(str(database)) as con:  # nothing was written
        found = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    assert {r[0] for r in found} == {"orders"}
