"""Compiled artifacts run without meshc: Pandera modules import pandera and the engine only, GX
suites need no column of meshc's, and the README's Pandera snippet reports each failure once.

Each module is imported in a fresh interpreter whose import system refuses `meshc` (a meta path
finder that raises), in a folder outside the repository, and validates a small typed frame. The
contract exercises the inline helpers (exact arithmetic, division by zero, text casts, month
arithmetic on the check's clock, COALESCE, uniqueness, decimals), so a helper that still reached
for meshc would fail here.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_meshc

CONTRACT = """\
info: {version: 1, name: standalone, domain: tests, owner: tests@meshc.dev}
model:
  fields:
    - {name: id, type: string, unique: true, pattern: '^[A-Z][0-9]$'}
    - {name: a, type: integer}
    - {name: b, type: integer}
    - {name: amount, type: "decimal(10,2)"}
    - {name: price, type: float}
    - {name: d, type: date}
    - {name: s, type: string}
quality:
  row_rules:
    - {name: sum_ok, sql: "a + b <= 100"}
    - {name: amount_small, sql: "amount * 2 < 1000"}
    - {name: ratio, sql: "price / a < 50"}
    - {name: positive_text, sql: "CAST(s AS INTEGER) > 0"}
    - {name: not_future, sql: "d <= CURRENT_DATE + INTERVAL '1' MONTH"}
    - {name: b_non_negative, sql: "COALESCE(b, 0) >= 0"}
"""
# rule id -> failing row positions of FRAME below
EXPECTED = {
    "sum_ok": [1],
    "amount_small": [1],
    "id.unique": [1, 2],
    "ratio": [3],
    "positive_text": [2],
    "not_future": [2],
    "b_non_negative": [3],
}
FRAME = """
rows = {
    "id": ["A1", "A2", "A2", "B4"],
    "a": [1, 99, 0, 4],
    "b": [2, 50, None, -1],
    "amount": [decimal.Decimal("10.00"), decimal.Decimal("600.00"), None, decimal.Decimal("1.00")],
    "price": [5.0, 1.0, 3.0, 400.0],
    "d": [datetime.date(2024, 1, 1), datetime.date(2024, 1, 1), datetime.date(2999, 1, 1), None],
    "s": ["5", "x", "-4", None],
}
"""
BLOCK_MESHC = """
import importlib.abc, sys
class _NoMeshc(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "meshc" or name.startswith("meshc."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
sys.meta_path.insert(0, _NoMeshc())
"""
LOAD = """
import datetime, decimal, importlib.util, json
spec = importlib.util.spec_from_file_location("schema_module", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
"""
VALIDATE = {
    "pandas": """
import pandas as pd, pyarrow, pandera.errors
frame = pd.DataFrame({
    "id": pd.array(rows["id"], dtype="string[pyarrow]"),
    "a": pd.array(rows["a"], dtype="Int64"),
    "b": pd.array(rows["b"], dtype="Int64"),
    "amount": pd.array(rows["amount"], dtype=pd.ArrowDtype(pyarrow.decimal128(10, 2))),
    "price": pd.array(rows["price"], dtype="Float64"),
    "d": pd.array(rows["d"], dtype=pd.ArrowDtype(pyarrow.date32())),
    "s": pd.array(rows["s"], dtype="string[pyarrow]"),
})
""",
    "polars": """
import polars as pl, pandera.errors
frame = pl.DataFrame(rows, schema={"id": pl.String, "a": pl.Int64, "b": pl.Int64,
    "amount": pl.Decimal(10, 2), "price": pl.Float64, "d": pl.Date, "s": pl.String})
""",
}
REPORT = """
try:
    module.schema.validate(frame, lazy=True)
    cases = []
except pandera.errors.SchemaErrors as exc:
    table = exc.failure_cases
    cases = table.to_dicts() if hasattr(table, "to_dicts") else table.to_dict("records")
print(json.dumps(sorted({(str(c["check"]), int(c["index"])) for c in cases})))
print(json.dumps([str(c["check"]) for c in cases]))
"""
# pandas hands a check one column, or the whole frame; a rule on several columns is a frame check,
# which pandera reports once per column of a failing row (Polars hands every check the frame)
SEVERAL_COLUMNS = {"sum_ok", "ratio"}


def _without_meshc(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # a script file, not `-c`: pyspark (which GX imports) takes a `-c` main for a doctest run
    script = cwd / "without_meshc.py"
    script.write_text(BLOCK_MESHC + code)
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("standalone")
    (root / "standalone.yaml").write_text(CONTRACT)
    out = run_meshc("compile", str(root / "standalone.yaml"), "--out", str(root / "out"), "-q")
    assert out.returncode == 0, out.stderr
    return root / "out" / "tests" / "standalone"


@pytest.mark.parametrize("flavour", ["pandas", "polars"])
def test_pandera_module_validates_without_meshc(compiled: Path, flavour: str) -> None:
    path = compiled / f"pandera_{flavour}.py"
    code = LOAD.format(path=str(path)) + FRAME + VALIDATE[flavour] + REPORT
    out = _without_meshc(code, compiled)
    assert out.returncode == 0, out.stderr
    pairs, checks = (json.loads(line) for line in out.stdout.splitlines())
    found: dict[str, list[int]] = {}
    for check, index in pairs:
        found.setdefault(check, []).append(index)
    if flavour == "pandas":  # pandera's own `Column(unique=True)` reports under its own name
        found["id.unique"] = found.pop("field_uniqueness")
    assert found == EXPECTED
    once = [c for c in checks if flavour == "polars" or c not in SEVERAL_COLUMNS]
    assert len(once) == len([p for p in pairs if p[0] in once]), "each failure reported once"


@pytest.mark.parametrize("flavour", ["pandas", "polars", "pyspark"])
def test_pandera_modules_import_nothing_of_meshc(compiled: Path, flavour: str) -> None:
    tree = ast.parse((compiled / f"pandera_{flavour}.py").read_text())
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ] + [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert imported and not [m for m in imported if m.split(".")[0] == "meshc"]


def test_not_expressed_rules_are_listed_in_the_module(tmp_path: Path) -> None:
    out = run_meshc(
        "compile", str(ROOT / "contracts/crm/orders.yaml"), "--out", str(tmp_path), "-q"
    )
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "crm/orders/pandera_polars.py").read_text()
    namespace: dict[str, object] = {}
    exec(compile(text.split("\n\n\n", 1)[0], "header", "exec"), namespace)  # the docstring only
    assert "customer_id.references: foreign keys" in str(namespace["__doc__"])
    assert "NOT_EXPRESSED = [" in text and "'rule_id': 'placed_at.freshness'" in text


def test_gx_suites_name_no_meshc_column() -> None:
    for path in sorted((ROOT / "tests/golden/artifacts").rglob("gx_*.json")):
        assert "_meshc" not in path.read_text(), path


def test_gx_suite_runs_on_a_plain_frame(tmp_path: Path) -> None:
    """The seed's pandas suite on the user's own frame: failing rows come back as its index."""
    out = run_meshc(
        "compile", str(ROOT / "examples/seed/orders.yaml"), "--out", str(tmp_path), "-q"
    )
    assert out.returncode == 0, out.stderr
    code = f"""
import json, pandas as pd, great_expectations as gx
context = gx.get_context(mode="ephemeral")
suite = context.suites.add(gx.ExpectationSuite(**json.load(open({str(tmp_path / "crm/orders_silver/gx_pandas.json")!r}))))
df = pd.DataFrame({{
    "order_id": pd.array(["a", "b", "c", None], dtype="string[pyarrow]"),
    "order_amount": pd.array([1.0, -2.0, None, -1.0], dtype="Float64"),
    "order_date": pd.array([None] * 4, dtype="date32[pyarrow]"),
    "order_status": pd.array(["pending", "lost", None, "shipped"], dtype="string[pyarrow]"),
}})
batch = (context.data_sources.add_pandas("p").add_dataframe_asset("orders")
         .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={{"dataframe": df}}))
result = batch.validate(suite, result_format={{"result_format": "COMPLETE"}})
print(json.dumps({{r.expectation_config.meta["meshc_rule_id"]: r.result.get("unexpected_index_list")
                  for r in result.results}}))
"""
    run = _without_meshc(code, tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[-1]) == {"sql_f204bc69": [1, 3], "sql_a46874a2": [1]}


def _readme_snippet(after: str) -> str:
    """The first Python block of the README after the text `after`."""
    section = (ROOT / "README.md").read_text().split(after, 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, f"a snippet after {after!r} in the README"
    return match.group(1)


@pytest.fixture()
def seed_folder(tmp_path: Path) -> Path:
    """A folder holding the seed and its compiled artifacts, as the README's snippets expect."""
    (tmp_path / "examples/seed").mkdir(parents=True)
    for name in ("orders.yaml", "orders.csv"):
        (tmp_path / "examples/seed" / name).write_bytes(
            (ROOT / "examples/seed" / name).read_bytes()
        )
    out = run_meshc("compile", "examples/seed/orders.yaml", "--out", "compiled", "-q", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    return tmp_path


def test_readme_pandera_snippet_reports_each_failure_once(seed_folder: Path) -> None:
    run = _without_meshc(_readme_snippet("With Pandera (pandas)"), seed_folder)
    assert run.returncode == 0, run.stderr
    rows = [line.split() for line in run.stdout.splitlines()[1:]]
    pairs = [(r[1], int(r[2])) for r in rows]
    assert sorted(pairs) == [
        ("sql_a46874a2", 3),
        ("sql_a46874a2", 7),
        ("sql_f204bc69", 2),
        ("sql_f204bc69", 7),
    ]


def test_readme_gx_snippet_runs_on_the_frame_as_it_is(seed_folder: Path) -> None:
    code = _readme_snippet("With Pandera (pandas)") + _readme_snippet("With Great Expectations")
    run = _without_meshc(code, seed_folder)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-2:] == ["sql_f204bc69 [2, 7]", "sql_a46874a2 [3, 7]"]


@pytest.mark.spark
def test_pyspark_module_names_the_failing_checks(compiled: Path, spark_session: object) -> None:
    """pandera.pyspark gives one pass/fail per check (no rows): the failing checks are the rules
    with a failing row."""
    import datetime
    import decimal
    import importlib.util

    from pyspark.sql import types as T

    spec = importlib.util.spec_from_file_location(
        "standalone_pyspark", compiled / "pandera_pyspark.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    namespace: dict[str, object] = {"datetime": datetime, "decimal": decimal}
    exec(FRAME, namespace)
    rows: dict[str, list[object]] = namespace["rows"]  # type: ignore[assignment]
    types = [T.StringType(), T.LongType(), T.LongType(), T.DecimalType(10, 2), T.DoubleType()]
    types += [T.DateType(), T.StringType()]
    schema = T.StructType([T.StructField(n, t) for n, t in zip(rows, types, strict=True)])
    frame = spark_session.createDataFrame(list(zip(*rows.values(), strict=True)), schema)  # type: ignore[attr-defined]
    errors = dict(module.schema.validate(frame).pandera.errors)
    failed = {e["check"] for group in errors.values() for cases in group.values() for e in cases}
    assert failed == set(EXPECTED)
