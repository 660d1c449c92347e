#!/usr/bin/env bash
# Create .venv (if missing) and install Stoa with its test tools into it; install and build the web app
# (web/) when its lock file or sources changed. With --test, also Debian's Chromium for the browser
# tests (Playwright drives /usr/bin/chromium; it never downloads a browser of its own). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
for_tests=false
[ "${1:-}" = "--test" ] && for_tests=true

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.stoa-installed
# Exactly the versions in requirements.lock, each checked against its hash; then Stoa itself. `pip check`
# fails when pyproject.toml asks for something the lock lacks (regenerate it: see the README).
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ requirements.lock -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --require-hashes -r requirements.lock
  .venv/bin/python -m pip install --quiet --no-deps -e .
  .venv/bin/python -m pip check
  touch "$stamp"
fi

if $for_tests && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "The browser tests need Debian's Chromium: sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi

if ! command -v npm >/dev/null; then
  if $for_tests; then
    echo "The web app's tests need Node.js 20+ and npm (apt-get install -y nodejs npm)" >&2
    exit 1
  fi
  echo "npm not found: the web app is not built; / shows the plain landing page" >&2
  exit 0
fi
# npm ci when node_modules is missing or older than the lock file (npm writes node_modules/.package-lock.json).
if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi
# Build when there is no build yet or a source is newer than it.
if [ ! -f web/dist/index.html ] || [ -n "$(find web/src web/public web/index.html web/vite.config.ts \
    web/tsconfig.json web/package-lock.json -newer web/dist/index.html -print -quit)" ]; then
  (cd web && npm run --silent build -- --logLevel warn)
fi
