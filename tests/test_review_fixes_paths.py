"""Review findings on where contracts write and what bounds they declare: two contracts writing the
same target (MC214), a declared target that a symlink under the root leads out of it, and field
bounds no engine can represent (MC215)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import run_meshc

ENGINES = ["polars", "duckdb", "pandas"]

CONTRACT = """\
info: {version: "1.0.0", name: NAME, domain: crm, owner: crm@company.com}
source: {path: SOURCE, format: csv}
output: {target: OUTPUT}
model:
  fields:
    - {name: id, type: string, primary_key: true}
quarantine: {enabled: true, target: QUARANTINE}
lineage: {enabled: false}
"""

MESH = """\
mesh: {name: overlap_mesh}
lakehouse: {root: lake}
domains:
  crm: {owner: crm@company.com, default_engine: polars, contracts: contracts/crm}
"""


def _contract(name: str, output: str, quarantine: str, source: str | None = None) -> str:
    return (
        CONTRACT.replace("NAME", name)
        .replace("SOURCE", source or f"{name}.csv")
        .replace("OUTPUT", output)
        .replace("QUARANTINE", quarantine)
    )


def _project(tmp_path: Path, second: tuple[str, str]) -> Path:
    """Contract a writes silver/crm/shared (quarantine quarantine/crm/a); b writes `second`."""
    folder = tmp_path / "contracts" / "crm"
    folder.mkdir(parents=True)
    (folder / "a.yaml").write_text(_contract("a", "silver/crm/shared", "quarantine/crm/a"))
    (folder / "b.yaml").write_text(_contract("b", *second))
    (tmp_path / "a.csv").write_text("id\nA1\n")
    (tmp_path / "b.csv").write_text("id\nB1\n")
    (tmp_path / "mesh.yaml").write_text(MESH)
    return tmp_path


# -- MC214: two contracts write the same target --------------------------------------------------

OVERLAPS = [
    pytest.param(("silver/crm/shared", "quarantine/crm/b"), "output.target", id="same-output"),
    pytest.param(("./silver/crm/x/../shared", "quarantine/crm/b"), "output.target", id="spelled"),
    pytest.param(("silver/crm/b", "quarantine/crm/a"), "quarantine.target", id="same-quarantine"),
    pytest.param(("quarantine/crm/a", "quarantine/crm/b"), "output.target", id="output-is-q"),
]


@pytest.mark.parametrize(("second", "where"), OVERLAPS)
def test_two_contracts_writing_the_same_target_fail_check(
    tmp_path: Path, second: tuple[str, str], where: str
) -> None:
    project = _project(tmp_path, second)
    done = run_meshc("check", "contracts", cwd=project)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "MC214" in done.stdout
    assert "a.yaml" in done.stdout  # names the other contract
    line = next(ln for ln in done.stdout.splitlines() if "MC214" in ln)
    assert "b.yaml" in line and where in done.stdout


def test_distinct_targets_pass_check(tmp_path: Path) -> None:
    project = _project(tmp_path, ("silver/crm/b", "quarantine/crm/b"))
    done = run_meshc("check", "contracts", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mesh_refuses_overlapping_targets_before_anything_runs(tmp_path: Path) -> None:
    project = _project(tmp_path, ("silver/crm/shared", "quarantine/crm/b"))
    done = run_meshc("mesh", cwd=project)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "MC214" in done.stdout + done.stderr
    assert not (project / "lake").exists()


def test_run_mesh_refuses_targets_that_alias_through_a_symlink(tmp_path: Path) -> None:
    """The API entry point checks too, on real paths: lake/silver/alias -> lake/silver/crm."""
    from meshc.errors import MeshcError
    from meshc.loader import load_contract
    from meshc.mesh.run import run_mesh

    project = _project(tmp_path, ("silver/alias/shared", "quarantine/crm/b"))
    (project / "lake" / "silver" / "crm").mkdir(parents=True)
    (project / "lake" / "silver" / "alias").symlink_to(project / "lake" / "silver" / "crm")
    contracts = [load_contract(project / "contracts" / "crm" / f"{n}.yaml") for n in "ab"]
    with pytest.raises(MeshcError, match="MC214|same target"):
        run_mesh(contracts, root=project / "lake")
    assert list((project / "lake").rglob("data.*")) == []


# -- a symlink under the root must not lead a declared target out of it --------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_declared_target_through_a_symlink_out_of_the_root_is_refused(
    engine: str, tmp_path: Path
) -> None:
    project = _project(tmp_path, ("silver/crm/b", "quarantine/crm/b"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / "lake" / "silver").mkdir(parents=True)
    (project / "lake" / "silver" / "crm").symlink_to(elsewhere)
    done = run_meshc(
        "run", "-c", "contracts/crm/a.yaml", "--engine", engine, "--root", "lake", cwd=project
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "outside the lakehouse root" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(elsewhere.iterdir()) == []
    assert not (project / "lake" / "quarantine").exists()


def test_explicit_paths_through_a_symlink_are_the_users_choice(tmp_path: Path) -> None:
    project = _project(tmp_path, ("silver/crm/b", "quarantine/crm/b"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / "lake").mkdir()
    (project / "lake" / "out").symlink_to(elsewhere)
    done = run_meshc(
        "run", "-c", "contracts/crm/a.yaml", "--root", "lake",
        "-o", "lake/out/valid.parquet", "-q", "lake/out/q.parquet", cwd=project,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert (elsewhere / "valid.parquet").exists()


def test_symlink_inside_the_root_stays_allowed(tmp_path: Path) -> None:
    project = _project(tmp_path, ("silver/crm/b", "quarantine/crm/b"))
    (project / "lake" / "real").mkdir(parents=True)
    (project / "lake" / "silver").symlink_to(project / "lake" / "real")
    done = run_meshc("run", "-c", "contracts/crm/a.yaml", "--root", "lake", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (project / "lake" / "real" / "crm" / "shared" / "data.parquet").exists()


# -- MC215: bounds outside what the field's type can hold ----------------------------------------

BOUNDS = [
    pytest.param("{name: d, type: integer, min: 9223372036854775808}", "min", id="int-min-high"),
    pytest.param("{name: d, type: integer, max: -9223372036854775809}", "max", id="int-max-low"),
    pytest.param("{name: d, type: integer, max: 1.0e+30}", "max", id="int-float-huge"),
    pytest.param("{name: d, type: 'decimal(5,2)', max: 1000}", "max", id="decimal-digits"),
    pytest.param(
        "{name: d, type: string, max_length: 9223372036854775808}", "max_length", id="max-length"
    ),
]


def _bounded(tmp_path: Path, field: str) -> Path:
    path = tmp_path / "bounded.yaml"
    text = _contract("bounded", "silver/crm/bounded", "quarantine/crm/bounded", "in.csv")
    path.write_text(text.replace("{name: id, type: string, primary_key: true}", field))
    (tmp_path / "in.csv").write_text("d\n1\n")
    return path


@pytest.mark.parametrize(("field", "key"), BOUNDS)
def test_bounds_the_type_cannot_hold_fail_check(tmp_path: Path, field: str, key: str) -> None:
    path = _bounded(tmp_path, field)
    done = run_meshc("check", str(path), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "MC215" in done.stdout
    assert f"{key}" in done.stdout
    line = next(ln for ln in done.stdout.splitlines() if "MC215" in ln)
    assert ":6:" in line  # located on the field's line


@pytest.mark.parametrize("engine", ENGINES)
def test_no_engine_gets_a_contract_with_unrepresentable_bounds(engine: str, tmp_path: Path) -> None:
    path = _bounded(tmp_path, "{name: d, type: integer, min: 9223372036854775808}")
    done = run_meshc("run", "-c", str(path), "--engine", engine, "--root", "lake", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "MC215" in done.stdout + done.stderr
    assert "internal error" not in done.stdout + done.stderr
    assert not (tmp_path / "lake").exists()


@pytest.mark.parametrize(
    "field",
    [
        "{name: d, type: integer, min: -9223372036854775808, max: 9223372036854775807}",
        "{name: d, type: 'decimal(5,2)', min: -999.99, max: 999.99}",
        "{name: d, type: string, max_length: 0}",
    ],
)
def test_bounds_at_the_limits_pass_check(tmp_path: Path, field: str) -> None:
    done = run_meshc("check", str(_bounded(tmp_path, field)), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert os.path.exists(tmp_path / "in.csv")
