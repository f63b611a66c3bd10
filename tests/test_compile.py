"""`meshc compile`: golden artifacts, determinism, --check, and that the output imports and parses."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, run_meshc
from tests.golden.regen import CONTRACTS, GOLDEN

SEED = ROOT / "examples" / "seed" / "orders.yaml"


def _artifacts(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def compiled_golden(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from meshc.cli.compile_cmd import compile_paths

    out = tmp_path_factory.mktemp("golden")
    compile_paths([str(ROOT / c) for c in CONTRACTS], out)
    return out


def test_golden_files_are_up_to_date(compiled_golden: Path) -> None:
    """Regenerate with `python -m tests.golden.regen` and review the diff."""
    assert _artifacts(compiled_golden) == _artifacts(GOLDEN)


def test_compiling_twice_is_byte_identical(compiled_golden: Path, tmp_path: Path) -> None:
    from meshc.cli.compile_cmd import compile_paths

    compile_paths([str(ROOT / c) for c in CONTRACTS], tmp_path)
    assert _artifacts(tmp_path) == _artifacts(compiled_golden)


def test_cli_compile_then_check(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run_meshc("compile", str(SEED), "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert sorted(p.name for p in (out / "crm" / "orders_silver").iterdir()) == [
        "gx_pandas.json",
        "gx_spark.json",
        "gx_sql.json",
        "manifest.json",
        "pandera_pandas.py",
        "pandera_polars.py",
        "pandera_pyspark.py",
        "validation_duckdb.sql",
        "validation_spark.sql",
    ]
    assert run_meshc("compile", str(SEED), "--out", str(out), "--check").returncode == 0
    target = out / "crm" / "orders_silver" / "gx_pandas.json"
    target.write_text(target.read_text() + " ")
    stale = run_meshc("compile", str(SEED), "--out", str(out), "--check")
    assert stale.returncode == 1
    assert "gx_pandas.json" in stale.stdout


def test_compile_prints_a_summary_per_target(tmp_path: Path) -> None:
    """Not one line per gap (324 for contracts/): per target, rules expressed and not."""
    result = run_meshc("compile", str(ROOT / "contracts/crm/orders.yaml"), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("compiled 1 contract(s): wrote 9 file(s)")
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:10]}
    assert sorted(rows) == sorted(
        ["pandera_pandas", "pandera_polars", "pandera_pyspark", "gx_pandas", "gx_spark", "gx_sql"]
        + ["sql_duckdb", "sql_spark"]
    )
    from meshc.loader import load_contract
    from meshc.rules.compiler import compile_contract

    compiled = compile_contract(load_contract(ROOT / "contracts/crm/orders.yaml"))
    rules = len(compiled.row_checks) + len(compiled.dataset_checks)
    manifest = json.loads((tmp_path / "crm" / "orders" / "manifest.json").read_text())
    for target, (expressed, missing) in rows.items():
        assert int(missing) == len([g for g in manifest["unsupported"] if g["target"] == target])
        assert int(expressed) + int(missing) == rules
    assert "cannot express" not in result.stderr
    assert "--verbose lists them" in lines[-1]


@pytest.mark.parametrize("flag", ["--verbose", "--explain"])
def test_verbose_lists_each_rule_a_target_cannot_express(tmp_path: Path, flag: str) -> None:
    result = run_meshc(
        "compile", str(ROOT / "contracts/crm/orders.yaml"), "--out", str(tmp_path), flag
    )
    assert result.returncode == 0
    assert "gx_pandas cannot express customer_id.references" in result.stderr
    manifest = json.loads((tmp_path / "crm" / "orders" / "manifest.json").read_text())
    assert {"target": "gx_pandas", "rule_id": "placed_at.freshness"} in [
        {k: g[k] for k in ("target", "rule_id")} for g in manifest["unsupported"]
    ]
    assert len([line for line in result.stderr.splitlines() if "cannot express" in line]) == len(
        manifest["unsupported"]
    )


def test_quiet_prints_nothing_but_stale_files(tmp_path: Path) -> None:
    args = ["compile", str(SEED), "--out", str(tmp_path), "--quiet"]
    first = run_meshc(*args)
    assert (first.returncode, first.stdout, first.stderr) == (0, "", "")
    (tmp_path / "crm/orders_silver/gx_sql.json").unlink()
    stale = run_meshc(*args, "--check")
    assert stale.returncode == 1 and stale.stderr == ""
    assert stale.stdout.strip().endswith("crm/orders_silver/gx_sql.json")


def test_manifest_hashes_match_the_files() -> None:
    from meshc.emit.manifest import sha256

    for manifest_path in GOLDEN.rglob("manifest.json"):
        manifest = json.loads(manifest_path.read_text())
        assert manifest["meshc_version"]
        for name, digest in manifest["artifacts"].items():
            assert sha256((manifest_path.parent / name).read_text()) == digest


@pytest.mark.parametrize("flavour", ["pandas", "polars"])
def test_emitted_pandera_modules_import(flavour: str) -> None:
    for path in sorted(GOLDEN.rglob(f"pandera_{flavour}.py")):
        spec = importlib.util.spec_from_file_location(f"golden_{flavour}_{path.parent.name}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert module.schema.columns


def test_emitted_pandera_checks_are_plain_code_named_by_rule_id() -> None:
    """Generated checks are functions in the module (pandera serialises only its own checks,
    which keep their arguments)."""
    spec = importlib.util.spec_from_file_location(
        "golden_accounts", GOLDEN / "finance/accounts/pandera_polars.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    checks = {c.name: c for col in module.schema.columns.values() for c in col.checks}
    rule = checks["account_number_matches_type"]
    assert rule.title == "account_number_matches_type"
    assert rule._check_fn.__module__ == module.__name__
    assert module.NOT_EXPRESSED and all(g["reason"] for g in module.NOT_EXPRESSED)


def test_emitted_sql_reparses() -> None:
    import sqlglot

    from meshc.emit.sql_emit import MeshcSpark

    for path in sorted(GOLDEN.rglob("validation_*.sql")):
        dialect = MeshcSpark if path.name.endswith("spark.sql") else "duckdb"
        assert sqlglot.parse_one(path.read_text(), read=dialect) is not None


def test_duckdb_sql_flags_the_seed_rows() -> None:
    import duckdb

    sql = (GOLDEN / "crm/orders_silver/validation_duckdb.sql").read_text()
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE orders_silver AS SELECT * FROM (VALUES ('a', 1.0, DATE '2024-01-01', 'pending'), "
        "('b', -1.0, DATE '2024-01-01', 'lost'), ('c', NULL, NULL, NULL)) "
        "t(order_id, order_amount, order_date, order_status)"
    )
    rows = con.execute(sql).fetchall()
    assert [(r[0], list(r[-1])) for r in rows] == [("b", ["sql_f204bc69", "sql_a46874a2"])]


def test_gx_suites_load_in_an_ephemeral_context() -> None:
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    for path in sorted(GOLDEN.rglob("gx_*.json")):
        data = json.loads(path.read_text())
        suite = gx.ExpectationSuite(**data)
        assert len(suite.expectations) == len(data["expectations"])
        context.suites.add(suite)


def test_compile_imports_neither_pandera_nor_gx(tmp_path: Path) -> None:
    code = (
        "import sys; from meshc.cli.compile_cmd import compile_paths; "
        f"compile_paths([{str(SEED)!r}], __import__('pathlib').Path({str(tmp_path)!r})); "
        "print(sorted(m for m in ('pandera', 'great_expectations', 'pyspark') if m in sys.modules))"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stderr


@pytest.mark.parametrize(
    "engine,validator", [("pandas", "pandera"), ("polars", "pandera"), ("pandas", "gx")]
)
def test_run_through_compiled_artifacts_gives_the_native_split(engine: str, validator: str) -> None:
    from meshc import DataProcessor

    seed = ROOT / "examples" / "seed"
    now = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
    native = DataProcessor(seed / "orders.yaml", engine=engine, now=now).run_source(
        seed / "orders.csv", write=False
    )
    judged = DataProcessor(
        seed / "orders.yaml", engine=engine, validator=validator, now=now
    ).run_source(seed / "orders.csv", write=False)
    assert judged.report["validator"] == validator
    assert judged.report["validator_native_checks"] == []
    assert (judged.rows_valid, judged.rows_quarantined) == (7, 5)
    assert judged.failures == native.failures
    assert _data(judged.quarantine_arrow()) == _data(native.quarantine_arrow())
    assert _data(judged.valid_arrow()) == _data(native.valid_arrow())


def _data(table: Any) -> list[dict[str, Any]]:
    """Rows without the per-run lineage values (run id, time)."""
    drop = {"_meshc_run_id", "_meshc_processed_at"}
    return [{k: v for k, v in row.items() if k not in drop} for row in table.to_pylist()]


def test_validator_refuses_engines_without_row_level_results() -> None:
    from meshc import DataProcessor
    from meshc.validators import ValidatorUnavailable

    seed = ROOT / "examples" / "seed"
    with pytest.raises(ValidatorUnavailable, match="pandas and polars"):
        DataProcessor(seed / "orders.yaml", engine="duckdb", validator="pandera").run_source(
            seed / "orders.csv", write=False
        )


def test_the_artifacts_verdicts_decide_the_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """The split is built from the artifact's verdicts, not recomputed natively: a verdict the
    artifact adds (row 0 breaking the amount rule) quarantines that row with that reason."""
    import meshc.validators as validators
    from meshc import DataProcessor

    real = validators.validate_with

    def one_more_failure(*args: Any, **kwargs: Any) -> dict[int, list[str]]:
        failures = real(*args, **kwargs)
        failures.setdefault(0, []).append("sql_f204bc69")
        return failures

    monkeypatch.setattr(validators, "validate_with", one_more_failure)
    seed = ROOT / "examples" / "seed"
    result = DataProcessor(seed / "orders.yaml", engine="pandas", validator="pandera").run_source(
        seed / "orders.csv", write=False
    )
    assert (result.rows_valid, result.rows_quarantined) == (6, 6)
    first = next(r for r in result.quarantine_arrow().to_pylist() if r["order_id"] == "ORD-1001")
    assert [r["rule_id"] for r in first["_meshc_reasons"]] == ["sql_f204bc69"]
    assert result.rows_in == result.rows_valid + result.rows_quarantined


def test_cli_run_with_validator_reports_what_judged_the_rows() -> None:
    seed = ROOT / "examples" / "seed"
    args = ["run", "-c", str(seed / "orders.yaml"), "--source", str(seed / "orders.csv")]
    args += ["--engine", "pandas", "--validator", "gx", "--no-write"]
    out = run_meshc(*args, "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["validator"] == "gx"
    assert data["validator_native_checks"] == []
    assert data["rows"] == {"in": 12, "valid": 7, "quarantined": 5}
    text = run_meshc(*args)
    assert text.returncode == 0, text.stderr
    assert "judged by the compiled gx artifacts" in text.stdout


def test_cli_validator_on_an_engine_without_row_level_results_exits_2() -> None:
    seed = ROOT / "examples" / "seed"
    out = run_meshc(
        "run",
        "-c",
        str(seed / "orders.yaml"),
        "--source",
        str(seed / "orders.csv"),
        "--engine",
        "polars",
        "--validator",
        "gx",
        "--no-write",
    )
    assert out.returncode == 2
    assert "gives row-level results on pandas and spark, not on polars" in out.stderr
    assert "Traceback" not in out.stderr


def test_validator_with_all_is_refused() -> None:
    out = run_meshc("run", "--all", "--validator", "gx")
    assert out.returncode == 2
    assert "drop --all" in out.stderr
