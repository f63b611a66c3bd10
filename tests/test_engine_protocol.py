"""The engine boundary: one typed Protocol every registered engine satisfies, declared optional
capabilities, a frozen Split, an explicit lifecycle (close), facts about a frame in the plan (never
on the frame), and a runner that compiles its contract once and closes what it opens."""

from __future__ import annotations

import ast
import dataclasses
import inspect
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest

from meshc.engines.base import Engine, MasksWhileStreaming, Materializing, Split, StreamingEngine
from meshc.engines.registry import ENGINES, get_engine
from meshc.runner.processor import DataProcessor
from tests.conftest import ROOT

SEED = ROOT / "examples" / "seed"
LOCAL = ["polars", "pandas", "duckdb"]
ALL = [*LOCAL, pytest.param("spark", marks=pytest.mark.spark)]
# the optional capabilities each engine declares by implementing their sub-protocol
CAPABILITIES = {
    "polars": {StreamingEngine, MasksWhileStreaming, Materializing},
    "pandas": set(),
    "duckdb": {StreamingEngine, MasksWhileStreaming},
    "spark": set(),
}


def test_the_capability_table_names_every_registered_engine() -> None:
    assert set(CAPABILITIES) == set(ENGINES)


@pytest.mark.parametrize("name", ALL)
def test_every_registered_engine_satisfies_the_protocol(name: str) -> None:
    engine = get_engine(name)
    assert isinstance(engine, Engine)
    protocol_methods = {
        m for m in dir(Engine) if not m.startswith("_") and callable(getattr(Engine, m))
    }
    for method in protocol_methods:  # same parameter names as the Protocol, in the same order
        declared = list(inspect.signature(getattr(Engine, method)).parameters)
        implemented = list(inspect.signature(getattr(type(engine), method)).parameters)
        assert implemented == declared, f"{name}.{method}{implemented} != Engine.{method}"
    engine.close()


@pytest.mark.parametrize("name", ALL)
def test_capabilities_are_found_by_their_declared_protocol(name: str) -> None:
    engine = get_engine(name)
    found = {
        p for p in (StreamingEngine, MasksWhileStreaming, Materializing) if isinstance(engine, p)
    }
    assert found == CAPABILITIES[name]
    engine.close()


@pytest.mark.parametrize("name", list(ENGINES))
def test_every_engine_module_has_the_one_create_signature(name: str) -> None:
    create = import_module(ENGINES[name].module).create
    parameters = list(inspect.signature(create).parameters.values())
    assert [(p.name, p.kind) for p in parameters] == [("options", inspect.Parameter.VAR_KEYWORD)]


@pytest.mark.parametrize("name", LOCAL)
def test_an_option_the_engine_does_not_take_is_refused_by_name(name: str) -> None:
    with pytest.raises(TypeError, match=f"the {name} engine has no option colour"):
        get_engine(name, colour="blue")


def test_split_is_frozen() -> None:
    split = Split(
        valid=[1], quarantine=[], rows_in=1, rows_valid=1, rows_quarantined=0, failures={}
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        split.valid = []  # type: ignore[misc]
    assert dataclasses.replace(split, valid=[]).valid == [] and split.valid == [1]


@pytest.mark.parametrize("name", LOCAL)
def test_engines_are_context_managers_and_close_twice(name: str) -> None:
    with get_engine(name) as engine:
        assert isinstance(engine, Engine)
    engine.close()  # idempotent


def test_a_closed_duckdb_engine_has_closed_its_connection() -> None:
    import duckdb

    with get_engine("duckdb") as engine:
        engine.con.execute("SELECT 1")  # type: ignore[attr-defined]
    with pytest.raises(duckdb.ConnectionException):
        engine.con.execute("SELECT 1")  # type: ignore[attr-defined]


def test_a_processor_closes_the_engine_it_created_and_the_result_lives_until_then(
    tmp_path: Path,
) -> None:
    import duckdb

    with DataProcessor(SEED / "orders.yaml", engine="duckdb", root=tmp_path) as processor:
        result = processor.run_source(SEED / "orders.csv", write=False)
        assert result.valid_arrow().num_rows == result.rows_valid == 7
    with pytest.raises(duckdb.ConnectionException):
        processor.engine.con.execute("SELECT 1")  # type: ignore[attr-defined]


def test_a_result_closes_its_engine(tmp_path: Path) -> None:
    import duckdb

    processor = DataProcessor(SEED / "orders.yaml", engine="duckdb", root=tmp_path)
    with processor.run_source(SEED / "orders.csv", write=False) as result:
        assert result.quarantine_arrow().num_rows == 5
    with pytest.raises(duckdb.ConnectionException):
        processor.engine.con.execute("SELECT 1")  # type: ignore[attr-defined]


def test_a_processor_leaves_an_engine_it_was_given_open(tmp_path: Path) -> None:
    with get_engine("duckdb") as engine:
        with DataProcessor(SEED / "orders.yaml", engine=engine, root=tmp_path) as processor:
            processor.run_source(SEED / "orders.csv", write=False)
        engine.con.execute("SELECT 1")  # type: ignore[attr-defined]  # still open


def test_a_run_compiles_its_contract_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from meshc.rules import compiler

    calls = []
    compile_once = compiler._compile

    def counted(contract: Any) -> Any:
        calls.append(contract.ref)
        return compile_once(contract)

    monkeypatch.setattr(compiler, "_compile", counted)
    with DataProcessor(SEED / "orders.yaml", engine="polars", root=tmp_path) as processor:
        processor.run_source(SEED / "orders.csv", write=False)
    assert len(calls) == 1


def test_a_compiled_contract_is_used_as_given(tmp_path: Path) -> None:
    from meshc.loader import load_compiled

    compiled = load_compiled(SEED / "orders.yaml")
    processor = DataProcessor(compiled, root=tmp_path)
    assert processor.compiled is compiled and processor.contract is compiled.contract


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_what_a_frame_is_travels_in_the_plan_not_on_the_frame(
    name: str, fmt: str, tmp_path: Path
) -> None:
    """A read frame carries no meshc attribute; the runner puts its origin in the plan, and the
    engine honours it: an empty text cell is NULL, an empty stored Parquet string is data."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    source = tmp_path / f"orders.{fmt}"
    if fmt == "parquet":  # pyarrow keeps the empty order_id as '' (strings_can_be_null=False)
        pq.write_table(pacsv.read_csv(SEED / "orders.csv"), source)
    else:
        source.write_bytes((SEED / "orders.csv").read_bytes())
    with DataProcessor(SEED / "orders.yaml", engine=name, root=tmp_path) as processor:
        frame = processor.engine.read([str(source)], fmt, text_columns=["order_id"])
        assert [a for a in getattr(frame, "__dict__", {}) if "meshc" in a] == []
        assert not getattr(frame, "attrs", {})  # pandas: no DataFrame.attrs flag either
        result = processor.run_source(source, write=False)
        ids = {r["order_id"] for r in result.valid_arrow().to_pylist()}
    assert (None in ids, "" in ids) == ((True, False) if fmt == "csv" else (False, True))


def test_a_streamed_run_keeps_its_spill_facts_in_the_engine_and_close_removes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A written Polars run streams its outputs to a spill folder: the frames it returns carry no
    meshc attribute (the engine keeps which spilled file each one is), the valid output is that
    file linked into place (not re-encoded), and closing the engine removes the folder."""
    import os
    import tempfile

    spills = tmp_path / "tmpdir"
    spills.mkdir()
    monkeypatch.setenv("TMPDIR", str(spills))
    monkeypatch.setattr(tempfile, "tempdir", str(spills))
    output, quarantine = tmp_path / "valid.parquet", tmp_path / "quarantine.parquet"
    with DataProcessor(SEED / "orders.yaml", engine="polars", root=tmp_path) as processor:
        result = processor.run_source(SEED / "orders.csv", output=output, quarantine=quarantine)
        for frame in (result.valid_frame, result.quarantine_frame):
            assert [a for a in getattr(frame, "__dict__", {}) if "meshc" in a] == []
        (folder,) = spills.glob("meshc-spill-*")
        assert os.path.samefile(output, folder / "valid.parquet")
        assert result.valid_arrow().num_rows == result.rows_valid == 7
    assert list(spills.glob("meshc-spill-*")) == []


def test_a_result_materialises_once_and_keeps_the_frames_the_run_produced(tmp_path: Path) -> None:
    """`result.valid` collects a streamed (lazy) output once and caches it privately: `valid_frame`
    stays what the run produced, and the cached frames outlive the engine."""
    import polars as pl

    output, quarantine = tmp_path / "valid.parquet", tmp_path / "quarantine.parquet"
    with DataProcessor(SEED / "orders.yaml", engine="polars", root=tmp_path) as processor:
        result = processor.run_source(SEED / "orders.csv", output=output, quarantine=quarantine)
        produced = (result.valid_frame, result.quarantine_frame)
        assert all(isinstance(frame, pl.LazyFrame) for frame in produced)
        valid, quarantined = result.valid, result.quarantine
        assert isinstance(valid, pl.DataFrame) and isinstance(quarantined, pl.DataFrame)
        assert result.valid is valid and result.quarantine is quarantined  # collected once
        assert result.valid_frame is produced[0] and result.quarantine_frame is produced[1]
    assert (valid.height, quarantined.height) == (7, 5)
    assert result.valid_arrow().num_rows == 7 and result.quarantine_arrow().num_rows == 5


def test_an_in_memory_frame_is_of_unknown_origin(tmp_path: Path) -> None:
    import polars as pl

    from meshc.runner.plan import build_plan

    with DataProcessor(SEED / "orders.yaml", root=tmp_path) as processor:
        assert build_plan(processor.compiled).text_source is None
        frame = pl.read_csv(SEED / "orders.csv", infer_schema=False)
        result = processor.run(frame)  # string columns of unknown origin: null_values apply
        assert result.rows_in == 12 == result.rows_valid + result.rows_quarantined


def test_validators_do_not_import_the_runner() -> None:
    """meshc/validators/ sits below the runner: it may not import meshc.runner (a cycle)."""
    found = []
    for path in sorted((ROOT / "meshc" / "validators").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [
                f"{path.name}:{node.lineno} {n}" for n in names if n.startswith("meshc.runner")
            ]
    assert found == []


def test_run_result_has_its_own_module_and_the_old_import_still_works() -> None:
    import meshc
    from meshc.runner import processor, result

    assert processor.RunResult is result.RunResult is meshc.RunResult


def test_the_run_command_is_an_importable_module_level_function() -> None:
    from meshc.cli import run_cmd
    from meshc.cli.app import app

    callbacks = {c.name: c.callback for c in app.registered_commands}
    assert callbacks["run"] is run_cmd.run


def test_a_mesh_run_releases_its_engines_once_the_caller_closes_the_results(
    tmp_path: Path,
) -> None:
    import duckdb

    from meshc.loader import load_contract
    from meshc.mesh.run import close_results, run_mesh

    (tmp_path / "in.csv").write_text("id\na\nb\n")
    contract = tmp_path / "c.yaml"
    contract.write_text(
        'info: {version: "1.0.0", name: c, domain: d}\n'
        "model: {fields: [{name: id, type: string}]}\n"
        f"source: {{path: {tmp_path / 'in.csv'}, format: csv}}\n"
    )
    statuses = run_mesh([load_contract(contract)], default_engine="duckdb", root=tmp_path / "lake")
    (status,) = statuses
    assert status.result is not None, status.error
    assert status.result.valid_arrow().num_rows == 2  # readable until closed
    close_results(statuses)
    with pytest.raises(duckdb.ConnectionException):
        status.result.engine_impl.con.execute("SELECT 1")  # type: ignore[attr-defined]


def test_mesh_policies_do_not_compile_the_contract_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The money_non_negative policy reads the runner's compiled rules (no second compile)."""
    from meshc.mesh.project import load_project
    from meshc.rules import compiler

    repo = Path(__file__).resolve().parents[1]
    mesh = load_project(repo / "mesh.yaml")
    calls = []
    compile_once = compiler._compile

    def counted(contract: Any) -> Any:
        calls.append(contract.ref)
        return compile_once(contract)

    monkeypatch.setattr(compiler, "_compile", counted)
    processor = DataProcessor(repo / "contracts/crm/orders.yaml", root=tmp_path, mesh=mesh)
    # every money field of orders has its own `>= 0` rule, found in the runner's compiled rules
    assert processor.extra_checks == ()
    assert len(calls) == 1


def test_the_mesh_command_releases_its_engines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`meshc mesh` closes every result's engine once the table is printed."""
    from typer.testing import CliRunner

    from meshc.cli import mesh_cmd
    from meshc.cli.app import app

    (tmp_path / "contracts/d").mkdir(parents=True)
    (tmp_path / "in.csv").write_text("id\na\n")
    (tmp_path / "contracts/d/c.yaml").write_text(
        'info: {version: "1.0.0", name: c, domain: d, owner: d@company.com}\n'
        "model: {fields: [{name: id, type: string}]}\n"
        f"source: {{path: {tmp_path / 'in.csv'}, format: csv}}\n"
    )
    (tmp_path / "mesh.yaml").write_text(
        'mesh: {name: m, version: "1.0.0"}\nlakehouse: {root: lake}\n'
        "domains:\n  d: {owner: d@company.com, default_engine: duckdb, contracts: contracts/d}\n"
    )
    seen: list[Any] = []
    real = mesh_cmd.run_project

    def keep(*args: Any, **kwargs: Any) -> Any:
        seen.extend(real(*args, **kwargs))
        return seen

    monkeypatch.setattr(mesh_cmd, "run_project", keep)
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(app, ["mesh", "-e", "duckdb", "--quiet"])
    assert out.exit_code == 0, out.output
    import duckdb

    (status,) = seen
    with pytest.raises(duckdb.ConnectionException):
        status.result.engine_impl.con.execute("SELECT 1")
