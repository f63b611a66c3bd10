"""The splits of the seed orders contract and a few conformance cases on one Spark engine.

Run as a script on a given master (a cluster, or Spark Connect `sc://`), in its own process so
the test session's shared local SparkSession is untouched (a SparkSession is a per-process
singleton):  python tests/spark_splits.py MASTER [KEY=VALUE ...]  -> JSON on stdout.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "seed"
CASES = ROOT / "tests" / "conformance" / "cases"
CONFORMANCE_CASES = ("cast_failures_each_type", "case_when_coalesce", "dataset_unique_compound")
NOW = dt.datetime(2024, 6, 15, 12, 0, tzinfo=dt.timezone.utc)  # the corpus's default clock


def _id_column(table: Any) -> str:
    return "order_id" if "order_id" in table.column_names else "id"


def _outcome(result: Any) -> dict[str, Any]:
    """Counts, failures, valid ids and each quarantined id's sorted rule ids."""
    valid, quarantine = result.valid_arrow(), result.quarantine_arrow()
    ids = quarantine.column(_id_column(quarantine)).to_pylist()
    reasons = quarantine.column("_meshc_reasons").to_pylist()
    return {
        "rows_in": result.rows_in,
        "rows_valid": result.rows_valid,
        "rows_quarantined": result.rows_quarantined,
        "failures": {k: v for k, v in sorted(result.failures.items()) if v},
        "valid": sorted(str(i) for i in valid.column(_id_column(valid)).to_pylist()),
        "quarantined": sorted(
            [str(i), sorted(r["rule_id"] for r in rs)] for i, rs in zip(ids, reasons, strict=True)
        ),
    }


def splits(engine: Any) -> dict[str, Any]:
    """Every outcome on `engine` (an Engine instance), by name."""
    from meshc.runner.processor import DataProcessor

    runs = {"seed": (SEED / "orders.yaml", SEED / "orders.csv")}
    runs |= {
        name: (CASES / name / "contract.yaml", CASES / name / "input.csv")
        for name in CONFORMANCE_CASES
    }
    outcomes: dict[str, Any] = {}
    for name, (contract, source) in runs.items():
        processor = DataProcessor(contract, engine=engine, now=NOW)
        outcomes[name] = _outcome(processor.run_source(source, write=False))
    return outcomes


def main(argv: list[str]) -> None:
    from meshc.engines.registry import get_engine
    from meshc.engines.spark_settings import parse_conf

    master, *pairs = argv
    engine = get_engine("spark", master=master, conf=parse_conf(pairs))
    print(json.dumps({"master": _master(engine), "splits": splits(engine)}))


def _master(engine: Any) -> str:
    """Where the run happened: the driver's master, or the Connect URL (no SparkContext there)."""
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    session = engine.session
    return "connect" if isinstance(session, ConnectSession) else session.sparkContext.master


if __name__ == "__main__":
    main(sys.argv[1:])
