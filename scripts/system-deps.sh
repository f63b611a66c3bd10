#!/usr/bin/env bash
# Install the Debian packages the test suite needs that pip cannot provide, when they are missing.
# Runs as root with apt (CI, containers); otherwise it only says what is missing and carries on,
# so a developer without root still gets the tests that do not need these packages.
set -euo pipefail

# One package per line; add yours with the test that needs it.
PACKAGES=(
  chromium  # headless browser for tests/test_docs_site.py (meshc docs)
  postgresql  # initdb/pg_ctl: the real server of tests/storage/test_databases.py
  libpostgresql-jdbc-java  # /usr/share/java/postgresql.jar: Spark reads PostgreSQL via JDBC
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing ${missing[*]} (not root or no apt-get): tests that need them skip" >&2
  exit 0
fi
echo "system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# A package list older than the mirror's files gives 404s: refresh once, then retry.
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
