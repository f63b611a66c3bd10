"""Peak memory of a run whose failing rule has a very long text (issue #12, item 14).

    python benchmarks/bench_reasons_memory.py [--engines polars duckdb pandas]
                                              [--failing 20000] [--rule-kb 80] [--mode write]

A contract with one IN-list rule of about `--rule-kb` KB of SQL text is run on a generated CSV in
which `--failing` rows fail that rule (plus as many passing rows). Each engine runs in a fresh
subprocess (`DataProcessor.run_source`, writing both outputs as Parquet with `--mode write`, or
keeping them in memory with `--mode memory`); the parent prints the child's peak RSS (its
maxrss from `os.wait4`: a new process per engine, so each peak is its own) and the row counts.
When every reason copied the rule text (and the default message, which quotes it), peak memory
grew with rule length x failing rows.
Numbers measured on the project machine are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, sys
from meshc import DataProcessor
contract, source, out, quarantine, engine, mode = sys.argv[1:7]
processor = DataProcessor(contract, engine=engine)
if mode == "write":
    result = processor.run_source(source, output=out, quarantine=quarantine)
else:
    result = processor.run_source(source, write=False)
print(json.dumps({"valid": result.rows_valid, "quarantined": result.rows_quarantined}))
"""


def rule_values(rule_kb: int) -> list[str]:
    """Codes `K0000000`... enough of them for the IN list to take about `rule_kb` KB of text."""
    per_item = len("'K0000000', ")
    return [f"K{i:07d}" for i in range(rule_kb * 1024 // per_item)]


def write_inputs(workdir: Path, failing: int, rule_kb: int) -> tuple[Path, Path]:
    values = rule_values(rule_kb)
    in_list = ", ".join(f"'{v}'" for v in values)
    contract = workdir / "contract.yaml"
    contract.write_text(
        "info: {version: 1, name: long_rule, domain: bench, owner: bench@example.com}\n"
        "model:\n  fields:\n"
        "    - {name: id, type: integer}\n"
        "    - {name: code, type: string}\n"
        "quality:\n  row_rules:\n"
        f'    - {{name: code_known, sql: "code IN ({in_list})"}}\n'
        "quarantine: {enabled: true, include_error_reason: true}\n"
        "lineage: {enabled: false}\n"
    )
    source = workdir / "input.csv"
    with source.open("w") as out:
        out.write("id,code\n")
        for i in range(2 * failing):
            code = values[i % len(values)] if i % 2 else f"X{i:07d}"  # even rows fail the rule
            out.write(f"{i},{code}\n")
    return contract, source


def measure(engine: str, contract: Path, source: Path, workdir: Path, mode: str) -> dict:
    out, quarantine = workdir / f"{engine}-valid.parquet", workdir / f"{engine}-q.parquet"
    log = workdir / f"{engine}.log"
    started = time.perf_counter()
    with log.open("w") as sink:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(contract), str(source), str(out), str(quarantine)]
            + [engine, mode],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        # wait4 reaps this child and returns its own rusage: each engine's peak is its own
        _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    lines = log.read_text().strip().splitlines()
    if child.returncode != 0:
        return {"engine": engine, "error": lines[-1:] if lines else child.returncode}
    counts = json.loads(lines[-1])
    peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    return {"engine": engine, "peak_mb": round(peak_mb), "seconds": round(elapsed, 1), **counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=["pandas", "polars", "duckdb"])
    parser.add_argument("--failing", type=int, default=20_000)
    parser.add_argument("--rule-kb", type=int, default=80)
    parser.add_argument("--mode", choices=["write", "memory"], default="write")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="meshc-reasons-") as tmp:
        workdir = Path(tmp)
        contract, source = write_inputs(workdir, args.failing, args.rule_kb)
        rule_bytes = len(contract.read_text())
        print(f"rule text ~{rule_bytes / 1024:.0f} KB, {args.failing} failing rows, {args.mode}")
        for engine in args.engines:
            print(json.dumps(measure(engine, contract, source, workdir, args.mode)), flush=True)


if __name__ == "__main__":
    main()
