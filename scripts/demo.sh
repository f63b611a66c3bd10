#!/usr/bin/env bash
# Quick start: set up meshc (base install only: Polars, the embedded default) and run the
# multi-domain example mesh end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python examples/run_mesh.py "$@"
