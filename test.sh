#!/usr/bin/env bash
# The whole test suite: lint (ruff), types (mypy and tsc), the layers (import-linter), the web app's unit tests (Vitest), and pytest on
# SQLite and PostgreSQL, browser tests included (tests/e2e/test_web.py, Debian's Chromium).
# PostgreSQL is required (STOA_TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh --test
.venv/bin/ruff check src tests bench
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
(cd web && npm run --silent typecheck && npm test --silent)
exec .venv/bin/pytest "$@"
