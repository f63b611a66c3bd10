#!/usr/bin/env bash
# Creates .venv (once) and installs meshc with the given extras, e.g. `scripts/setup.sh dev`;
# without one, `polars`: the default engine (a bare `meshc` install is `meshc check` only).
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-polars}"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
spec="."
[ -n "$extras" ] && spec=".[$extras]"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
