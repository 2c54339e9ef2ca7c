#!/usr/bin/env bash
# Installs the pinned runtime and test tools into .venv, makes sure Debian's Chromium is there for
# the browser tests, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
# System packages the tests use: Chromium for the browser tests, poppler-utils (pdftotext) to read handouts,
# PostgreSQL's server binaries for the store tests on PostgreSQL (tests/pg_server.py starts a throwaway server).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing ${missing[*]} for the tests (apt-get)..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) \
      || echo "warning: could not install ${missing[*]}; the tests that need them will fail" >&2
  else
    echo "warning: missing ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
  fi
fi
# The house checks itself first: lint, format and types with zero findings (BACKCARE_SKIP_CHECKS=1 skips them
# while iterating on one test).
if [ "${BACKCARE_SKIP_CHECKS:-0}" != 1 ]; then
  bash scripts/check.sh
fi
# pytest-xdist workers: one more than the cores. A quarter of the suite's time is spent waiting on an app
# server, Chromium or PostgreSQL (a 2-core run kept the cores 62 % busy), so a third worker on 2 cores runs
# while the others wait. BACKCARE_TEST_WORKERS overrides it; pass -n 0 to run in one process.
workers=${BACKCARE_TEST_WORKERS:-$(( $(nproc) + 1 ))}
exec .venv/bin/python -m pytest -n "$workers" "$@"
