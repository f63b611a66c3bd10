"""Wall time of `meshc check`, each run a fresh process, as a pre-commit hook runs it.

python benchmarks/bench_check.py [PATHS...] [--repeat N]

By default one contract (contracts/crm/orders.yaml), against issue #13's target: under 0.3 s wall
(median of the runs). `python benchmarks/bench_check.py contracts` times the whole example mesh.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# what a pre-commit hook must never pay for
HEAVY = ("polars", "pandas", "duckdb", "pyspark", "great_expectations", "pandera", "pyarrow")
# what the fast path of a plain `meshc check` line avoids (meshc/cli/check_fast.py)
CLI = ("typer", "pydantic")
TARGET_S = 0.3  # one contract (issue #13)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "paths", nargs="*", default=[str(ROOT / "contracts" / "crm" / "orders.yaml")]
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    times, cpu = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "meshc", "check", *args.paths], stdout=subprocess.DEVNULL
        )
        # this child's own CPU seconds: steadier than wall time on a loaded machine
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - start)
        cpu.append(usage.ru_utime + usage.ru_stime)
    code = os.waitstatus_to_exitcode(status)
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            # the console entry point, as `meshc check` runs (its fast path skips typer)
            "import sys; from meshc.cli.app import main\n"
            "sys.argv = ['meshc', 'check', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
            f"print('CLI=' + ','.join(m for m in {CLI!r} if m in sys.modules))",
            *args.paths,
        ],
        capture_output=True,
        text=True,
    )
    lines = probe.stdout.splitlines()
    heavy = next((line[6:] for line in lines if line.startswith("HEAVY=")), "?")
    cli = next((line[4:] for line in lines if line.startswith("CLI=")), "?")
    print(f"meshc check {' '.join(args.paths)} (exit {code})")
    median = statistics.median(times)
    verdict = "met" if median < TARGET_S else "NOT MET"
    print(
        f"  wall time: median {median:.3f}s, min {min(times):.3f}s over {args.repeat} runs"
        f" (target for one contract: < {TARGET_S}s, {verdict})"
    )
    print(f"  CPU time (user + system): median {statistics.median(cpu):.3f}s")
    print(f"  heavy modules imported: {heavy or 'none'}")
    print(f"  typer / pydantic imported: {cli or 'neither'}")


if __name__ == "__main__":
    main()
