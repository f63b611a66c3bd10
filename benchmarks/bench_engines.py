"""meshc against hand-written scripts doing the same work (issue #13), in one paired run.

    python benchmarks/bench_engines.py [--rows 1000000] [--workloads orders wide]
        [--formats csv parquet] [--contenders handwritten floor polars duckdb] [--spark]
        [--repeat 3] [--workdir /tmp/meshc-bench] [--json results.json]
    python benchmarks/bench_engines.py --huge 60      # a >= 60 GB CSV on polars and duckdb
    python benchmarks/bench_engines.py --huge 16 --memory-limit 2   # each child capped at 2 GB

Workloads: `orders` (5 columns, 4 row rules: bench_run.CONTRACT) and `wide` (30 columns, 30 row
rules, hash/partial/redact masking: wide_spec.py). Each source is generated once (seeded, in
chunks) as CSV and as Parquet, and reused. Contenders, each a fresh child process measured with
os.wait4 (wall, CPU) and GNU time (peak RSS), the repeats paired (the order alternates per repeat;
medians are reported):
  handwritten  hand-written lazy Polars script (the baseline, 1.00)
  handwritten-tuned  the same script with reasons (and `hash`) done the faster way meshc does
               them (the same output): the honest lower bound, reported as a second ratio
  floor        the source copied to Parquet with no checks (copy_polars.py)
  polars, duckdb, spark   the real CLI: meshc run --engine E, both outputs as Parquet
  pyspark      hand-written PySpark job, local mode (the baseline for spark; with --spark)
Every contender's valid and quarantined row counts and reasons per rule id must equal the
reference's (the hand-written Polars script's): a difference is printed and the exit code is 1.
A missed speed target is reported, never an error.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from memcap import MemoryCap

HERE = Path(__file__).resolve().parent
PY = sys.executable
TIME_BIN = Path("/usr/bin/time")
MASKING_KEY = "meshc-benchmark-key-not-a-secret"
# contender: (baseline it is compared with, time target, memory target or None)
TARGETS = {
    "polars": ("handwritten", 1.1, 1.0),
    "duckdb": ("handwritten", 1.5, 1.5),
    "spark": ("pyspark", 1.2, None),  # the JVM's memory is not this process tree's RSS
}
UNCHECKED = {"floor"}  # writes the source as it is: nothing to verify
TUNED = "handwritten-tuned"  # the second, faster hand-written baseline (its own ratio columns)


@dataclass
class Run:
    workload: str
    format: str
    contender: str
    wall: float
    cpu: float  # user + system seconds: steadier than wall time on a shared machine
    peak_mb: float
    summary: dict[str, object] = field(default_factory=dict)  # counts and reasons per rule id
    group_peak_mb: float | None = (
        None  # with --memory-limit: the cgroup's peak, page cache included
    )


# -- inputs --------------------------------------------------------------------------------------
def contract_text(workload: str) -> str:
    sys.path.insert(0, str(HERE))
    if workload == "orders":
        import bench_run

        return bench_run.CONTRACT
    import wide_spec

    return wide_spec.contract_yaml()


def prepare(workload: str, rows: int, workdir: Path, huge_gb: float | None) -> dict[str, Path]:
    """The contract and the sources (CSV, Parquet), generated in child processes when missing, so
    this process stays small (see measure)."""
    stem = f"{workload}_{huge_gb:g}gb" if huge_gb else f"{workload}_{rows}"
    csv, parquet = workdir / f"{stem}.csv", workdir / f"{stem}.parquet"
    gen = [PY, str(HERE / "datagen.py")]
    if not csv.exists():
        size = ["--gb", str(huge_gb)] if huge_gb else [str(rows)]
        print(f"generating {csv} ...", file=sys.stderr, flush=True)
        subprocess.run([*gen, workload, str(csv), *size], check=True)
    if not huge_gb and not parquet.exists():
        subprocess.run([*gen, "parquet", str(csv), str(parquet)], check=True)
    contract = workdir / f"bench_{workload}.yaml"
    contract.write_text(contract_text(workload))
    return {"contract": contract, "csv": csv, "parquet": parquet}


def command(
    contender: str, workload: str, inputs: dict[str, Path], fmt: str, out: Path
) -> list[str]:
    source, valid, quar = str(inputs[fmt]), str(out / "valid.parquet"), str(out / "quar.parquet")
    if contender in ("handwritten", TUNED):
        script = "handwritten_polars.py" if workload == "orders" else "handwritten_wide_polars.py"
        tuned = ["--tuned-reasons"] if contender == TUNED else []
        return [PY, str(HERE / script), source, valid, quar, *tuned]
    if contender == "floor":
        return [PY, str(HERE / "copy_polars.py"), source, valid]
    if contender == "pyspark":
        return [PY, str(HERE / "handwritten_pyspark.py"), workload, source, valid, quar]
    return [PY, "-m", "meshc", "run", "-c", str(inputs["contract"]), "--source", source] + [
        "--engine",
        contender,
        "--output",
        valid,
        "--quarantine",
        quar,
        "--format",
        "json",
    ]


# -- one run -------------------------------------------------------------------------------------
def measure(
    cmd: list[str], out: Path, env: dict[str, str], cap: MemoryCap | None = None
) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MB) of one fresh child process, inside `cap`'s
    memory cgroup when given.

    Linux carries a process's peak RSS across fork + exec, so a child forked straight from this
    process would report at least this process's peak: GNU time forks the child from a small
    process (and this process never imports a dataframe library)."""
    peak_file = out / "peak.txt"
    if TIME_BIN.exists():
        cmd = [str(TIME_BIN), "-f", "%M", "-o", str(peak_file), *cmd]
    with open(out / "stdout.txt", "wb") as o, open(out / "stderr.txt", "wb") as e:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdout=o, stderr=e, cwd=out, env=env, preexec_fn=cap.enter if cap else None
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    tail = (out / "stderr.txt").read_text()[-3000:]
    if cap and (code in (-9, 137) or "signal 9" in tail):
        raise SystemExit(
            f"{' '.join(cmd)} was killed by the kernel: over the memory limit of "
            f"{cap.limit / 2**30:g} GiB (memory not bounded)"
        )
    if code not in (0, 1):  # meshc run exits 1 when a threshold fails; the outputs are written
        raise SystemExit(f"{' '.join(cmd)} failed ({code}):\n{tail}")
    kib = int(peak_file.read_text().split()[-1]) if TIME_BIN.exists() else usage.ru_maxrss
    return wall, usage.ru_utime + usage.ru_stime, kib / 1024


SUMMARY = """
import json, sys, polars as pl
def scan(path):  # a Spark job writes a folder of part files
    return pl.scan_parquet(path + "/*.parquet" if path.endswith("/") else path)
v, q = sys.argv[1:3]
out = {"valid": scan(v).select(pl.len()).collect().item()}
if q != "-":
    reasons = scan(q).select(pl.col("_meshc_reasons").explode().struct.field("rule_id"))
    out["quarantined"] = scan(q).select(pl.len()).collect().item()
    out["reasons"] = dict(sorted(reasons.group_by("rule_id").len().collect().iter_rows()))
print(json.dumps(out))
"""


def summarise(out: Path, contender: str) -> dict[str, object]:
    """Row counts and reasons per rule id, read back from the written files (in a child)."""

    def path(name: str) -> str:
        p = out / name
        return f"{p}/" if p.is_dir() else str(p)

    quar = "-" if contender in UNCHECKED else path("quar.parquet")
    done = subprocess.run(
        [PY, "-c", SUMMARY, path("valid.parquet"), quar], check=True, capture_output=True, text=True
    )
    return dict(json.loads(done.stdout))


def run_once(contender: str, workload: str, fmt: str, inputs: dict[str, Path], args) -> Run:  # type: ignore[no-untyped-def]
    out = args.workdir / "runs" / f"{workload}-{fmt}-{contender}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = {**os.environ, "MESHC_MASKING_KEY": MASKING_KEY}
    if args.sabotage_handwritten and contender in ("handwritten", TUNED):
        env["MESHC_BENCH_SABOTAGE"] = "1"
    cap = None
    if args.memory_limit:
        cap = MemoryCap(int(args.memory_limit * 2**30), f"meshc-bench-{os.getpid()}")
    try:
        wall, cpu, peak = measure(command(contender, workload, inputs, fmt, out), out, env, cap)
    finally:
        group_peak = cap.peak_mb() if cap else None
        if cap:
            cap.remove()
    run = Run(workload, fmt, contender, wall, cpu, peak, summarise(out, contender), group_peak)
    shutil.rmtree(out, ignore_errors=True)
    return run


def paired(workload: str, fmt: str, inputs: dict[str, Path], args) -> list[list[Run]]:  # type: ignore[no-untyped-def]
    """Every contender once per repeat, the order reversed on every other repeat (A B C, C B A,
    ...), so a slow minute of the shared machine falls on all of them alike."""
    runs: dict[str, list[Run]] = {c: [] for c in args.contenders}
    for rep in range(args.repeat):
        order = args.contenders if rep % 2 == 0 else args.contenders[::-1]
        for contender in order:
            run = run_once(contender, workload, fmt, inputs, args)
            runs[contender].append(run)
            print(
                f"  {workload}/{fmt} {contender}: {run.wall:.2f} s wall, {run.cpu:.2f} s CPU, "
                f"{run.peak_mb:.0f} MB"
                + ("" if run.group_peak_mb is None else f" (cgroup {run.group_peak_mb:.0f} MB)"),
                file=sys.stderr,
                flush=True,
            )
    return list(runs.values())


def median_run(runs: list[Run]) -> Run:
    first = runs[0]
    return Run(
        first.workload,
        first.format,
        first.contender,
        statistics.median(r.wall for r in runs),
        statistics.median(r.cpu for r in runs),
        statistics.median(r.peak_mb for r in runs),
        first.summary,
        max((r.group_peak_mb for r in runs if r.group_peak_mb is not None), default=None),
    )


def differences(groups: list[list[Run]]) -> list[str]:
    """Every run of every checked contender against the reference's first run."""
    checked = [g for g in groups if g[0].contender not in UNCHECKED]
    if not checked:
        return []
    ref = next((g for g in checked if g[0].contender == "handwritten"), checked[0])[0]
    found = []
    for group in checked:
        for run in group:
            if run.summary != ref.summary:
                found.append(
                    f"MISMATCH {run.workload}/{run.format}: {run.contender} {run.summary}"
                    f" vs {ref.contender} {ref.summary}"
                )
    return found


# -- report --------------------------------------------------------------------------------------
def ratios(run: Run, medians: list[Run]) -> dict[str, object]:
    base_name, time_target, mem_target = TARGETS.get(run.contender, ("handwritten", None, None))
    if run.contender == "pyspark":
        base_name = "handwritten"
    base = _find(medians, run, base_name)
    if base is None:
        return {}
    tx, mx = run.wall / base.wall, run.peak_mb / base.peak_mb
    row: dict[str, object] = {
        "baseline": base_name,
        "time_x": tx,
        "cpu_x": run.cpu / base.cpu,
        "memory_x": mx,
    }
    tuned = _find(medians, run, TUNED) if base_name == "handwritten" else None
    if tuned is not None:  # the same ratios against the tuned script: the honest lower bound
        row["tuned_time_x"] = run.wall / tuned.wall
        row["tuned_cpu_x"] = run.cpu / tuned.cpu
        row["tuned_memory_x"] = run.peak_mb / tuned.peak_mb
    if time_target is not None:
        row["time_target"], row["time_met"] = time_target, tx <= time_target
    if mem_target is not None:
        row["memory_target"], row["memory_met"] = mem_target, mx <= mem_target
    return row


def _find(medians: list[Run], run: Run, contender: str) -> Run | None:
    key = (run.workload, run.format, contender)
    return next((m for m in medians if (m.workload, m.format, m.contender) == key), None)


def verdict(row: dict[str, object]) -> str:
    parts = []
    for what in ("time", "memory"):
        if f"{what}_target" in row:
            met = "met" if row[f"{what}_met"] else "NOT MET"
            parts.append(f"{what} <= {row[f'{what}_target']}x {met}")
    return ", ".join(parts)


def print_table(medians: list[Run]) -> list[dict[str, object]]:
    rows = []
    print(
        f"\n{'workload/format':<16} {'contender':<17} {'wall s':>7} {'CPU s':>7} {'peak MB':>8} "
        f"{'valid':>10} {'quarantined':>11} {'time x':>6} {'CPU x':>6} {'mem x':>6} "
        f"{'tuned: time x':>13} {'CPU x':>6} {'mem x':>6}  target"
    )
    for run in medians:
        row = {**asdict(run), **ratios(run, medians)}
        rows.append(row)
        s = run.summary
        print(
            f"{run.workload + '/' + run.format:<16} {run.contender:<17} {run.wall:>7.2f} "
            f"{run.cpu:>7.2f} {run.peak_mb:>8.0f} {s.get('valid', 0):>10,} "
            f"{_count(s.get('quarantined')):>11} "
            f"{_x(row, 'time_x')} {_x(row, 'cpu_x')} {_x(row, 'memory_x')} "
            f"{_x(row, 'tuned_time_x', 13)} {_x(row, 'tuned_cpu_x')} "
            f"{_x(row, 'tuned_memory_x')}  "
            f"{verdict(row)}",
            flush=True,
        )
    return rows


def _x(row: dict[str, object], key: str, width: int = 6) -> str:
    value = row.get(key)
    return f"{'' if value is None else f'{value:.2f}':>{width}}"


def _count(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else "-"


def machine() -> dict[str, object]:
    from importlib.metadata import PackageNotFoundError, version

    def v(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "-"

    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "nproc": os.cpu_count(),
        "ram_gib": round(ram, 1),
        "python": sys.version.split()[0],
        **{n: v(n) for n in ("polars", "duckdb", "pyarrow", "pyspark", "meshc")},
        "load_average": os.getloadavg(),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--workloads", nargs="+", choices=["orders", "wide"], default=["orders", "wide"]
    )
    parser.add_argument(
        "--formats", nargs="+", choices=["csv", "parquet"], default=["csv", "parquet"]
    )
    parser.add_argument(
        "--contenders",
        nargs="+",
        default=None,
        choices=["handwritten", TUNED, "floor", "polars", "duckdb", "spark", "pyspark"],
    )
    parser.add_argument(
        "--spark", action="store_true", help="add meshc spark and hand-written PySpark"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/meshc-bench"))
    parser.add_argument(
        "--json", type=Path, help="also write the results (and what was verified) here"
    )
    parser.add_argument(
        "--huge",
        type=float,
        metavar="GB",
        help="orders as a CSV of at least GB gigabytes; polars and duckdb, 1 repeat",
    )
    parser.add_argument(
        "--memory-limit",
        type=float,
        metavar="GB",
        help="run each contender in a memory cgroup of GB GiB (root; killed if it needs more)",
    )
    parser.add_argument(
        "--sabotage-handwritten",
        action="store_true",
        help="the hand-written script ignores one rule (tests the verification)",
    )
    args = parser.parse_args(argv)
    if args.huge:
        args.workloads, args.formats = ["orders"], ["csv"]
        args.contenders = args.contenders or ["polars", "duckdb"]
        args.repeat = 1
    args.contenders = args.contenders or ["handwritten", TUNED, "floor", "polars", "duckdb"]
    if args.spark:
        args.contenders += [c for c in ("pyspark", "spark") if c not in args.contenders]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    info = machine()
    print(f"machine: {info}", file=sys.stderr)
    medians, mismatches = [], []
    for workload in args.workloads:
        inputs = prepare(workload, args.rows, args.workdir, args.huge)
        for fmt in args.formats:
            groups = paired(workload, fmt, inputs, args)
            mismatches += differences(groups)
            medians += [median_run(g) for g in groups]
    rows = print_table(medians)
    for line in mismatches:
        print(f"\n!!! {line}", file=sys.stderr)
    verified = sorted(
        {f"{r.workload}/{r.format}/{r.contender}" for r in medians}
        - {f"{r.workload}/{r.format}/{r.contender}" for r in medians if r.contender in UNCHECKED}
    )
    if args.json:
        report = {
            "rows": None if args.huge else args.rows,
            "huge_gb": args.huge,
            "repeat": args.repeat,
            "machine": info,
            "results": rows,
            "verified": [] if mismatches else verified,
            "mismatches": mismatches,
        }
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
