#!/usr/bin/env bash
# Run Stoa on http://127.0.0.1:8000 with the embedded store (SQLite under ./stoa-data) and a demo community;
# the web app (web/) is installed (npm ci) and built first when its lock file or sources changed.
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh
exec .venv/bin/stoa serve --demo "$@"
