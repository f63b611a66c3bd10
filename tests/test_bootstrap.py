"""meshc bootstrap (issue #7): contracts inferred from a landing folder of csv, parquet and ndjson
datasets built with a seeded generator. Clean data must be quarantined by nothing; injected
defects must be quarantined while well over 99% of the clean rows are kept."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from meshc.bootstrap import bootstrap, infer_contract
from meshc.bootstrap.suggest import nice_ceiling, shape_regex, split_values
from meshc.checking import run_check
from meshc.loader import load_contract
from meshc.runner.processor import DataProcessor
from tests.conftest import ROOT, run_meshc

N = 8_000
STATUSES = ["pending"] * 30 + ["shipped"] * 40 + ["delivered"] * 25 + ["returned"] * 5


def _orders(rng: random.Random, n: int = N) -> list[dict[str, str]]:
    start = dt.date(2024, 1, 1)
    rows = []
    for i in range(n):
        day = start + dt.timedelta(days=rng.randrange(365))
        rows.append(
            {
                "line_no": str(i + 1),
                "order_id": f"ORD-{i + 1:06d}",
                "customer_email": f"user{rng.randrange(5000)}@example.com",
                "status": rng.choice(STATUSES),
                "amount": f"{rng.lognormvariate(3.5, 0.8):.2f}",  # a heavy clean tail
                "quantity": str(rng.randint(1, 10)),
                "order_date": day.isoformat(),
                "created_at": f"{day}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
                "is_gift": rng.choice(["true", "false"]),
                "zip": f"{rng.randrange(100000):05d}",
                "note": "" if rng.random() < 0.2 else rng.choice(["leave at door", "call first"]),
                "legacy_date": day.strftime("%d.%m.%Y"),
            }
        )
    return rows


def _customers(rng: random.Random, n: int = N // 2) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": list(range(1, n + 1)),
            "full_name": [f"Customer {i}" for i in range(n)],
            "phone": [f"+49 30 {rng.randrange(1_000_000, 9_999_999)}" for _ in range(n)],
            "country": [rng.choice(["DE"] * 5 + ["FR"] * 3 + ["NL"] * 2) for _ in range(n)],
            "signup_date": [
                dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(500)) for _ in range(n)
            ],
            "score": [rng.gauss(50, 10) for _ in range(n)],
        }
    )


def _events(rng: random.Random, n: int = N) -> list[dict[str, Any]]:
    return [
        {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "kind": rng.choice(["click", "view", "view", "buy"]),
            "value": round(rng.uniform(0, 100), 3) if rng.random() > 0.1 else None,
            "ts": f"2024-03-{rng.randint(1, 28):02d}T10:{rng.randrange(60):02d}:00+02:00",
        }
        for _ in range(n)
    ]


def _landing(root: Path, orders: list[dict[str, str]], rng: random.Random) -> Path:
    landing = root / "landing"
    landing.mkdir()
    pl.DataFrame(orders).write_csv(landing / "orders.csv")
    customers = _customers(rng)
    (landing / "customers").mkdir()
    customers.head(1500).write_parquet(landing / "customers" / "part-0.parquet")
    customers.tail(customers.height - 1500).write_parquet(landing / "customers" / "part-1.parquet")
    lines = "\n".join(json.dumps(e) for e in _events(rng))
    (landing / "events.ndjson").write_text(lines + "\n", encoding="utf-8")
    return landing


def _inject(orders: list[dict[str, str]], rng: random.Random) -> set[str]:
    """A few percent of defects in disjoint rows; returns the line numbers of the defect rows."""
    picks = iter(rng.sample(range(len(orders)), 140))
    defects: set[str] = set()

    def spoil(count: int, change: Any) -> None:
        for _ in range(count):
            row = orders[next(picks)]
            change(row)
            defects.add(row["line_no"])

    spoil(15, lambda r: r.update(status="delivred"))  # typos of frequent values
    spoil(5, lambda r: r.update(status="SHIPPED"))
    spoil(3, lambda r: r.update(status="shiped"))
    for _ in range(20):  # missing: not a defect, status is optional once values are missing
        orders[next(picks)]["status"] = ""
    spoil(20, lambda r: r.update(amount=f"-{r['amount']}"))
    spoil(8, lambda r: r.update(amount="99999.00"))
    spoil(10, lambda r: r.update(quantity="9999"))
    spoil(20, lambda r: r.update(customer_email="not-an-email"))
    originals = [orders[next(picks)] for _ in range(10)]
    spoil(10, lambda r: r.update(order_id=originals.pop()["order_id"]))  # duplicate keys
    return defects


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    root = tmp_path_factory.mktemp("clean")
    rng = random.Random(20240131)
    landing = _landing(root, _orders(rng), rng)
    result = bootstrap(
        landing,
        root / "contracts",
        root / "contracts" / "registry.yaml",
        suggest_rules=True,
        domain="shop",
        system="shopify",
    )
    return root, result


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, set[str]]:
    root = tmp_path_factory.mktemp("dirty")
    rng = random.Random(7)
    orders = _orders(rng)
    defects = _inject(orders, rng)
    landing = _landing(root, orders, rng)
    result = bootstrap(
        landing,
        root / "contracts",
        root / "contracts" / "registry.yaml",
        suggest_rules=True,
        domain="shop",
    )
    return root, result, defects


def _fields(path: Path) -> dict[str, Any]:
    return {f.name: f for f in load_contract(path).fields}


def _written(result: Any, name: str) -> Any:
    return next(w for w in result.contracts if w.inferred.ref.endswith("." + name))


def test_types_and_required(clean: tuple[Path, Any]) -> None:
    root, result = clean
    orders = _fields(root / "contracts" / "orders.yaml")
    assert {n: str(f.type) for n, f in orders.items()} == {
        "line_no": "integer",
        "order_id": "string",
        "customer_email": "string",
        "status": "string",
        "amount": "decimal(18,2)",
        "quantity": "integer",
        "order_date": "date",
        "created_at": "timestamp_tz",
        "is_gift": "boolean",
        "zip": "string",  # leading zeros: a code, not a number
        "note": "string",
        "legacy_date": "string",  # DD.MM.YYYY is not a form meshc reads
    }
    assert orders["order_id"].required and not orders["note"].required
    assert orders["customer_email"].pii and not orders["amount"].pii
    customers = _fields(root / "contracts" / "customers.yaml")
    assert {n: str(f.type) for n, f in customers.items()} == {
        "customer_id": "integer",
        "full_name": "string",
        "phone": "string",
        "country": "string",
        "signup_date": "date",
        "score": "float",
    }
    assert customers["phone"].pii and customers["full_name"].pii
    events = _fields(root / "contracts" / "events.yaml")
    assert str(events["value"].type) == "float" and not events["value"].required
    assert str(events["ts"].type) == "timestamp_tz"
    notes = {
        s.column: s.evidence
        for s in _written(result, "orders").inferred.suggestions
        if s.kind == "type"
    }
    assert "DD.MM.YYYY" in notes["legacy_date"] and "ISO" in notes["legacy_date"]


def test_suggestions_carry_evidence(clean: tuple[Path, Any]) -> None:
    _, result = clean
    rules = {s.rule_id: s for s in _written(result, "orders").inferred.suggestions if s.rule_id}
    assert rules["status_accepted_values"].rule == (
        "status IN ('shipped', 'pending', 'delivered', 'returned')"
    )
    assert rules["amount_non_negative"].rule == "amount >= 0"
    assert rules["order_id_format"].rule == "REGEXP_LIKE(order_id, '^[A-Z]{3}-[0-9]{6}$')"
    assert "customer_email_format" in rules and "order_id_unique" in rules
    assert "amount_upper_bound" not in rules  # a clean heavy tail gets no upper bound
    assert "line_no_non_negative" not in rules  # keys get no ranges
    for s in rules.values():
        assert s.evidence and str(N // 2) not in s.rule
    described = load_contract(_written(result, "orders").path)
    assert all(r.description and "(" in r.description for r in described.row_rules)


def test_outputs_pass_check_and_registry(clean: tuple[Path, Any]) -> None:
    root, result = clean
    checked = run_check([str(root / "contracts")])
    assert checked.errors == 0, [str(d) for d in checked.diagnostics]
    assert checked.warnings == 0 and len(checked.files) == 3
    text = (root / "contracts" / "orders.yaml").read_text(encoding="utf-8")
    # the README's relative reference; no schemas/ above tmp, so the copy written beside them
    assert text.startswith("# yaml-language-server: $schema=schemas/contract.schema.json\n")
    assert (root / "contracts" / "schemas" / "contract.schema.json").is_file()
    from ruamel.yaml import YAML

    from meshc.schema_validation import load_schema

    registry = YAML(typ="safe").load(result.registry)
    assert [c["ref"] for c in registry["contracts"]] == [
        "shop.customers",
        "shop.events",
        "shop.orders",
    ]
    assert registry["contracts"][2]["path"] == "orders.yaml"
    assert registry["contracts"][2]["source"].endswith("landing/orders.csv")
    assert registry["contracts"][2]["system"] == "shopify"
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(registry, load_schema("registry"))


def test_clean_data_runs_on_polars_and_quarantines_nothing(clean: tuple[Path, Any]) -> None:
    root, result = clean
    for written in result.contracts:
        run = DataProcessor(written.path, engine="polars", root=root / "lake").run_source()
        assert run.rows_in > 0 and run.rows_quarantined == 0, run.failures
        assert run.ok and Path(run.outputs["valid"] or "").exists()
        assert written.inferred.rows_quarantined == 0  # the summary measured the same


def test_defects_quarantined_and_clean_rows_kept(dirty: tuple[Path, Any, set[str]]) -> None:
    root, result, defects = dirty
    assert run_check([str(root / "contracts")]).errors == 0
    orders = _written(result, "orders")
    run = DataProcessor(orders.path, engine="polars").run_source(write=False)
    quarantined = set(run.quarantine_arrow().column("line_no").to_pylist())  # original text
    assert defects <= quarantined
    clean_rows = run.rows_in - len(defects)
    clean_lost = len(quarantined - defects)
    assert clean_lost <= 10  # the first holders of the 10 duplicated keys
    assert (clean_rows - clean_lost) / clean_rows > 0.99
    summary = {
        row["rule_id"]: row["quarantines"] for row in orders.inferred.summary() if row["rule_id"]
    }
    assert summary["status_accepted_values"] == 23 and "status_present" not in summary
    assert summary["amount_non_negative"] == 20 and summary["amount_upper_bound"] == 8
    assert summary["quantity_range"] == 10 and summary["order_id_unique"] == 20
    for other in ("customers", "events"):  # the untouched datasets stay clean
        assert _written(result, other).inferred.rows_quarantined == 0


def test_outlier_enum_values_are_suspects_not_accepted(dirty: tuple[Path, Any, set[str]]) -> None:
    _, result, _ = dirty
    status = next(
        s
        for s in _written(result, "orders").inferred.suggestions
        if s.kind == "accepted_values" and s.column == "status"
    )
    assert "delivred" not in status.rule and "SHIPPED" not in status.rule
    assert {v for v, _ in status.suspects} == {"delivred", "SHIPPED", "shiped"}
    assert "'delivred' (15, a variant of 'delivered' seen" in status.evidence
    amount = next(
        s
        for s in _written(result, "orders").inferred.suggestions
        if s.rule_id == "amount_non_negative"
    )
    assert "20 negative value(s) seen" in amount.evidence and amount.rule == "amount >= 0"
    bound = next(
        s
        for s in _written(result, "orders").inferred.suggestions
        if s.rule_id == "amount_upper_bound"
    )
    assert "99999" not in bound.rule  # the bound sits just above the clean values


def test_infer_contract_on_a_frame_and_strict_types() -> None:
    frame = pl.DataFrame(
        {
            "id": [str(i) for i in range(200)],
            "amount": [f"{i}.5" for i in range(199)] + ["n/a?"],  # one value that is not a number
            "flag": ["0", "1"] * 100,
            "ts": ["2024-01-31 10:00"] * 200,
        }
    )
    inferred = infer_contract(frame, name="frame_data")
    types = {f["name"]: f["type"] for f in inferred.document["model"]["fields"]}
    assert types == {"id": "bigint", "amount": "string", "flag": "bigint", "ts": "timestamp"}
    note = next(
        s.evidence for s in inferred.suggestions if s.column == "amount" and s.kind == "type"
    )
    assert "99.50% of 200 values parse as float" in note
    contract = inferred.contract()
    assert contract.source is None and contract.ref == "landing.frame_data"
    assert inferred.rows_quarantined == 0


def test_split_values_and_helpers() -> None:
    kept, typos = split_values([("paid", 5000), ("open", 300), ("PAID", 40), ("pad", 2)])
    assert kept == [("paid", 5000), ("open", 300)]  # "pad" is 1 edit from "paid" (2,500x)
    assert [(t.value, t.of) for t in typos] == [("PAID", "paid"), ("pad", "paid")]
    assert split_values([("x", 50), ("y", 40), ("z", 30)]) == (
        [("x", 50), ("y", 40), ("z", 30)],
        [],
    )
    assert shape_regex("AAA-999.a") == r"^[A-Z]{3}-[0-9]{3}\.[a-z]$"
    assert nice_ceiling(487.3) == 490 and nice_ceiling(1234) == 1300 and nice_ceiling(10) == 10
    from meshc.bootstrap.writer import schema_reference

    assert schema_reference(ROOT / "contracts" / "shop", "contract.schema.json") == (
        "../../schemas/contract.schema.json"
    )


def test_cli_bootstrap_json_summary(tmp_path: Path) -> None:
    rng = random.Random(3)
    landing = tmp_path / "landing"
    landing.mkdir()
    pl.DataFrame(_orders(rng, 2_000)).write_csv(landing / "orders.csv", separator=";")
    out = tmp_path / "contracts"
    proc = run_meshc(
        "bootstrap",
        "--landing",
        str(landing),
        "--output",
        str(out),
        "--registry",
        str(out / "registry.yaml"),
        "--suggest-rules",
        "--domain",
        "crm",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["contracts"][0]["ref"] == "crm.orders"
    assert summary["contracts"][0]["rows_quarantined"] == 0
    assert any(s["rule_id"] == "status_accepted_values" for s in summary["suggestions"])
    assert load_contract(out / "orders.yaml").source.delimiter == ";"
    assert run_meshc("check", str(out)).returncode == 0
    # the registry is exactly what `meshc registry` generates for these contracts
    registry = run_meshc("registry", str(out), "--output", str(out / "registry.yaml"), "--check")
    assert registry.returncode == 0, registry.stderr


def test_datasets_never_include_another_jobs_temporary_or_staging_files(tmp_path: Path) -> None:
    """The folder-source rule of meshc/runner/sources.py: a name starting with `.` or `_`
    anywhere below the dataset folder (Spark's `_temporary/`, `.staging/`) is not data."""
    from meshc.bootstrap.infer import _folder_dataset
    from meshc.bootstrap.profile import discover

    orders = tmp_path / "landing" / "orders"
    for name in ("part-0.csv", "sub/part-2.csv", "_temporary/0/part-1.csv", ".staging/x.csv"):
        (orders / name).parent.mkdir(parents=True, exist_ok=True)
        (orders / name).write_text("id\n1\n")
    expected = [orders / "part-0.csv", orders / "sub" / "part-2.csv"]
    (dataset,) = discover(tmp_path / "landing")
    assert sorted(dataset.paths) == expected
    assert sorted(_folder_dataset(orders, None).paths) == expected
