"""Each domain runs its own pipeline on its own engine, through meshc's Python API.

    python examples/domain_pipelines.py [--rows 200] [--root DIR]

CRM runs on Spark, Finance on DuckDB, HR and Sales on Polars; the platform team's gold products
run on DuckDB. Every domain gets back frames of its own engine's kind: a Spark DataFrame for CRM,
a DuckDB relation for Finance, Polars DataFrames for HR and Sales.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from demo_key import use_demo_masking_key  # noqa: E402
from generate_landing import generate  # noqa: E402

from meshc import DataProcessor  # noqa: E402
from meshc.checking import run_check  # noqa: E402
from meshc.governance import injected_checks  # noqa: E402
from meshc.mesh.project import load_project  # noqa: E402
from meshc.mesh.run import ProductStatus, close_results, run_mesh  # noqa: E402

ENGINES = {"crm": "spark", "finance": "duckdb", "hr": "polars", "sales": "polars", "gold": "duckdb"}


def run_domains(root: Path, engines: dict[str, str] = ENGINES) -> dict[str, ProductStatus]:
    """Run the whole mesh, each domain on its engine; foreign keys and gold inputs in order."""
    project = load_project(root / "mesh.yaml")
    contracts = run_check(project.contract_dirs()).contracts
    statuses = run_mesh(
        contracts,
        engines=engines,
        root=root / "lakehouse",
        extra_checks=lambda c: injected_checks(c, project),
    )
    return {s.ref: s for s in statuses}


def crm_view(statuses: dict[str, ProductStatus]) -> None:
    """The CRM team works in Spark: their valid orders are a Spark DataFrame."""
    orders = statuses["crm.orders"].result
    assert orders is not None
    print("CRM (spark): orders by status")
    orders.valid.groupBy("order_status").count().orderBy("order_status").show()


def finance_view(statuses: dict[str, ProductStatus]) -> None:
    """Finance works in DuckDB: valid invoices are a DuckDB relation they can keep querying."""
    invoices = statuses["finance.invoices"].result
    assert invoices is not None
    print("Finance (duckdb): invoiced total per currency")
    invoices.valid.aggregate("currency, sum(total_amount) AS total", "currency").order(
        "currency"
    ).show()


def hr_view(statuses: dict[str, ProductStatus]) -> None:
    """HR works in Polars; their quarantine carries structured reasons, not free text."""
    payroll = statuses["hr.payroll"].result
    assert payroll is not None
    print("HR (polars): why payroll rows were held back")
    reasons = payroll.quarantine.explode("_meshc_reasons").unnest("_meshc_reasons")
    print(reasons.group_by("rule_id").len().sort("rule_id"))


def seed_example(root: Path) -> None:
    """One contract, one engine, one call: the seed orders example on DuckDB."""
    result = DataProcessor(
        HERE / "seed" / "orders.yaml", engine="duckdb", root=root / "lakehouse"
    ).run_source(HERE / "seed" / "orders.csv")
    print(
        f"seed orders on duckdb: {result.rows_in} rows, {result.rows_valid} valid, "
        f"{result.rows_quarantined} quarantined"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--root", type=Path, default=HERE.parent)
    args = parser.parse_args()
    root = args.root.resolve()
    generate(root, rows=args.rows)
    use_demo_masking_key()  # a public demo key for `masking: hash`: never for real data
    os.chdir(root)  # contract sources are relative to the project folder
    statuses = run_domains(root)
    from meshc.cli.mesh_render import render_products

    render_products(list(statuses.values()), title="domain pipelines")
    crm_view(statuses)
    finance_view(statuses)
    hr_view(statuses)
    ok = all(s.trust in ("trusted", "degraded") for s in statuses.values())
    close_results(statuses.values())  # releases the DuckDB connections behind the results
    seed_example(root)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
