#!/usr/bin/env bash
# The whole test suite: lint (ruff), types (mypy), and pytest on SQLite and PostgreSQL.
# PostgreSQL is required (STOA_TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh
.venv/bin/ruff check src tests bench
.venv/bin/mypy
exec .venv/bin/pytest "$@"
