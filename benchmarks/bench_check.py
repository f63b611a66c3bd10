"""Wall time of `meshc check` on the example contracts, as a pre-commit hook would run it.

python benchmarks/bench_check.py [PATHS...] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# what a pre-commit hook must never pay for
HEAVY = ("polars", "pandas", "duckdb", "pyspark", "great_expectations", "pandera", "pyarrow")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="*", default=[str(ROOT / "contracts")])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "meshc", "check", *args.paths], capture_output=True, text=True
        )
        times.append(time.perf_counter() - start)
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from meshc.cli.app import app\n"
            "try:\n    app(['check', *sys.argv[1:]])\nexcept SystemExit:\n    pass\n"
            f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))",
            *args.paths,
        ],
        capture_output=True,
        text=True,
    )
    heavy = next((line[6:] for line in probe.stdout.splitlines() if line.startswith("HEAVY=")), "?")
    print(f"meshc check {' '.join(args.paths)} (exit {proc.returncode})")
    print(
        f"  wall time: median {statistics.median(times):.3f}s, min {min(times):.3f}s "
        f"over {args.repeat} runs"
    )
    print(f"  heavy modules imported: {heavy or 'none'}")


if __name__ == "__main__":
    main()
