"""Spark beyond the local session: a real standalone cluster (a master and a worker) and a Spark
Connect server, both started from pyspark's own distribution on 127.0.0.1 by a session fixture,
give the same splits as meshc's local session (rows, counts, reasons). Storage that passes through
this machine's spool is refused on a cluster, decided without starting a session (no JVM, no
connection), so only one refusal test needs the real cluster.

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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from meshc.engines.spark_settings import SparkSettings, runs_on_this_machine

CaseFunction = TypeVar("CaseFunction", bound=Callable[..., None])


def on_a_cluster(test: CaseFunction) -> CaseFunction:
    """Marks a test that starts the cluster (spark, slow); the decision tests start nothing."""
    return pytest.mark.slow(pytest.mark.spark(test))


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


@on_a_cluster
def test_standalone_cluster_gives_the_local_splits(
    spark_cluster: Cluster, local_splits: dict[str, Any]
) -> None:
    outcome = _remote_splits(spark_cluster.master_url, *DRIVER_CONF, "spark.executor.memory=512m")
    assert outcome["master"] == spark_cluster.master_url  # ran on the cluster, not locally
    assert outcome["splits"] == local_splits


@on_a_cluster
def test_spark_connect_gives_the_local_splits(
    spark_cluster: Cluster, local_splits: dict[str, Any]
) -> None:
    outcome = _remote_splits(spark_cluster.connect_url)
    assert outcome["master"] == "connect"
    assert outcome["splits"] == local_splits


@on_a_cluster
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


# In a subprocess (the test session's shared local session must not be the active one): runs a
# DuckDB-file source and a DuckDB-table output through DataProcessor on `engine` and prints
# how each run ended and whether a SparkContext (a JVM) exists afterwards.
REFUSALS_SCRIPT = """
import json, sys
from pyspark import SparkContext
from pyspark.sql import SparkSession
from meshc.engines import spark_settings
from meshc.engines.registry import get_engine
from meshc.errors import MeshcError
from meshc.runner.processor import DataProcessor

database, quarantine, master, active = sys.argv[1:5]
conf = dict(c.split("=", 1) for c in sys.argv[5:])
if active == "active":  # a session of the user's on `master` (a notebook, a spark-submit job)
    builder = SparkSession.builder.master(master)
    for key, value in conf.items():
        builder = builder.config(key, value)
    builder.getOrCreate()
    engine = get_engine("spark")
elif active == "configured":  # meshc run --spark-master
    spark_settings.configure(spark_settings.SparkSettings(master, conf))
    engine = get_engine("spark")
else:
    engine = get_engine("spark", master=master, conf=conf)
runs = {"read": dict(source=f"duckdb:{database}#orders", write=False),
        "write": dict(source="examples/seed/orders.csv", output=f"duckdb:{database}#silver",
                      quarantine=quarantine)}
outcome = {"on_this_machine": engine.on_this_machine()}
outcome["jvm_after_deciding"] = SparkContext._active_spark_context is not None
for name, run in runs.items() if database != "-" else ():
    try:
        DataProcessor("examples/seed/orders.yaml", engine=engine).run_source(**run)
        outcome[name] = "ran"
    except MeshcError as exc:
        outcome[name] = f"{type(exc).__name__}: {exc}"
outcome["jvm"] = SparkContext._active_spark_context is not None
print(json.dumps(outcome))
"""


def _warehouse(tmp_path: Path) -> Path:
    import duckdb

    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE TABLE orders AS SELECT * FROM read_csv('examples/seed/orders.csv')")
    return database


def _tables(database: Path) -> set[str]:
    import duckdb

    with duckdb.connect(str(database)) as con:
        found = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    return {r[0] for r in found}


def _refusals(tmp_path: Path, master: str, how: str, *conf: str) -> dict[str, Any]:
    database = _warehouse(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", REFUSALS_SCRIPT, str(database), str(tmp_path / "q.parquet"),
         master, how, *conf],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert _tables(database) == {"orders"}  # nothing was written
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _assert_refused(outcome: dict[str, Any]) -> None:
    assert outcome["on_this_machine"] is False
    for verb, error in (("read", "SourceError"), ("write", "WriteError")):
        assert outcome[verb].startswith(f"{error}: cannot {verb}"), outcome
        assert "spark cluster" in outcome[verb] and "local master" in outcome[verb], outcome


@on_a_cluster
def test_storage_through_the_spool_is_refused_on_a_real_cluster(
    spark_cluster: Cluster, tmp_path: Path
) -> None:
    """The one refusal that needs the cluster: a session of the user's on a real spark:// master
    is the active one, and a DuckDB-file source or table output (through this machine's spool,
    which the executors cannot see) is refused before reading or writing."""
    outcome = _refusals(tmp_path, spark_cluster.master_url, "active", *DRIVER_CONF)
    _assert_refused(outcome)
    assert outcome["jvm"] is True  # the user's session, still running


@pytest.mark.spark
@pytest.mark.parametrize("how", ["options", "configured"])
@pytest.mark.parametrize(
    "master",
    ["spark://127.0.0.1:{port}", "yarn", "k8s://https://127.0.0.1:{port}", "sc://127.0.0.1:{port}"],
)
def test_refused_on_a_cluster_without_starting_a_session(
    tmp_path: Path, master: str, how: str
) -> None:
    """Decided from the configured master, with nothing listening at it: refused, and no
    SparkContext (no JVM) was started nor any cluster contacted to say so."""
    outcome = _refusals(tmp_path, master.format(port=_free_port()), how)
    _assert_refused(outcome)
    assert (outcome["jvm_after_deciding"], outcome["jvm"]) == (False, False)


@pytest.mark.spark
def test_a_session_passed_on_a_local_master_is_this_machine(spark_session: Any) -> None:
    from meshc.engines.registry import get_engine

    assert get_engine("spark", session=spark_session).on_this_machine() is True


@pytest.mark.spark
def test_cli_refuses_the_spool_on_a_cluster_master(tmp_path: Path) -> None:
    """`meshc run --spark-master spark://...` with a DuckDB-file source: exit 2, what to do
    instead, no traceback (and no master needs to answer at that address)."""
    from tests.conftest import run_meshc

    database = _warehouse(tmp_path)
    done = run_meshc(
        "run", "-c", "examples/seed/orders.yaml", "-s", f"duckdb:{database}#orders", "--no-write",
        "--engine", "spark", "--spark-master", f"spark://127.0.0.1:{_free_port()}",
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "cannot read" in done.stderr and "spark cluster" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.spark
@pytest.mark.parametrize("master", ["local[2]", "local-cluster[2,1,1024]"])
def test_a_local_master_is_this_machine_without_starting_a_session(master: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", REFUSALS_SCRIPT, "-", "-", master, "options"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome == {"on_this_machine": True, "jvm_after_deciding": False, "jvm": False}


@pytest.mark.parametrize(
    ("master", "here"),
    [
        ("local", True),
        ("local[*]", True),
        ("local[4]", True),
        ("local[2,3]", True),  # 2 threads, 3 task retries
        ("local-cluster[2,1,1024]", True),  # executors in their own JVMs, on this machine
        ("spark://10.0.0.5:7077", False),
        ("yarn", False),
        ("k8s://https://10.0.0.5:443", False),
        ("mesos://10.0.0.5:5050", False),
        ("sc://localhost:15002", False),  # Spark Connect: the server's executors
        ("localhost", False),  # not a Spark master
    ],
)
def test_which_masters_run_on_this_machine(master: str, here: bool) -> None:
    assert runs_on_this_machine(master) is here


@pytest.mark.parametrize(
    ("settings", "here"),
    [
        (SparkSettings(), True),  # local[*]
        (SparkSettings("local[2]", {"spark.executor.memory": "1g"}), True),
        (SparkSettings("spark://10.0.0.5:7077"), False),
        (SparkSettings(None, {"spark.master": "yarn"}), False),  # overrides the builder's master
        (SparkSettings(None, {"spark.remote": "sc://10.0.0.5"}), False),
    ],
)
def test_where_a_session_built_from_settings_runs(settings: SparkSettings, here: bool) -> None:
    assert settings.on_this_machine is here


def test_spark_remote_in_the_environment_is_a_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyspark's builder goes to SPARK_REMOTE when nothing else names a place, and builds no
    session on a master next to it: refused, never counted as this machine (more in
    tests/test_spark_master_precedence.py)."""
    from meshc.errors import EngineNotAvailable

    monkeypatch.setenv("SPARK_REMOTE", "sc://10.0.0.5:15002")
    assert SparkSettings().on_this_machine is False
    with pytest.raises(EngineNotAvailable, match="SPARK_REMOTE"):
        _ = SparkSettings("local[*]").on_this_machine
