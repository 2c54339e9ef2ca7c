#!/usr/bin/env bash
# Installs the pinned runtime into .venv and starts the app in demo mode (BACKCARE_DEMO=1): a new database
# file gets a synthetic demo history, built here before the first page is served. Demo mode refuses a file
# that is not a demo. For a real deployment: `python -m backcare init --admin NAME`, then
# `BACKCARE_DEMO=0 bash scripts/app.sh` (README.md, Security).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
export BACKCARE_DEMO="${BACKCARE_DEMO:-1}"
if [ "$BACKCARE_DEMO" = 1 ]; then
  echo "BackCare starts in demo mode (BACKCARE_DEMO=1): synthetic clients and public demo accounts, never real" \
       "people. For real use see README.md, Security (python -m backcare init --admin NAME)." >&2
  .venv/bin/python -m backcare demo --if-missing
else
  echo "BackCare starts without demo mode: it uses ${BACKCARE_DB:-data/backcare.duckdb} as it is." >&2
fi
exec .venv/bin/python -m streamlit run app.py "$@"
