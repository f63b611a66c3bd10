"""`meshc check` for storage locations (MC220-MC227, and MC209/MC210/MC214 for other storage), the
docs that describe them, and the support matrix in docs/storage.md."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from meshc import load_contract
from meshc.checking import run_check
from meshc.errors import ContractError
from tests.conftest import ROOT, run_meshc
from tests.storage import storage_matrix

HEAD = """\
info: {version: 1, name: NAME, domain: d}
model:
  fields:
    - {name: id, type: integer}
"""


def _contract(tmp_path: Path, body: str, name: str = "c") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(HEAD.replace("NAME", name) + body, encoding="utf-8")
    return path


def _found(path: Path) -> set[tuple[str, int, int]]:
    return {(d.code, d.line, d.col) for d in run_check([str(path)]).diagnostics}


@pytest.mark.parametrize(
    "body,expected",
    [
        # MC220 unknown scheme, in each key that holds a location
        ('source: {path: "ftp://host/orders.csv"}\n', ("MC220", "path")),
        ("output: {target: s4://bucket/silver}\n", ("MC220", "target")),
        ('quarantine: {connection: "mysql://h/db", table: q}\n', ("MC220", "connection")),
        # MC221 a password, in a database URL, an object URL and a query parameter
        ('source: {connection: "postgresql://u:pw@h/db", table: t}\n', ("MC221", "connection")),
        ('source: {path: "s3://KEY:SECRET@bucket/x.csv"}\n', ("MC221", "path")),
        (
            'output: {connection: "postgresql://h/db?password=pw", table: t}\n',
            ("MC221", "connection"),
        ),
        # MC222 incomplete or ambiguous database keys
        ('source: {connection: "postgresql://h/db"}\n', ("MC222", "connection")),
        (
            'source: {connection: "duckdb:w.duckdb", table: t, query: "SELECT 1"}\n',
            ("MC222", "query"),
        ),
        (
            'source: {path: a.csv, connection: "duckdb:w.duckdb", table: t}\n',
            ("MC222", "connection"),
        ),
        ('source: {connection: "duckdb:w.duckdb#main.t", table: t}\n', ("MC222", "table")),
        ("output: {target: silver/x, table: t}\n", ("MC222", "table")),
        ('output: {connection: "s3://bucket/silver", table: t}\n', ("MC222", "connection")),
        ('output: {target: "postgresql://h/db"}\n', ("MC222", "target")),
        # MC223 no location
        ("source: {format: csv}\n", ("MC223", None)),
        ("output: {format: parquet}\n", ("MC223", None)),
        ('source: {path: " "}\n', ("MC223", "path")),
        # MC224 append to files or objects
        ("output: {target: silver/x, mode: append}\n", ("MC224", "mode")),
        ("quarantine: {target: s3://b/q, format: csv, mode: append}\n", ("MC224", "mode")),
        # MC225 a format that does not fit a table
        ('output: {connection: "duckdb:w.duckdb", table: t, format: delta}\n', ("MC225", "format")),
        ('source: {path: "postgresql://h/db#t", format: csv}\n', ("MC225", "format")),
        # MC227 a query that is not one SELECT
        ('source: {connection: "duckdb:w.duckdb", query: "DELETE FROM t"}\n', ("MC227", "query")),
        (
            'source: {connection: "duckdb:w.duckdb", query: "SELECT 1; DROP TABLE t"}\n',
            ("MC227", "query"),
        ),
        (
            'source: {connection: "postgresql://h/db", query: "SELECT * FROM t FOR UPDATE"}\n',
            ("MC227", "query"),
        ),
        (
            'source: {connection: "duckdb:w.duckdb", query: "SELECT * INTO x FROM t"}\n',
            ("MC227", "query"),
        ),
    ],
)
def test_each_storage_problem_is_one_located_error(
    tmp_path: Path, body: str, expected: tuple[str, str | None]
) -> None:
    code, key = expected
    path = _contract(tmp_path, body)
    result = run_check([str(path)])
    found = [(d.code, d.line, d.col) for d in result.diagnostics]
    at = re.search(rf"[{{ ]{key}:", body) if key else None
    col = at.start() + 2 if at else 1  # at the key (the section's, without one)
    assert found == [(code, 5, col)], [d.render() for d in result.diagnostics]
    assert all(d.hint for d in result.diagnostics)
    with pytest.raises(ContractError):  # the error stops a run too: the contract does not load
        load_contract(path)


@pytest.mark.parametrize(
    "body",
    [
        'source: {path: "s3://bucket/landing/*.csv"}\n',
        'source: {path: "gcs://bucket/landing/orders.parquet"}\n',
        "source: {path: lake/orders, format: delta}\n",
        'source: {connection: "postgresql://db:5432/crm", table: public.orders}\n',
        'source: {connection: "postgres://db/crm", query: "WITH x AS (SELECT 1 AS id) SELECT id FROM x"}\n',
        'source: {path: "duckdb:warehouse.duckdb#main.orders"}\n',
        "output: {target: silver/orders, format: delta, mode: append}\n",
        "output: {target: s3://lake/silver/orders, format: csv}\n",
        'output: {connection: "duckdb:w.duckdb", table: silver.orders, mode: append, format: parquet}\n',
        'quarantine: {enabled: true, connection: "postgresql://db/crm", table: q.orders}\n',
        "quarantine: {enabled: true}\n",
    ],
)
def test_usable_locations_pass(tmp_path: Path, body: str) -> None:
    path = _contract(tmp_path, body)
    assert _found(path) == set()
    load_contract(path)


def test_a_password_is_never_printed(tmp_path: Path) -> None:
    path = _contract(
        tmp_path,
        'source: {connection: "postgres://meshc:hunter2@db/crm", table: t}\n'
        'output: {target: "s3://AKIA:wJalrXUtnFEMI@bucket/silver", mode: append}\n',
    )
    for fmt in ("text", "json", "github", "junit"):
        proc = run_meshc("check", "--format", fmt, str(path))
        assert proc.returncode == 1
        assert proc.stdout.count("MC221") >= 2, proc.stdout
        assert "hunter2" not in proc.stdout + proc.stderr
        assert "wJalrXUtnFEMI" not in proc.stdout + proc.stderr
    run = run_meshc("run", "-c", str(path), "--root", str(tmp_path / "lake"))
    assert run.returncode == 2 and "MC221" in run.stdout + run.stderr
    assert "hunter2" not in run.stdout + run.stderr and "Traceback" not in run.stderr


def test_a_password_in_an_unknown_source_url_is_not_printed_by_a_run(tmp_path: Path) -> None:
    path = _contract(tmp_path, "output: {target: silver/c}\n")
    run = run_meshc(
        "run", "-c", str(path), "--source", "mysql://u:hunter2@h/db", "--root", str(tmp_path)
    )
    assert run.returncode == 2 and "unknown storage scheme 'mysql:'" in run.stdout + run.stderr
    assert "hunter2" not in run.stdout + run.stderr and "Traceback" not in run.stderr


def test_unknown_scheme_suggests_the_closest(tmp_path: Path) -> None:
    path = _contract(tmp_path, "output: {target: s4://bucket/silver}\n")
    (found,) = run_check([str(path)]).diagnostics
    assert "'s4:'" in found.message and "did you mean 's3'?" in (found.hint or "")


def _check_without(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`meshc check` in a process where `module` cannot be imported, as in a light install
    (Python's documented way: None in sys.modules makes `import module` raise ImportError)."""
    code = (
        "import sys\n"
        f"sys.modules[{module!r}] = None\n"
        "from meshc.cli.app import main\n"
        "sys.argv = ['meshc', *sys.argv[1:]]\n"
        "main()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT
    )


@pytest.mark.parametrize(
    "module,body,extra",
    [
        ("deltalake", "output: {target: silver/x, format: delta}\n", "meshc[delta]"),
        (
            "adbc_driver_postgresql",
            'source: {connection: "postgresql://db/crm", table: t}\n',
            "meshc[postgresql]",
        ),
        ("duckdb", 'quarantine: {connection: "duckdb:w.duckdb", table: q}\n', "meshc[duckdb]"),
        ("pyarrow", 'source: {path: "s3://bucket/x.csv"}\n', "meshc[polars]"),
    ],
)
def test_a_missing_library_is_a_warning_with_the_install_hint(
    tmp_path: Path, module: str, body: str, extra: str
) -> None:
    path = _contract(tmp_path, body)
    proc = _check_without(module, "check", "--format", "json", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (found,) = json.loads(proc.stdout)["diagnostics"]
    assert (found["code"], found["severity"], found["line"]) == ("MC226", "warning", 5)
    assert f"pip install '{extra}'" in found["hint"]
    assert _check_without(module, "check", "--strict", str(path)).returncode == 1


def test_an_installed_library_gives_no_warning(tmp_path: Path) -> None:
    path = _contract(tmp_path, "output: {target: silver/x, format: delta}\n")
    assert _found(path) == set()  # deltalake is in the dev install


def test_check_of_storage_contracts_imports_no_storage_library(tmp_path: Path) -> None:
    path = _contract(
        tmp_path,
        'source: {connection: "postgresql://db/crm", query: "SELECT * FROM orders"}\n'
        "output: {target: s3://lake/silver, format: parquet}\n"
        'quarantine: {connection: "duckdb:w.duckdb", table: q}\n',
    )
    code = (
        "import sys\nfrom meshc.cli.app import app\n"
        "try:\n    app(['check', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
        "names = ('polars', 'pandas', 'duckdb', 'pyspark', 'pyarrow', 'deltalake', "
        "'adbc_driver_postgresql', 'adbc_driver_manager', 'boto3', 'fsspec')\n"
        "print('HEAVY=' + ','.join(m for m in names if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=ROOT
    )
    assert "HEAVY=\n" in proc.stdout, proc.stdout + proc.stderr
    assert "✓ 1 contract(s) OK" in proc.stdout


# -- MC209/MC210: local targets only --------------------------------------------------------------
@pytest.mark.parametrize(
    "body,codes",
    [
        ("output: {target: s3://bucket/silver}\n", set()),
        ('output: {target: "postgresql://db/crm#silver.orders"}\n', set()),
        ('output: {target: "duckdb:/abs/warehouse.duckdb#orders"}\n', set()),
        ("output: {target: /abs/lake/orders, format: delta}\n", {"MC209"}),
        ("quarantine: {target: ../outside, format: delta, mode: append}\n", {"MC210"}),
        ('output: {target: "file:///abs/lake/orders"}\n', {"MC209"}),
    ],
)
def test_only_local_targets_must_stay_under_the_root(
    tmp_path: Path, body: str, codes: set[str]
) -> None:
    found = {code for code, _, _ in _found(_contract(tmp_path, body))}
    assert found == codes


# -- MC214: two contracts writing the same table or objects ---------------------------------------
@pytest.mark.parametrize(
    "first,second,clash",
    [
        (
            'output: {connection: "postgresql://db/crm", table: orders}\n',
            'output: {connection: "postgresql://db/crm", table: public.orders}\n',
            True,
        ),
        (
            'output: {connection: "postgresql://db/crm", table: silver.orders}\n',
            'output: {connection: "postgresql://db/crm", table: silver.customers}\n',
            False,
        ),
        (
            'output: {connection: "duckdb:w.duckdb", table: silver.orders}\n',
            'quarantine: {connection: "duckdb:w.duckdb", table: silver.orders}\n',
            True,
        ),
        (
            'output: {target: "duckdb:w.duckdb#orders"}\n',
            'output: {connection: "duckdb:w.duckdb", table: main.orders}\n',
            True,
        ),
        (
            "output: {target: s3://lake/silver/orders}\n",
            "output: {target: s3://lake/silver/orders/, format: csv}\n",
            True,
        ),
        (
            "output: {target: s3://lake/silver/orders}\n",
            "output: {target: s3://lake/silver/customers}\n",
            False,
        ),
    ],
)
def test_two_contracts_writing_one_table_or_prefix(
    tmp_path: Path, first: str, second: str, clash: bool
) -> None:
    a = _contract(tmp_path, first, "a")
    b = _contract(tmp_path, second, "b")
    found = [d for d in run_check([str(a), str(b)]).diagnostics if d.code == "MC214"]
    assert len(found) == int(clash), [d.render() for d in found]
    if clash:
        assert found[0].path == str(b) and found[0].line == 5 and "d.a" in found[0].message


def test_meshc_mesh_compares_tables_by_location_not_under_its_root(tmp_path: Path) -> None:
    from meshc.target_overlap import check_target_overlaps

    a = _contract(tmp_path, 'output: {connection: "postgresql://db/crm", table: t}\n', "a")
    b = _contract(tmp_path, 'quarantine: {target: "postgres://db/crm#public.t"}\n', "b")
    c = _contract(tmp_path, 'output: {connection: "postgresql://db/crm", table: u}\n', "c")
    contracts = [load_contract(p) for p in (a, b, c)]
    found = check_target_overlaps(contracts, root=tmp_path / "lake")
    assert [(d.code, d.path) for d in found] == [("MC214", str(b))]


# -- the docs -------------------------------------------------------------------------------------
def test_the_support_matrix_in_the_docs_is_the_one_meshc_applies() -> None:
    text = storage_matrix.DOC.read_text(encoding="utf-8")
    assert storage_matrix.current(text) == storage_matrix.render(), (
        "docs/storage.md is out of date: run python -m tests.storage.storage_matrix"
    )


def test_the_contract_reference_documents_every_storage_code() -> None:
    text = (ROOT / "docs" / "contract-reference.md").read_text(encoding="utf-8")
    section = text.split("### Storage locations (MC220-MC227)", 1)[1].split("\n### ", 1)[0]
    codes = set(re.findall(r"^\| (MC22\d) \|", section, re.M))
    used = set(re.findall(r'"(MC22\d)"', (ROOT / "meshc/storage/checks.py").read_text()))
    assert used and used <= codes


def test_the_contract_reference_storage_examples_pass_check(tmp_path: Path) -> None:
    """Each line of the reference's storage example is a valid section (checked one by one)."""
    text = (ROOT / "docs" / "contract-reference.md").read_text(encoding="utf-8")
    section = text.split("### Tables, URLs and databases", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    lines = [line.split("  #")[0] for line in block.group(1).splitlines() if line.strip()]
    assert len(lines) >= 8
    for i, line in enumerate(lines):
        path = _contract(tmp_path, line + "\n", f"example{i}")
        assert _found(path) == set(), line


@pytest.mark.parametrize(
    "query,words",
    [
        ("SELECT " + "(" * 5000 + "1" + ")" * 5000, "nested too deeply"),
        ("SELECT " + "+".join(["a"] * 30000) + " FROM t", "too long"),
        ("SELECT * FROM t WHERE id = 1" + " " * 100_000, "too long"),
    ],
)
def test_a_hostile_query_is_refused_quickly_without_a_crash(
    tmp_path: Path, query: str, words: str
) -> None:
    """The bounds of rules (MC312/MC313) hold for a source query too: sqlglot's parser recurses
    per parenthesis and takes ~50-90 us a token, so the query is measured on its tokens first."""
    path = _contract(tmp_path, f'source: {{connection: "duckdb:w.duckdb", query: "{query}"}}\n')
    (found,) = run_check([str(path)]).diagnostics
    assert found.code == "MC227" and words in found.message, found.message
    with pytest.raises(ContractError):
        load_contract(path)
