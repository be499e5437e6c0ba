#!/usr/bin/env bash
# The unit/integration suite and the browser suite side by side, each on its own PostgreSQL
# test database and Redis database (most of either suite waits on servers, sockets and the
# browser, so two cores finish both sooner than one after the other). The browser suite's
# output is printed after the unit suite's; the exit status fails if either failed.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
DB=${TEST_DATABASE_URL:-postgres://dorami:dorami@127.0.0.1:5432/dorami}
REDIS=${TEST_REDIS_URL:-redis://127.0.0.1:6379/3}
BROWSER_REDIS=${TEST_BROWSER_REDIS_URL:-redis://127.0.0.1:6379/4}
log=$(mktemp "${TMPDIR:-/tmp}/dorami-browser-suite.XXXXXX")
trap 'rm -f "$log"' EXIT

DATABASE_URL=${DB}_browser REDIS_URL=$BROWSER_REDIS DORAMI_TESTING=1 \
  $PY -m pytest -m browser e2e "$@" >"$log" 2>&1 &
browser=$!
DATABASE_URL=$DB REDIS_URL=$REDIS DORAMI_TESTING=1 \
  $PY -m pytest -m "not browser" -p no:playwright --ignore=e2e "$@"
unit_status=$?
wait "$browser"
browser_status=$?
echo "==> browser suite (Playwright, Debian's Chromium)"
cat "$log"
echo "==> unit/integration: exit $unit_status; browser: exit $browser_status"
[ "$unit_status" -eq 0 ] && [ "$browser_status" -eq 0 ]
