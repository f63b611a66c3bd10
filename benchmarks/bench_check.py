"""Time `meshc check`, each run a fresh process, as a pre-commit hook runs it.

python benchmarks/bench_check.py [PATHS...] [--repeat N] [--against DIR] [--instructions]

By default one contract (contracts/crm/orders.yaml), against issue #13's target: under 0.3 s wall
(median of the runs). `python benchmarks/bench_check.py contracts` times the whole example mesh.
This tree is timed twice: with its cache of compiled rules warm (.meshc_cache/, in a temporary
folder primed by one check: what a pre-commit hook meets when the rules did not change), and
with `--no-cache` (what every check costs when a rule changed: sqlglot is imported), and with
`--no-cache --daemon` against a warm daemon (`meshc daemon start` first, `stop` after): a changed
rule served by a process that imported sqlglot already.

What a user gets: a pip install byte-compiles meshc, so meshc is compiled first (`compileall`
into the package's __pycache__, as pip does; `--no-compile` skips it) and the script prints
whether the bytecode was there before. Every run is `python -P -m meshc check` from the
repository root (its mesh.yaml applies) with PYTHONPATH naming the meshc tree under test.
`--against DIR` (a tree holding another meshc/, e.g. `git archive HEAD | tar -x -C DIR`) runs
that tree too (with its own cache folder, primed like this tree's), alternating with this one
run by run, so a busy minute falls on both: on a
loaded machine compare the CPU seconds (user + system of the child) of such paired runs.
Two reference rows run in the same rotation: Python's start-up alone, and start-up plus
importing sqlglot with its DuckDB dialect, which every check of a contract with SQL rules needs.
`--instructions` also counts each command's instructions once under valgrind's callgrind (slow,
but independent of the machine's load).
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# what a pre-commit hook must never pay for
HEAVY = ("polars", "pandas", "duckdb", "pyspark", "great_expectations", "pandera", "pyarrow")
# what the fast path of a plain `meshc check` line avoids (meshc/cli/check_fast.py)
CLI = ("typer", "pydantic")
TARGET_S = 0.3  # one contract (issue #13)
WARM = "this tree, cache warm"
COLD = "this tree, --no-cache"
DAEMON = "this tree, --no-cache --daemon (warm daemon)"
STARTUP = "python start-up (-c pass)"
Command = tuple[Path, list[str], dict[str, str]]  # (tree holding meshc/, argv, extra environment)
SQLGLOT = "start-up + import sqlglot (DuckDB)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "paths", nargs="*", default=[str(ROOT / "contracts" / "crm" / "orders.yaml")]
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another tree holding meshc/, run paired")
    parser.add_argument("--no-compile", action="store_true", help="leave meshc's bytecode as is")
    parser.add_argument("--instructions", action="store_true", help="also count instructions")
    args = parser.parse_args()
    trees = {"this tree": ROOT} | ({f"{args.against}": args.against} if args.against else {})
    for tree in trees.values():
        _bytecode(tree / "meshc", compile_it=not args.no_compile)
    check = ["-m", "meshc", "check", *args.paths]
    cache = Path(tempfile.mkdtemp(prefix="meshc-bench-cache-"))
    warm = {"MESHC_CACHE_DIR": str(cache)}
    daemons = Path(tempfile.mkdtemp(prefix="meshc-bench-daemon-"))
    commands: dict[str, Command] = {
        WARM: (ROOT, check, warm),
        COLD: (ROOT, [*check, "--no-cache"], {}),
        DAEMON: (ROOT, [*check, "--no-cache", "--daemon"], {"MESHC_DAEMON_DIR": str(daemons)}),
    }
    if args.against:  # an older tree may not know --no-cache: it runs as it is, with its own
        # cache folder (a tree from before the cache ignores the variable)
        their_cache = Path(tempfile.mkdtemp(prefix="meshc-bench-cache-"))
        commands[str(args.against)] = (args.against, check, {"MESHC_CACHE_DIR": str(their_cache)})
    commands[STARTUP] = (ROOT, ["-c", "pass"], {})
    commands[SQLGLOT] = (ROOT, ["-c", "import sqlglot.dialects.duckdb"], {})
    primed = [name for name in (WARM, str(args.against)) if name in commands]
    _paired({name: commands[name] for name in primed}, 1)  # fills the caches
    _daemon(["start"], daemons)
    runs = _paired(commands, args.repeat)
    _daemon(["stop"], daemons)
    shutil.rmtree(daemons, ignore_errors=True)
    print(f"meshc check {' '.join(args.paths)} (run from {ROOT}, {args.repeat} paired runs)")
    print(f"  machine load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for name, (wall, cpu, code) in runs.items():
        exit_text = f", exit {code}" if code is not None else ""
        print(
            f"  {name}: wall median {statistics.median(wall):.3f}s (min {min(wall):.3f}s), "
            f"CPU median {statistics.median(cpu):.3f}s (min {min(cpu):.3f}s){exit_text}"
        )
    for name in (WARM, COLD, DAEMON):
        median = statistics.median(runs[name][0])
        verdict = "met" if median < TARGET_S else "NOT MET"
        print(f"  target for one contract: < {TARGET_S}s wall (median), {name}: {verdict}")
    if args.against:
        theirs = statistics.median(runs[str(args.against)][1])
        for name in (WARM, COLD):
            ours = statistics.median(runs[name][1])
            print(f"  CPU {name} / {args.against}: {ours / theirs:.2f}")
    if args.instructions:
        _instructions(commands)
    for _tree, _argv, extra in commands.values():  # the temporary cache folders
        if "MESHC_CACHE_DIR" in extra:
            shutil.rmtree(extra["MESHC_CACHE_DIR"], ignore_errors=True)
    heavy, cli = _imports(args.paths)
    print(f"  heavy modules imported: {heavy or 'none'}")
    print(f"  typer / pydantic imported: {cli or 'neither'}")


def _daemon(argv: list[str], folder: Path) -> None:
    """`meshc daemon start|stop` for this tree, its socket in `folder`."""
    subprocess.run(
        [sys.executable, "-m", "meshc", "daemon", *argv],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=ROOT,
        env=_environment(ROOT, {"MESHC_DAEMON_DIR": str(folder)}),
    )


def _bytecode(package: Path, *, compile_it: bool) -> None:
    """Report how many of the package's modules had fresh bytecode; compile them as pip does."""
    sources = sorted(package.rglob("*.py"))
    fresh = sum(_has_bytecode(source) for source in sources)
    print(f"{package}: bytecode present for {fresh} of {len(sources)} modules", end="")
    if compile_it and fresh < len(sources):
        compileall.compile_dir(package, quiet=1)
        fresh = sum(_has_bytecode(source) for source in sources)
        print(f", compiled: now {fresh}", end="")
    print()


def _has_bytecode(source: Path) -> bool:
    cached = Path(importlib.util.cache_from_source(str(source)))
    return cached.exists() and cached.stat().st_mtime >= source.stat().st_mtime


def _environment(tree: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree), "PYTHONSAFEPATH": "1", **(extra or {})}


def _paired(
    commands: dict[str, Command], repeat: int
) -> dict[str, tuple[list[float], list[float], int | None]]:
    """Wall and CPU seconds of each command, every repeat running each once, in turn."""
    wall: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    codes: dict[str, int | None] = {}
    names = list(commands)
    for i in range(repeat):
        for name in names if i % 2 == 0 else reversed(names):
            tree, argv, extra = commands[name]
            start = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, *argv],
                stdout=subprocess.DEVNULL,
                cwd=ROOT,
                env=_environment(tree, extra),
            )
            # this child's own CPU seconds: steadier than wall time on a loaded machine
            _, status, usage = os.wait4(proc.pid, 0)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(usage.ru_utime + usage.ru_stime)
            codes[name] = os.waitstatus_to_exitcode(status) if "check" in argv else None
    return {name: (wall[name], cpu[name], codes[name]) for name in names}


def _instructions(commands: dict[str, Command]) -> None:
    if shutil.which("valgrind") is None:
        print("  instructions: valgrind is not installed")
        return
    for name, (tree, argv, extra) in commands.items():
        if "--daemon" in argv:  # the client's count would leave out the daemon's work
            continue
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
            + [sys.executable, *argv],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=_environment(tree, extra),
        )
        found = re.search(r"Collected\s*:\s*(\d+)", proc.stderr)
        count = f"{int(found.group(1)) / 1e6:,.0f} M" if found else "?"
        print(f"  instructions (callgrind) {name}: {count}")


def _imports(paths: list[str]) -> tuple[str, str]:
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
            *paths,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_environment(ROOT),
    )
    lines = probe.stdout.splitlines()
    heavy = next((line[6:] for line in lines if line.startswith("HEAVY=")), "?")
    cli = next((line[4:] for line in lines if line.startswith("CLI=")), "?")
    return heavy, cli


if __name__ == "__main__":
    main()
