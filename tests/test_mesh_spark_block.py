"""mesh.yaml's `spark:` block as `meshc check` sees it: the masters its schema accepts (those Spark
takes, no more), and MC407 for a block that names two places for the session, judged by
SparkSettings' own rule (docs/spark.md "Where the session runs"), never by the environment of the
machine that runs the check. Nothing here starts a Spark session or imports pyspark."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import jsonschema_rs
import pytest

from meshc.checking import run_check
from meshc.diagnostics import Diagnostic
from meshc.engines.spark_settings import runs_on_this_machine
from meshc.errors import ContractError
from meshc.mesh.project import load_project
from meshc.schema_validation import load_schema
from tests.conftest import ROOT, run_meshc

CONTRACT = "info: {version: 1, name: orders, domain: crm, owner: crm-team}\nmodel: {fields: [{name: id, type: string}]}\n"
HEAD = "mesh: {name: m}\ndomains: {crm: {owner: crm-team, contracts: c}}\n"
CONNECT = "sc://connect.example:15002"

# Every master form Spark takes (pyspark 4.3's SparkMasterRegex, probed: `local[N]`,
# `local[N, F]` with blanks around the comma, `local-cluster[ N , C , M ]`), the cluster and
# Connect URLs docs/spark.md names, and mesos:// (Spark 3.5, which meshc[spark] allows).
ACCEPTED = [
    "local",
    "local[1]",
    "local[*]",
    "local[02]",  # Spark reads 2
    "local[2,3]",
    "local[2, 3]",
    "local[*,2]",
    "local-cluster[2,1,1024]",
    "local-cluster[ 1 , 1 , 512 ]",
    "spark://10.0.0.5:7077",
    "spark://a:7077,b:7077",  # standalone masters with a standby
    "yarn",
    "k8s://https://10.0.0.5:6443",
    "mesos://10.0.0.5:5050",
    CONNECT,
]
# What Spark refuses (probed: "Could not parse Master URL", "Asked to run locally with 0
# threads", 0 cores per executor), a cluster of no workers (it runs no job), and typos.
REFUSED = [
    "",
    "local[0]",
    "local[0,2]",
    "local[ 2]",
    "local[**]",
    "local[1*2]",
    "local[1]x",
    "LOCAL[1]",
    "local-cluster[1,1]",
    "local-cluster[0,1,512]",
    "local-cluster[1,0,512]",
    "local-cluster[2,1,1024",
    "local_cluster[2,1,1024]",
    "yarn-client",
    "http://10.0.0.5:7077",
]


def _mesh(tmp_path: Path, spark_block: str) -> Path:
    """mesh.yaml with this `spark:` block, next to c/orders.yaml, a contract that checks clean."""
    (tmp_path / "c").mkdir(exist_ok=True)
    (tmp_path / "c" / "orders.yaml").write_text(CONTRACT)
    path = tmp_path / "mesh.yaml"
    path.write_text(HEAD + spark_block)
    return path


@pytest.mark.parametrize("master", ACCEPTED)
def test_the_schema_accepts_every_master_spark_takes(tmp_path: Path, master: str) -> None:
    schema = load_schema("mesh")
    block = {
        "mesh": {"name": "m"},
        "domains": {"crm": {"owner": "t", "contracts": "c"}},
        "spark": {"master": master},
    }
    assert jsonschema_rs.Draft202012Validator(schema).is_valid(block)
    assert not list(jsonschema.Draft202012Validator(schema).iter_errors(block))
    assert load_project(_mesh(tmp_path, f"spark: {{master: '{master}'}}\n")).spark == {
        "master": master
    }
    # the schema's local masters are the ones the spool refusal counts as this machine
    assert runs_on_this_machine(master) is master.startswith("local")


@pytest.mark.parametrize("master", REFUSED)
def test_the_schema_refuses_what_spark_refuses(tmp_path: Path, master: str) -> None:
    schema = load_schema("mesh")
    block = {
        "mesh": {"name": "m"},
        "domains": {"crm": {"owner": "t", "contracts": "c"}},
        "spark": {"master": master},
    }
    assert not jsonschema_rs.Draft202012Validator(schema).is_valid(block)
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(block))
    with pytest.raises(ContractError) as refused:
        load_project(_mesh(tmp_path, f"spark: {{master: '{master}'}}\n"))
    (problem,) = refused.value.diagnostics
    assert (problem.line, problem.code) == (3, "MC105")


def test_the_repository_schemas_are_the_package_schemas() -> None:
    """schemas/ is what editors and users link to; meshc/schemas/ is what meshc validates with
    and ships (tests/test_packaging.py). Git keeps meshc/schemas as a link to ../schemas: this
    fails if it ever becomes a copy that drifts."""
    package = sorted(p.name for p in (ROOT / "meshc/schemas").glob("*.schema.json"))
    assert package == sorted(p.name for p in (ROOT / "schemas").glob("*.schema.json"))
    for name in package:
        assert (ROOT / "schemas" / name).read_bytes() == (
            ROOT / "meshc/schemas" / name
        ).read_bytes(), f"cp meshc/schemas/{name} schemas/{name}"


# -- MC407: a block naming two places for the session -------------------------------------------


def _mc407(tmp_path: Path, spark_block: str) -> list[Diagnostic]:
    mesh = _mesh(tmp_path, spark_block)
    result = run_check([str(tmp_path / "c")], mesh_path=mesh)
    assert {d.code for d in result.diagnostics} <= {"MC407"}, result.diagnostics
    return result.diagnostics


@pytest.mark.parametrize(
    ("spark_block", "line", "col", "named"),
    [
        # a master and a Spark Connect URL
        (
            f"spark:\n  master: local[1]\n  conf:\n    spark.executor.memory: 1g\n"
            f"    spark.remote: {CONNECT}\n",
            7,
            5,
            ["spark.master: local[1]", f"spark.remote: {CONNECT}"],
        ),
        (
            f"spark:\n  conf: {{spark.master: 'local[2]', spark.remote: '{CONNECT}'}}\n",
            4,
            36,
            ["spark.master: local[2]", f"spark.remote: {CONNECT}"],
        ),
        (
            f"spark:\n  master: {CONNECT}\n  conf:\n    spark.master: yarn\n",
            6,
            5,
            [f"spark.master: {CONNECT}", "spark.conf spark.master: yarn"],
        ),
        # two different Connect URLs in one conf: neither comes first
        (
            f"spark:\n  conf:\n    spark.master: {CONNECT}\n    spark.remote: sc://other:15002\n",
            6,
            5,
            [f"spark.master: {CONNECT}", "spark.remote: sc://other:15002"],
        ),
    ],
)
def test_a_block_naming_two_places_is_mc407_at_the_key(
    tmp_path: Path, spark_block: str, line: int, col: int, named: list[str]
) -> None:
    (found,) = _mc407(tmp_path, spark_block)
    assert (found.path, found.line, found.col) == (str(tmp_path / "mesh.yaml"), line, col)
    for text in named:
        assert text in found.message
    assert found.hint is not None and "keep" in found.hint and "docs/spark.md" in found.hint
    assert found.source_line is not None and found.source_line[col - 1 :].startswith("spark.")


@pytest.mark.parametrize(
    "spark_block",
    [
        "",
        "spark: {master: 'local[1]'}\n",
        f"spark: {{conf: {{spark.remote: '{CONNECT}'}}}}\n",
        # spark-submit's rule: the master wins over the conf's spark.master / another URL
        "spark: {master: 'local[1]', conf: {spark.master: 'local[2]'}}\n",
        f"spark: {{master: '{CONNECT}', conf: {{spark.remote: 'sc://other:15002'}}}}\n",
        "spark: {conf: {spark.master: 'local[1]', spark.executor.memory: 1g}}\n",
    ],
)
def test_a_block_naming_one_place_is_clean(tmp_path: Path, spark_block: str) -> None:
    assert _mc407(tmp_path, spark_block) == []


def test_the_environment_of_the_checking_machine_does_not_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SPARK_REMOTE and MASTER are facts of the run's machine (CI, a laptop), not of mesh.yaml:
    the check judges the block alone (a run refuses `local[1]` next to SPARK_REMOTE itself)."""
    monkeypatch.setenv("SPARK_REMOTE", CONNECT)
    monkeypatch.setenv("MASTER", "local[3]")
    assert _mc407(tmp_path, "spark: {master: 'local[1]'}\n") == []  # a run here: refused
    assert _mc407(tmp_path, f"spark: {{master: '{CONNECT}'}}\n") == []  # next to MASTER: too
    (found,) = _mc407(
        tmp_path, f"spark: {{master: 'local[1]', conf: {{spark.remote: {CONNECT}}}}}\n"
    )
    assert "SPARK_REMOTE" not in found.message and "MASTER=" not in found.message


def test_meshc_check_exits_1_naming_the_line_without_importing_pyspark(tmp_path: Path) -> None:
    mesh = _mesh(tmp_path, f"spark:\n  master: local[1]\n  conf:\n    spark.remote: {CONNECT}\n")
    done = run_meshc("check", "--mesh", str(mesh), "c", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{mesh}:6:5: MC407 " in done.stdout, done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    as_json = run_meshc("check", "--format", "json", "--mesh", str(mesh), "c", cwd=tmp_path)
    (found,) = json.loads(as_json.stdout)["diagnostics"]
    assert (found["code"], found["line"], found["col"]) == ("MC407", 6, 5)
    probe = (
        "import sys\nfrom pathlib import Path\nfrom meshc.checking import run_check\n"
        f"run_check([{str(tmp_path / 'c')!r}], mesh_path=Path({str(mesh)!r}))\n"
        "print('pyspark' in sys.modules)\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert loaded.stdout.strip() == "False"


def test_a_spark_run_refuses_the_block_with_the_same_rule(tmp_path: Path) -> None:
    """The check and the run share SparkSettings' rule: what MC407 reports, a run refuses."""
    from meshc.engines.spark_settings import from_mapping
    from meshc.errors import EngineNotAvailable

    block = {"master": "local[1]", "conf": {"spark.remote": CONNECT}}
    with pytest.raises(EngineNotAvailable, match="name two places"):
        from_mapping(block).place()
    (found,) = _mc407(tmp_path, f"spark: {json.dumps(block)}\n")
    assert "name two places" in found.message
