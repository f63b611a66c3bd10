"""The quick-start job: generate the example landing data, then run the whole mesh on Polars.

    python examples/run_mesh.py [--engine polars] [--rows 200] [--root .]

Every contract in contracts/ runs in dependency order (foreign-key parents first, gold last);
valid rows land in lakehouse/silver|gold/..., failing rows in lakehouse/quarantine/... with their
reasons, and the run ends with the data-product table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from demo_key import use_demo_masking_key  # noqa: E402
from generate_landing import generate  # noqa: E402

from meshc.cli.mesh_cmd import run_project  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--engine", default="polars", help="run every domain on this engine (default: polars)"
    )
    parser.add_argument("--rows", type=int, default=200, help="landing rows per dataset")
    parser.add_argument(
        "--root", type=Path, default=HERE.parent, help="project folder holding mesh.yaml"
    )
    args = parser.parse_args()
    root = args.root.resolve()
    generate(root, rows=args.rows)
    use_demo_masking_key()  # a public demo key for `masking: hash`: never for real data
    import os

    os.chdir(root)  # contract sources are relative to the project folder
    statuses = run_project(root / "mesh.yaml", args.engine, root / "lakehouse")
    return 0 if all(s.trust in ("trusted", "degraded") for s in statuses) else 1


if __name__ == "__main__":
    raise SystemExit(main())
