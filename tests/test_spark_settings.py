"""Where the Spark engine's session runs: the settings, mesh.yaml's `spark:` block and the CLI's
`--spark-master/--spark-conf` (no session is started here: these fail before one would be)."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshc.engines.spark_settings import SparkSettings, from_mapping, parse_conf
from tests.conftest import run_meshc

SEED = ("-c", "examples/seed/orders.yaml", "-s", "examples/seed/orders.csv")


def test_conf_pairs_and_the_mesh_block() -> None:
    assert parse_conf(["spark.a=1", "spark.b=x=y"]) == {"spark.a": "1", "spark.b": "x=y"}
    with pytest.raises(ValueError, match="KEY=VALUE, got 'oops'"):
        parse_conf(["oops"])
    block = from_mapping({"master": "yarn", "conf": {"spark.sql.adaptive.enabled": True, "n": 4}})
    assert block == SparkSettings("yarn", {"spark.sql.adaptive.enabled": "true", "n": "4"})
    flags = SparkSettings("sc://h:15002", {"n": "8"})
    layered = flags.over(block)  # the flags over mesh.yaml (which one names the place: precedence)
    assert layered.place().url == "sc://h:15002"
    assert layered.session_conf == {"spark.sql.adaptive.enabled": "true", "n": "8"}
    assert flags.is_connect and not block.is_connect


def test_mesh_yaml_spark_block_is_read_and_checked(tmp_path: Path) -> None:
    from meshc.errors import ContractError
    from meshc.mesh.project import load_project

    good = tmp_path / "mesh.yaml"
    good.write_text(
        "mesh: {name: m}\ndomains: {crm: {owner: crm-team, contracts: c}}\n"
        "spark: {master: 'spark://10.0.0.5:7077', conf: {spark.executor.memory: 4g}}\n"
    )
    assert load_project(good).spark == {
        "master": "spark://10.0.0.5:7077",
        "conf": {"spark.executor.memory": "4g"},
    }
    bad = tmp_path / "bad" / "mesh.yaml"
    bad.parent.mkdir()
    bad.write_text(
        "mesh: {name: m}\ndomains: {crm: {owner: t, contracts: c}}\nspark: {master: 'http://x'}\n"
    )
    with pytest.raises(ContractError):
        load_project(bad)


def test_cli_refuses_a_malformed_spark_conf() -> None:
    done = run_meshc("run", *SEED, "--engine", "spark", "--no-write", "--spark-conf", "oops")
    assert done.returncode == 2
    assert "KEY=VALUE" in done.stderr


@pytest.mark.spark
def test_cli_names_an_unreachable_connect_server() -> None:
    """A clear error and exit 2, at once (the Connect client alone would retry for minutes)."""
    done = run_meshc(
        "run", *SEED, "--engine", "spark", "--no-write", "--spark-master", "sc://127.0.0.1:9"
    )
    assert done.returncode == 2
    assert "no Spark Connect server answers at 127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr


def test_spark_engine_takes_a_session_or_settings_not_both() -> None:
    pytest.importorskip("pyspark")
    from meshc.engines.registry import get_engine

    with pytest.raises(TypeError, match="either session= or master="):
        get_engine("spark", session=object(), master="local[1]")
    with pytest.raises(TypeError, match="no option warehouse"):
        get_engine("spark", warehouse="x")
