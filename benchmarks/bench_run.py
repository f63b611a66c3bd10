"""`meshc run` on Polars and DuckDB against a hand-written Polars script doing the same work.

    python benchmarks/bench_run.py [--rows 1000000 10000000] [--engines polars duckdb]
                                   [--repeat 1] [--workdir /tmp/meshc-bench] [--clean]

For each size: a deterministic orders CSV is generated once (seeded; reused when present), then
every contender runs in a fresh subprocess (the real CLI for meshc, benchmarks/handwritten_polars.py
for the baseline) that reads the CSV, casts, applies 4 row rules, and writes the valid rows and the
quarantine (with reasons) as Parquet. Wall time and peak RSS come from os.wait4 on that child, so
each run's peak memory is its own. Row counts of every meshc run are checked against the
hand-written script's. Targets (issue #4): within 1.3x the time and 1.5x the memory at 10M rows.
Numbers measured on the project machine are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
HANDWRITTEN = ROOT / "handwritten_polars.py"
TIME_TARGET, MEMORY_TARGET = 1.3, 1.5
CHUNK = 1_000_000
TIME_BIN = Path("/usr/bin/time")

CONTRACT = """\
info: {version: 1, name: bench_orders, domain: bench, system: bench, owner: bench@example.com}
model:
  fields:
    - {name: order_id, type: string}
    - {name: order_amount, type: float}
    - {name: order_date, type: date}
    - {name: order_status, type: string}
    - {name: quantity, type: integer}
quality:
  row_rules:
    - {name: amount_non_negative, sql: "order_amount >= 0"}
    - {name: status_known, sql: "order_status IN ('pending', 'shipped', 'delivered', 'returned')"}
    - {name: quantity_range, sql: "quantity BETWEEN 1 AND 100"}
    - {name: order_id_pattern, sql: "REGEXP_LIKE(order_id, '^ORD-[0-9]+$')"}
quarantine: {enabled: true, include_error_reason: true}
lineage: {enabled: false}
"""


# -- data ----------------------------------------------------------------------------------------
def generate(path: Path, rows: int, seed: int = 42) -> None:
    """Orders-like text, ~1% bad in each column, written in chunks of 1M rows (bounded memory)."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as handle:
        for start in range(0, rows, CHUNK):
            n = min(CHUNK, rows - start)
            _chunk(rng, start, n, pl, np).write_csv(handle, include_header=start == 0)
    os.replace(tmp, path)


def _chunk(rng, start, n, pl, np):  # type: ignore[no-untyped-def]
    u = rng.random((5, n))
    ids = pl.Series(np.arange(start, start + n)).cast(pl.String).str.zfill(9)
    order_id = ("ORD-" + ids).to_numpy().astype(object)
    order_id[u[0] < 0.003] = "ORDX"  # pattern violation
    order_id[u[0] > 0.999] = ""  # NULL (passes the pattern rule)
    amounts = np.round(rng.uniform(-10, 990, n), 2).astype(str).astype(object)  # ~1% negative
    amounts[u[1] < 0.005] = "abc"
    amounts[(u[1] >= 0.005) & (u[1] < 0.01)] = "12,5"
    amounts[u[1] > 0.998] = ""
    days = rng.integers(0, 1800, n).astype("timedelta64[D]") + np.datetime64("2020-01-01")
    dates = days.astype(str).astype(object)
    dates[u[2] < 0.002] = "2024-02-30"
    dates[(u[2] >= 0.002) & (u[2] < 0.004)] = "not a date"
    statuses = np.array(["pending", "shipped", "delivered", "returned"], dtype=object)
    status = statuses[rng.integers(0, 4, n)]
    status[u[3] < 0.01] = "unknown"
    qty = rng.integers(1, 101, n).astype(str).astype(object)
    qty[u[4] < 0.003] = "0"
    qty[(u[4] >= 0.003) & (u[4] < 0.005)] = "1.5"
    return pl.DataFrame(
        {
            "order_id": order_id,
            "order_amount": amounts,
            "order_date": dates,
            "order_status": status,
            "quantity": qty,
        },
        schema=dict.fromkeys(
            ["order_id", "order_amount", "order_date", "order_status", "quantity"], pl.String
        ),
    )


# -- runs ----------------------------------------------------------------------------------------
@dataclass
class Run:
    rows: int
    contender: str
    wall: float
    cpu: float  # user + system seconds: steadier than wall time on a shared machine
    peak_mb: float
    valid: int
    quarantined: int
    reasons: object  # rule id -> quarantined rows naming it


def measure(cmd: list[str], cwd: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MB) of one fresh child process.

    Linux carries a process's peak RSS across fork + exec, so a child forked straight from this
    (larger) process would report at least this process's peak. GNU time forks the child from a
    small process; without it, this process stays small (data generation runs in a child)."""
    out, err, peak_file = cwd / "stdout.txt", cwd / "stderr.txt", cwd / "peak.txt"
    if TIME_BIN.exists():
        cmd = [str(TIME_BIN), "-f", "%M", "-o", str(peak_file), *cmd]
    with open(out, "wb") as o, open(err, "wb") as e:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=o, stderr=e, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # meshc run exits 1 when a threshold fails; the outputs are written
        raise SystemExit(f"{' '.join(cmd)} failed ({code}):\n{err.read_text()[-3000:]}")
    kib = int(peak_file.read_text().split()[-1]) if TIME_BIN.exists() else usage.ru_maxrss
    return wall, usage.ru_utime + usage.ru_stime, kib / 1024


def summarise(valid: Path, quarantine: Path) -> dict[str, object]:
    """Row counts and reasons per rule id, read back from the written files (in a child process,
    so this process stays small)."""
    code = (
        "import json, sys, polars as pl\n"
        "v, q = sys.argv[1:3]\n"
        "reasons = pl.scan_parquet(q).select(pl.col('_meshc_reasons').explode()"
        ".struct.field('rule_id')).group_by('rule_id').len().collect()\n"
        "print(json.dumps({'valid': pl.scan_parquet(v).select(pl.len()).collect().item(),"
        " 'quarantined': pl.scan_parquet(q).select(pl.len()).collect().item(),"
        " 'reasons': dict(sorted(reasons.iter_rows()))}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(valid), str(quarantine)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout)


def contender_cmd(contender: str, contract: Path, csv: Path, valid: Path, quar: Path) -> list[str]:
    if contender == "handwritten":
        return [sys.executable, str(HANDWRITTEN), str(csv), str(valid), str(quar)]
    return [
        sys.executable,
        "-m",
        "meshc",
        "run",
        "-c",
        str(contract),
        "--source",
        str(csv),
        "--engine",
        contender,
        "--output",
        str(valid),
        "--quarantine",
        str(quar),
        "--format",
        "json",
    ]


def run_one(contender: str, rows: int, workdir: Path, contract: Path, csv: Path) -> Run:
    valid, quar = workdir / f"{contender}-valid.parquet", workdir / f"{contender}-quar.parquet"
    for p in (valid, quar):
        p.unlink(missing_ok=True)
    cmd = contender_cmd(contender, contract, csv, valid, quar)
    wall, cpu, peak = measure(cmd, workdir)
    summary = summarise(valid, quar)
    run = Run(
        rows,
        contender,
        wall,
        cpu,
        peak,
        int(summary["valid"]),  # type: ignore[call-overload]
        int(summary["quarantined"]),
        summary["reasons"],
    )  # type: ignore[call-overload]
    for p in (valid, quar):
        p.unlink(missing_ok=True)
    return run


def best(runs: list[Run]) -> Run:
    """The median wall time of the repeats, with the largest peak memory seen."""
    ordered = sorted(runs, key=lambda r: r.wall)
    pick = ordered[len(ordered) // 2]
    pick.peak_mb = max(r.peak_mb for r in runs)
    pick.wall = statistics.median(r.wall for r in runs)
    pick.cpu = statistics.median(r.cpu for r in runs)
    return pick


def main() -> None:
    if sys.argv[1:2] == ["--generate"]:
        generate(Path(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--engines", nargs="+", default=["polars", "duckdb"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/meshc-bench"))
    parser.add_argument(
        "--clean",
        action="store_true",
        help="delete the generated CSVs at the end (default: keep for reuse)",
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    contract = args.workdir / "bench_orders.yaml"
    contract.write_text(CONTRACT)
    results: list[Run] = []
    mismatches = []
    for rows in args.rows:
        csv = args.workdir / f"orders_{rows}.csv"
        if not csv.exists():
            print(f"generating {csv} ...", file=sys.stderr, flush=True)
            # in a child: this process must stay small (see measure)
            subprocess.run(
                [sys.executable, __file__, "--generate", str(csv), str(rows)], check=True
            )
        print(f"{rows:,} rows: {csv.stat().st_size / 1e6:.0f} MB of CSV", file=sys.stderr)
        for contender in ["handwritten", *args.engines]:
            runs = []
            for _ in range(args.repeat):
                runs.append(run_one(contender, rows, args.workdir, contract, csv))
                print(
                    f"  {contender}: {runs[-1].wall:.2f} s wall, {runs[-1].cpu:.2f} s CPU, "
                    f"{runs[-1].peak_mb:.0f} MB",
                    file=sys.stderr,
                    flush=True,
                )
            results.append(best(runs))
        base = next(r for r in results if r.rows == rows and r.contender == "handwritten")
        for r in results:
            if r.rows == rows and r.contender != "handwritten":
                mine, theirs = (
                    (r.valid, r.quarantined, r.reasons),
                    (base.valid, base.quarantined, base.reasons),
                )
                if mine != theirs:
                    mismatches.append(
                        f"MISMATCH at {rows:,} rows: {r.contender} {mine} vs handwritten {theirs}"
                    )
        if args.clean:
            csv.unlink()
    print_table(results)
    for line in mismatches:
        print(f"\n!!! {line}", file=sys.stderr)
    sys.exit(1 if mismatches else 0)


def print_table(results: list[Run]) -> None:
    sys.stderr.flush()
    print(
        f"\n{'rows':>11}  {'contender':<12} {'wall s':>7} {'CPU s':>7} {'peak MB':>8} "
        f"{'valid':>10} {'quarantined':>11}  {'time x':>6} {'mem x':>6}  "
        f"vs hand-written: time <= {TIME_TARGET}x, memory <= {MEMORY_TARGET}x"
    )
    for r in results:
        base = next(b for b in results if b.rows == r.rows and b.contender == "handwritten")
        tx, mx = r.wall / base.wall, r.peak_mb / base.peak_mb
        verdict = (
            ""
            if r.contender == "handwritten"
            else (
                f"time {'met' if tx <= TIME_TARGET else 'MISSED'}, "
                f"memory {'met' if mx <= MEMORY_TARGET else 'MISSED'}"
            )
        )
        print(
            f"{r.rows:>11,}  {r.contender:<12} {r.wall:>7.2f} {r.cpu:>7.2f} {r.peak_mb:>8.0f} "
            f"{r.valid:>10,} {r.quarantined:>11,}  {tx:>6.2f} {mx:>6.2f}  {verdict}",
            flush=True,
        )


if __name__ == "__main__":
    main()
