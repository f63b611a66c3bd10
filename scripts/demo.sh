#!/usr/bin/env bash
# Quick start: set up meshc (meshc[polars]: Polars, the embedded default engine) and run the
# multi-domain example mesh end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# `masking: hash` is a keyed hash (HMAC-SHA256) and meshc refuses to run it without a key. This is
# a PUBLIC DEMO KEY (the same as examples/demo_key.py): never use it for real data. For real data,
# make a secret one with `python -c "import secrets; print(secrets.token_hex(32))"` and pass it as
# MESHC_MASKING_KEY or MESHC_MASKING_KEY_FILE (docs/governance.md). An exported key wins.
if [[ -z "${MESHC_MASKING_KEY:-}" && -z "${MESHC_MASKING_KEY_FILE:-}" ]]; then
  export MESHC_MASKING_KEY="meshc-demo-masking-key-PUBLIC-not-for-real-data"
fi
exec .venv/bin/python examples/run_mesh.py "$@"
