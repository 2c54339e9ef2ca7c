#!/usr/bin/env bash
# Lint, format check and type check with the settings in pyproject.toml; exits non-zero on any finding.
# Runs every check even when an earlier one fails, so one run lists everything to fix.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
status=0
echo "== ruff check"
"$BIN/ruff" check backcare pages app.py tests bench || status=1
echo "== ruff format --check"
"$BIN/ruff" format --check --output-format concise backcare pages app.py tests bench || status=1
echo "== mypy"
"$BIN/mypy" backcare pages app.py || status=1
if [ "$status" -ne 0 ]; then
  echo "check: findings above" >&2
fi
exit "$status"
