#!/usr/bin/env bash
# Set up meshc with every engine and the dev tools, then run the whole test suite
# (Spark runs for real in local mode; Java 17 must be on the machine).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh  # Debian packages the tests need (chromium), installed when root
bash scripts/setup.sh dev
exec .venv/bin/python -m pytest "$@"
