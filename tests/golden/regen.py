"""Regenerate the golden artifacts: `python -m tests.golden.regen` (from the repository root).

Review the diff: every change in emitted Pandera code, GX suites or SQL is a change users see.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "artifacts"
# A few representative contracts: the seed example, one with every field constraint and
# foreign keys, one with CASE rules and dataset rules.
CONTRACTS = (
    "examples/seed/orders.yaml",
    "contracts/crm/orders.yaml",
    "contracts/finance/accounts.yaml",
)


def main() -> None:
    from meshc.cli.compile_cmd import compile_paths

    if GOLDEN.exists():
        shutil.rmtree(GOLDEN)
    written = compile_paths([str(ROOT / c) for c in CONTRACTS], GOLDEN).written
    print(f"wrote {written} golden file(s) under {GOLDEN.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
