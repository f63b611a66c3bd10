"""The example mesh is self-consistent: contracts and mesh.yaml match their schemas and policies,
the landing generator is deterministic, and its defect manifest is exactly what the data breaks.

The last two tests use DuckDB as an independent reference evaluator (not meshc's engines): every
row listed in `_expected_defects.json` fails exactly its listed rules, every other row passes every
rule of its contract, and the gold transforms over the clean rows satisfy the gold contracts.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from meshc.discovery import find_contracts

REPO = Path(__file__).resolve().parent.parent
CONTRACT_FILES = sorted(find_contracts([str(REPO / "contracts")])[0])  # registry.yaml excluded
SEED = REPO / "examples" / "seed" / "orders.yaml"
ROWS = 200

_yaml = YAML(typ="safe")


def _load(path: Path) -> Any:
    return _yaml.load(path)


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((REPO / "schemas" / name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _generator() -> Any:
    """examples/ is not a package: load the script as a module (registered, for its dataclasses)."""
    name = "meshc_example_generate_landing"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, REPO / "examples" / "generate_landing.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("mesh")
    return root, _generator().generate(root, rows=ROWS, seed=7)


def _contracts() -> dict[str, dict[str, Any]]:
    out = {}
    for path in CONTRACT_FILES:
        data = _load(path)
        out[f"{data['info']['domain']}.{data['info']['name']}"] = data
    return out


# --- (a) schemas and governance ------------------------------------------------------------------


@pytest.mark.parametrize("path", [*CONTRACT_FILES, SEED], ids=lambda p: str(p.relative_to(REPO)))
def test_contract_matches_schema(path: Path) -> None:
    errors = [e.message for e in _validator("contract.schema.json").iter_errors(_load(path))]
    assert errors == []


@pytest.mark.parametrize("path", CONTRACT_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_contract_compiles_without_diagnostics(path: Path) -> None:
    from meshc.loader import collect_contract

    contract, diagnostics = collect_contract(path)
    assert contract is not None and [f"{d.code} {d.message}" for d in diagnostics] == []


def test_seed_is_the_verbatim_seed_with_its_sample_data() -> None:
    from meshc.loader import collect_contract

    # The seed's second rule reads order_status, which the seed does not declare (MC310 warning).
    _, diagnostics = collect_contract(SEED)
    assert [d.code for d in diagnostics] == ["MC310"]
    with (SEED.parent / "orders.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 12 and list(rows[0]) == [
        "order_id",
        "order_amount",
        "order_date",
        "order_status",
    ]


def test_every_contract_has_the_language_server_header() -> None:
    header = "# yaml-language-server: $schema=../../schemas/contract.schema.json"
    assert [p.name for p in CONTRACT_FILES if not p.read_text().startswith(header)] == []


def test_mesh_matches_schema() -> None:
    errors = [
        e.message for e in _validator("mesh.schema.json").iter_errors(_load(REPO / "mesh.yaml"))
    ]
    assert errors == []


def _policy_problems(contract: dict[str, Any], path: Path, mesh: dict[str, Any]) -> list[str]:
    """A plain-Python reading of each policy kind in mesh.schema.json."""
    info, fields = contract["info"], contract["model"]["fields"]
    rules = [r["sql"] for r in contract.get("quality", {}).get("row_rules", [])]
    problems = []
    for policy in mesh["governance"]["policies"]:
        kind, tag = policy["kind"], policy["id"]
        if kind == "naming_convention":
            names = [("dataset_pattern", info["name"])] + [
                ("field_pattern", f["name"]) for f in fields
            ]
            problems += [f"{tag}: {n}" for key, n in names if not re.search(policy.get(key, ""), n)]
        elif kind == "owner_required":
            if not re.search(policy.get("owner_pattern", "."), info.get("owner", "")):
                problems.append(f"{tag}: owner")
        elif kind == "domain_declared":
            domain = mesh["domains"].get(info["domain"])
            if domain is None or not path.is_relative_to(REPO / domain["contracts"]):
                problems.append(f"{tag}: {info['domain']}")
        elif kind == "pii_masked_outside_bronze":
            if info.get("layer") in policy.get("layers", ["silver", "gold"]):
                problems += [
                    f"{tag}: {f['name']}" for f in fields if f.get("pii") and not f.get("masking")
                ]
        elif kind == "money_non_negative":
            for f in fields:
                numeric = re.match(
                    r"(int|integer|bigint|long|float|double|decimal|numeric)\b", f["type"]
                )
                if not numeric:
                    continue
                guarded = (f.get("min") is not None and float(f["min"]) >= 0) or any(
                    re.fullmatch(rf"\s*{f['name']}\s*>=\s*0\s*", sql) for sql in rules
                )
                if re.search(policy["field_pattern"], f["name"]) and not guarded:
                    problems.append(f"{tag}: {f['name']}")
        elif kind == "timestamps_utc":
            for f in fields:
                naive = f["type"] in ("timestamp", "datetime")
                named = re.search(policy.get("field_pattern", "_at$"), f["name"])
                local = re.search(policy.get("local_pattern", "(?!)"), f["name"])
                if (
                    (naive or named)
                    and f["type"] not in ("timestamp with time zone", "timestamptz")
                    and not local
                ):
                    problems.append(f"{tag}: {f['name']}")
    return problems


@pytest.mark.parametrize("path", CONTRACT_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_contract_satisfies_every_policy(path: Path) -> None:
    assert _policy_problems(_load(path), path, _load(REPO / "mesh.yaml")) == []


def test_example_uses_every_logical_type() -> None:
    used = {
        " ".join(f["type"].split("(")[0].split())
        for c in _contracts().values()
        for f in c["model"]["fields"]
    }
    assert {
        "string",
        "integer",
        "float",
        "decimal",
        "boolean",
        "date",
        "timestamp",
        "timestamp with time zone",
    } <= used


# --- (b) determinism and columns -----------------------------------------------------------------


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_generate_is_deterministic(tmp_path: Path) -> None:
    gen = _generator()
    gen.generate(tmp_path / "a", rows=60, seed=11)
    gen.generate(tmp_path / "b", rows=60, seed=11)
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert len(first) == 13 and first == second
    gen.generate(tmp_path / "c", rows=60, seed=12)
    assert _files(tmp_path / "c") != first


def _read_text_rows(path: Path, fmt: str) -> tuple[list[str], list[dict[str, str | None]]]:
    """Every value as text (None for NULL), the way meshc reads CSV/NDJSON sources."""
    if fmt == "csv":
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            rows = [{k: (v if v != "" else None) for k, v in r.items()} for r in reader]
            return list(reader.fieldnames or []), rows
    if fmt == "ndjson":
        objs = [json.loads(line) for line in path.read_text().splitlines()]
        return list(objs[0]), [{k: _spell(v) for k, v in o.items()} for o in objs]
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return table.column_names, [{k: _spell(v) for k, v in r.items()} for r in table.to_pylist()]


def _spell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def test_landing_files_have_the_contract_columns(landing: tuple[Path, dict[str, Any]]) -> None:
    root, manifest = landing
    contracts = _contracts()
    assert set(manifest["datasets"]) == {r for r, c in contracts.items() if "source" in c}
    for ref, entry in manifest["datasets"].items():
        columns, rows = _read_text_rows(root / entry["path"], entry["format"])
        assert columns == [f["name"] for f in contracts[ref]["model"]["fields"]], ref
        assert len(rows) == ROWS, ref


# --- (c) the manifest matches the data ---------------------------------------------------------


def test_every_listed_defect_is_in_the_data(landing: tuple[Path, dict[str, Any]]) -> None:
    root, manifest = landing
    kinds = set()
    for ref, entry in manifest["datasets"].items():
        _, rows = _read_text_rows(root / entry["path"], entry["format"])
        assert entry["defects"], ref
        for d in entry["defects"]:
            row = rows[d["row"]]
            kinds.add(d["kind"])
            assert row[entry["primary_key"]] == d["key"], (ref, d)
            assert row[d["column"]] == d["value"], (ref, d)
            if d["kind"] == "cast_failure":
                assert d["value"] in ("abc", "2024-13-45"), (ref, d)
    assert kinds == {
        "cast_failure",
        "missing_required",
        "duplicate_key",
        "orphan_foreign_key",
        "out_of_range",
        "unknown_value",
        "pattern_mismatch",
        "rule_violation",
        "pii_in_free_text",
    }


# --- (d) reference evaluation with DuckDB --------------------------------------------------------

DUCK_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMPTZ",
}


def _duck_type(logical: str) -> str:
    return logical.upper() if logical.startswith("decimal") else DUCK_TYPES[logical]


def _lit(value: Any, logical: str) -> str:
    if isinstance(value, str):
        quoted = "'" + value.replace("'", "''") + "'"
        return f"DATE {quoted}" if logical == "date" else quoted
    return repr(value)


def _sql(text: str) -> str:
    import sqlglot

    return sqlglot.transpile(text, read="duckdb", write="duckdb")[0]


def _checks(contract: dict[str, Any], table: str) -> list[tuple[str, str]]:
    """(rule_id, SQL selecting the _row of every row that fails it), in quarantine-reason order."""
    out = []
    for f in contract["model"]["fields"]:
        c, t = f["name"], f["type"]
        out.append(
            (f"{c}.type", f"SELECT _row FROM {table} WHERE _raw_{c} IS NOT NULL AND {c} IS NULL")
        )
    for f in contract["model"]["fields"]:
        c, t = f["name"], f["type"]
        preds = []
        if f.get("required") or f.get("primary_key"):
            preds.append(("required", f"{c} IS NOT NULL OR _raw_{c} IS NOT NULL"))
        if "accepted_values" in f:
            preds.append(
                (
                    "accepted_values",
                    f"{c} IN ({', '.join(_lit(v, t) for v in f['accepted_values'])})",
                )
            )
        if "min" in f or "max" in f:
            bounds = ([f"{c} >= {_lit(f['min'], t)}"] if "min" in f else []) + (
                [f"{c} <= {_lit(f['max'], t)}"] if "max" in f else []
            )
            preds.append(("range", " AND ".join(bounds)))
        if "pattern" in f:
            preds.append(("pattern", f"regexp_matches({c}, {_lit(f['pattern'], 'string')})"))
        if "max_length" in f:
            preds.append(("max_length", f"length({c}) <= {f['max_length']}"))
        out += [(f"{c}.{k}", f"SELECT _row FROM {table} WHERE NOT ({p})") for k, p in preds]
        if f.get("unique") or f.get("primary_key"):
            out.append((f"{c}.unique", _duplicates(table, [c])))
        if "references" in f:
            domain, name, key = f["references"].split(".")
            out.append(
                (
                    f"{c}.references",
                    f"SELECT _row FROM {table} WHERE {c} IS NOT NULL AND {c} NOT IN "
                    f"(SELECT {key} FROM clean_{domain}_{name} WHERE {key} IS NOT NULL)",
                )
            )
    quality = contract.get("quality", {})
    for r in quality.get("row_rules", []):
        out.append(
            (r.get("name") or r["sql"], f"SELECT _row FROM {table} WHERE NOT ({_sql(r['sql'])})")
        )
    for r in quality.get("dataset_rules", []):
        if r["type"] == "unique":
            out.append((r["name"], _duplicates(table, r["columns"])))
    return out


def _duplicates(table: str, key: list[str]) -> str:
    cols, on = ", ".join(key), " AND ".join(f"t.{k} = d.{k}" for k in key)
    not_null = " AND ".join(f"{k} IS NOT NULL" for k in key)
    return (
        f"SELECT t._row FROM {table} t JOIN (SELECT {cols} FROM {table} WHERE {not_null} "
        f"GROUP BY {cols} HAVING COUNT(*) > 1) d ON {on}"
    )


def _dataset_rules_hold(con: Any, contract: dict[str, Any], table: str) -> list[str]:
    failed = []
    for r in contract.get("quality", {}).get("dataset_rules", []):
        if r["type"] == "row_count":
            sql = f"COUNT(*) >= {r.get('min', 0)}"
        elif r["type"] == "null_ratio":
            sql = f"AVG(CASE WHEN {r['column']} IS NULL THEN 1.0 ELSE 0.0 END) <= {r['max']}"
        elif r["type"] == "freshness":
            days = int(r["max_age"].rstrip("d"))
            newest = f"MAX(CAST({r['column']} AS TIMESTAMP))"
            sql = f"{newest} >= CAST(now() AS TIMESTAMP) - INTERVAL {days} DAY"
        elif r["type"] == "sql":
            sql = _sql(r["sql"])
        else:
            continue
        if not con.execute(f"SELECT {sql} FROM {table}").fetchone()[0]:
            failed.append(r.get("name") or sql)
    return failed


def _trimmed(f: dict[str, Any]) -> str:
    return f["name"] if f["type"] == "string" else f"TRIM({f['name']})"  # strings keep their spaces


def _load_typed(con: Any, ref: str, contract: dict[str, Any], path: Path, fmt: str) -> str:
    """Table `raw_<ref>` (text) and view `typed_<ref>` (cast like meshc, with `_raw_<col>`)."""
    name = ref.replace(".", "_")
    fields = contract["model"]["fields"]
    _, rows = _read_text_rows(path, fmt)
    cols = ", ".join(f"{f['name']} VARCHAR" for f in fields)
    con.execute(f"CREATE TABLE raw_{name} (_row INTEGER, {cols})")
    con.executemany(
        f"INSERT INTO raw_{name} VALUES ({', '.join('?' * (len(fields) + 1))})",
        [[i, *(r[f["name"]] for f in fields)] for i, r in enumerate(rows)],
    )
    select = ", ".join(
        f"TRY_CAST({_trimmed(f)} AS {_duck_type(f['type'])}) AS {f['name']}, "
        f"{f['name']} AS _raw_{f['name']}"
        for f in fields
    )
    con.execute(f"CREATE VIEW typed_{name} AS SELECT _row, {select} FROM raw_{name}")
    return f"typed_{name}"


@pytest.fixture(scope="module")
def duck(landing: tuple[Path, dict[str, Any]]) -> tuple[Any, dict[str, Any]]:
    duckdb = pytest.importorskip("duckdb")
    pytest.importorskip("sqlglot")
    root, manifest = landing
    contracts = _contracts()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for ref, entry in manifest["datasets"].items():  # parents come first
        typed = _load_typed(con, ref, contracts[ref], root / entry["path"], entry["format"])
        broken = ", ".join(str(d["row"]) for d in entry["defects"]) or "-1"
        columns = ", ".join(f["name"] for f in contracts[ref]["model"]["fields"])
        con.execute(
            f"CREATE VIEW clean_{ref.replace('.', '_')} AS SELECT {columns} FROM {typed} "
            f"WHERE _row NOT IN ({broken})"
        )
    return con, manifest


def test_rows_fail_exactly_their_listed_rules(duck: tuple[Any, dict[str, Any]]) -> None:
    con, manifest = duck
    contracts = _contracts()
    for ref, entry in manifest["datasets"].items():
        table = f"typed_{ref.replace('.', '_')}"
        actual: dict[int, list[str]] = {}
        for rule_id, sql in _checks(contracts[ref], table):
            for (row,) in sorted(set(con.execute(sql).fetchall())):
                actual.setdefault(row, []).append(rule_id)
        expected = {d["row"]: d["rule_ids"] for d in entry["defects"]}
        assert dict(sorted(actual.items())) == expected, ref


def test_dataset_rules_hold_on_clean_and_on_all_rows(duck: tuple[Any, dict[str, Any]]) -> None:
    con, manifest = duck
    contracts = _contracts()
    for ref in manifest["datasets"]:
        name = ref.replace(".", "_")
        assert _dataset_rules_hold(con, contracts[ref], f"clean_{name}") == [], ref
        assert _dataset_rules_hold(con, contracts[ref], f"typed_{name}") == [], ref


@pytest.mark.parametrize(
    "ref", ["gold.revenue_analytics", "gold.workforce_costs", "gold.sales_forecast"]
)
def test_gold_transform_satisfies_its_contract(duck: tuple[Any, dict[str, Any]], ref: str) -> None:
    con, _ = duck
    contract = _contracts()[ref]
    for i in contract["transform"]["inputs"]:
        con.execute(
            f"CREATE OR REPLACE VIEW {i['alias']} AS "
            f"SELECT * FROM clean_{i['ref'].replace('.', '_')}"
        )
    fields = contract["model"]["fields"]
    result = con.sql(contract["transform"]["sql"])
    assert result.columns == [f["name"] for f in fields]
    name = ref.replace(".", "_")
    select = ", ".join(
        f"CAST({f['name']} AS {_duck_type(f['type'])}) AS {f['name']}, "
        f"CAST({f['name']} AS VARCHAR) AS _raw_{f['name']}"
        for f in fields
    )
    con.execute(
        f"CREATE OR REPLACE TABLE typed_{name} AS SELECT row_number() OVER () AS _row, {select} "
        f"FROM ({contract['transform']['sql']})"
    )
    assert con.execute(f"SELECT COUNT(*) FROM typed_{name}").fetchone()[0] > 0
    failures = {
        rule_id: con.execute(sql).fetchall() for rule_id, sql in _checks(contract, f"typed_{name}")
    }
    assert {k: v for k, v in failures.items() if v} == {}
    assert _dataset_rules_hold(con, contract, f"typed_{name}") == []
