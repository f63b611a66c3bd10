"""Where the Spark session runs when several places name it: `--spark-master`, `--spark-conf
spark.master/spark.remote`, mesh.yaml's `spark:` block (its `master` and its `conf`), the
SPARK_REMOTE environment variable. One rule (SparkSettings.place, docs/spark.md) decides, and the
session meshc builds, the safety refusal (`on_this_machine`) and the error messages all use it.

The decisions need no session. The runs that do start one happen in subprocesses (the CLI, a
small script), so the suite's shared local session stays as it is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from meshc.engines.spark_settings import SparkSettings, from_mapping
from meshc.errors import EngineNotAvailable
from tests.conftest import ROOT, run_meshc

SEED = ("-c", str(ROOT / "examples/seed/orders.yaml"), "-s", str(ROOT / "examples/seed/orders.csv"))
NOWHERE = "sc://127.0.0.1:9"  # nothing answers there: a run that went to it would fail


def cli(master: str | None = None, *conf: str) -> SparkSettings:
    """The CLI's layer, as meshc.cli.spark_options builds it."""
    from meshc.engines.spark_settings import COMMAND_LINE, parse_conf

    return SparkSettings(master, parse_conf(conf), origin=COMMAND_LINE)


@pytest.fixture(autouse=True)
def _no_spark_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    monkeypatch.delenv("MASTER", raising=False)


@pytest.mark.parametrize(
    ("settings", "url"),
    [
        (SparkSettings(), "local[*]"),
        # spark-submit: --master wins over --conf spark.master
        (cli("local[1]", "spark.master=local[2]"), "local[1]"),
        (cli(None, "spark.master=local[2]"), "local[2]"),
        (cli(None, f"spark.remote={NOWHERE}"), NOWHERE),
        (cli(NOWHERE, "spark.remote=sc://10.0.0.5:15002"), NOWHERE),
        # mesh.yaml alike: its master over its own conf's spark.master
        (from_mapping({"master": "local[1]", "conf": {"spark.master": "local[2]"}}), "local[1]"),
        # the command line over mesh.yaml, its --spark-conf included
        (cli(None, "spark.master=local[2]").over(from_mapping({"master": "local[1]"})), "local[2]"),
        (cli("local[1]").over(from_mapping({"conf": {"spark.master": "yarn"}})), "local[1]"),
        (cli("local[1]").over(from_mapping({"master": NOWHERE})), "local[1]"),
        (cli(None, "spark.executor.memory=1g").over(from_mapping({"master": NOWHERE})), NOWHERE),
    ],
)
def test_one_place_wins(settings: SparkSettings, url: str) -> None:
    assert settings.place().url == url
    assert settings.is_connect is url.startswith("sc://")


@pytest.mark.parametrize(
    ("settings", "here"),
    [
        (cli("local[1]", "spark.master=yarn"), True),  # yarn lost: the session is local
        (cli("spark://10.0.0.5:7077", "spark.master=local[1]"), False),  # never less safe
        (cli(None, "spark.master=local[2]").over(from_mapping({"master": "yarn"})), True),
        (cli(None, "spark.master=yarn").over(from_mapping({"master": "local[2]"})), False),
        (cli("local[1]").over(from_mapping({"conf": {"spark.remote": NOWHERE}})), True),
    ],
)
def test_on_this_machine_counts_the_master_that_wins(settings: SparkSettings, here: bool) -> None:
    assert settings.on_this_machine is here


def test_the_session_conf_carries_no_second_place() -> None:
    """The builder gets the winning place once, never a spark.master/spark.remote that a later
    `.config` call would put over it (the defect: conf applied after `.master()` won)."""
    settings = cli("local[1]", "spark.master=local[2]", "spark.executor.memory=1g").over(
        from_mapping({"conf": {"spark.remote": NOWHERE, "spark.sql.shuffle.partitions": 4}})
    )
    assert settings.session_conf == {
        "spark.executor.memory": "1g",
        "spark.sql.shuffle.partitions": "4",
    }


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        # a master and a Spark Connect server in one place: spark-submit and pyspark refuse it too
        (
            cli("local[1]", f"spark.remote={NOWHERE}"),
            ["--spark-master local[1]", f"--spark-conf spark.remote={NOWHERE}"],
        ),
        (
            from_mapping({"conf": {"spark.master": "local[1]", "spark.remote": NOWHERE}}),
            ["mesh.yaml spark.conf spark.master: local[1]", f"spark.remote: {NOWHERE}"],
        ),
        (
            cli(NOWHERE, "spark.master=local[1]"),
            [f"--spark-master {NOWHERE}", "--spark-conf spark.master=local[1]"],
        ),
    ],
)
def test_a_master_next_to_a_connect_url_is_refused(
    settings: SparkSettings, named: list[str]
) -> None:
    with pytest.raises(EngineNotAvailable) as refused:
        settings.place()
    for text in named:
        assert text in str(refused.value)
    with pytest.raises(EngineNotAvailable):
        _ = settings.on_this_machine  # refused, not guessed


def test_spark_remote_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Alone it is where pyspark's builder goes; an explicit Connect URL wins over it (pyspark's
    own rule); a master next to it is refused (pyspark builds no classic session then)."""
    monkeypatch.setenv("SPARK_REMOTE", NOWHERE)
    assert SparkSettings().place().url == NOWHERE
    assert SparkSettings().on_this_machine is False
    assert cli("sc://10.0.0.5:15002").place().url == "sc://10.0.0.5:15002"
    for settings, named in [
        (cli("local[1]"), "--spark-master local[1]"),
        (from_mapping({"master": "local[2]"}), "mesh.yaml spark.master: local[2]"),
    ]:
        with pytest.raises(EngineNotAvailable, match="SPARK_REMOTE") as refused:
            settings.place()
        assert named in str(refused.value) and NOWHERE in str(refused.value)


def test_master_in_the_environment_next_to_a_connect_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyspark refuses a Spark Connect URL while MASTER is set; a master overrides MASTER."""
    monkeypatch.setenv("MASTER", "local[3]")
    assert cli("local[1]").place().url == "local[1]"
    with pytest.raises(EngineNotAvailable, match=r"MASTER=local\[3\]"):
        cli(NOWHERE).place()


# -- the CLI: one clear thing, exit 2 naming both values when refused (no session is started) --


def _refused(done: subprocess.CompletedProcess[str], *named: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    for text in named:
        assert text in done.stderr, done.stderr


def test_cli_refuses_a_master_next_to_a_connect_url() -> None:
    done = run_meshc(
        "run", *SEED, "--no-write", "--engine", "spark",
        "--spark-master", "local[1]", "--spark-conf", f"spark.remote={NOWHERE}",
    )  # fmt: skip
    _refused(done, "--spark-master local[1]", f"--spark-conf spark.remote={NOWHERE}")


def test_cli_refuses_a_master_next_to_spark_remote(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_REMOTE", NOWHERE)
    done = run_meshc("run", *SEED, "--no-write", "--engine", "spark", "--spark-master", "local[1]")
    _refused(done, "--spark-master local[1]", f"SPARK_REMOTE={NOWHERE}")


def test_cli_goes_to_spark_remote_when_nothing_else_names_a_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SPARK_REMOTE", NOWHERE)
    done = run_meshc("run", *SEED, "--no-write", "--engine", "spark")
    _refused(done, "no Spark Connect server answers at 127.0.0.1:9")


# -- real sessions (subprocesses): the place that wins is where the session runs --


def _counts(done: subprocess.CompletedProcess[str]) -> tuple[int, int, int]:
    assert done.returncode in (0, 1), done.stderr[-3000:]
    rows = json.loads(done.stdout)["rows"]
    return rows["in"], rows["valid"], rows["quarantined"]


@pytest.mark.spark
@pytest.mark.slow
def test_cli_spark_master_wins_over_spark_conf() -> None:
    """The reported defect: `--spark-master local[1] --spark-conf spark.master=local[2]` failed
    with "a SparkSession on 'local[2]' is already running"; it runs on local[1]."""
    done = run_meshc(
        "run", *SEED, "--no-write", "--engine", "spark", "--format", "json",
        "--spark-master", "local[1]", "--spark-conf", "spark.master=local[2]",
    )  # fmt: skip
    assert _counts(done) == (12, 7, 5)


@pytest.mark.spark
@pytest.mark.slow
def test_cli_mesh_yaml_master_wins_over_its_conf_and_the_flag_over_both(tmp_path: Path) -> None:
    (tmp_path / "mesh.yaml").write_text(
        "mesh: {name: m}\ndomains: {crm: {owner: crm-team, contracts: contracts}}\n"
        f"spark: {{master: '{NOWHERE}', conf: {{spark.master: 'local[2]'}}}}\n"
    )
    refused = run_meshc("run", *SEED, "--no-write", "--engine", "spark", cwd=tmp_path)
    _refused(refused, f"mesh.yaml spark.master: {NOWHERE}", "spark.master: local[2]")
    done = run_meshc(
        "run", *SEED, "--no-write", "--engine", "spark", "--format", "json",
        "--spark-conf", "spark.master=local[1]", cwd=tmp_path,
    )  # fmt: skip
    assert _counts(done) == (12, 7, 5)


# Builds a session from each configured settings in turn (stopping the previous one) and prints
# the master each actually ran on.
MASTERS_SCRIPT = """
import json
from meshc.engines import spark_settings as ss
from meshc.engines.registry import get_engine

layers = [
    ss.SparkSettings("local[1]", {"spark.master": "local[2]"}, origin=ss.COMMAND_LINE),
    ss.SparkSettings(None, {"spark.master": "local[2]"}, origin=ss.COMMAND_LINE).over(
        ss.from_mapping({"master": "local[1]"})),
    ss.SparkSettings("local[1]", origin=ss.COMMAND_LINE).over(
        ss.from_mapping({"master": "local[2]", "conf": {"spark.remote": "sc://127.0.0.1:9"}})),
]
masters = []
for settings in layers:
    ss.configure(settings)
    engine = get_engine("spark")
    masters.append(engine.session.sparkContext.master)
    engine.session.stop()
print(json.dumps(masters))
"""


@pytest.mark.spark
@pytest.mark.slow
def test_the_session_runs_where_the_rule_says() -> None:
    done = subprocess.run(
        [sys.executable, "-c", MASTERS_SCRIPT],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == ["local[1]", "local[2]", "local[1]"]


def test_a_conflict_matters_only_to_spark_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mesh.yaml").write_text(
        "mesh: {name: m}\ndomains: {crm: {owner: crm-team, contracts: contracts}}\n"
        f"spark: {{master: 'local[1]', conf: {{spark.remote: '{NOWHERE}'}}}}\n"
    )
    monkeypatch.setenv("SPARK_REMOTE", NOWHERE)
    done = run_meshc("run", *SEED, "--no-write", "--engine", "polars", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
