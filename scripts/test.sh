#!/usr/bin/env bash
# make test: everything CI runs for the Go code. Starts what the tests need
# (a throw-away PostgreSQL; versitygw and Chromium are started by the tests
# from the tool cache) and runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/tools.sh versitygw chromium curl
export WEUPLOAD_TOOLS_DIR=${WEUPLOAD_TOOLS_DIR:-$HOME/.cache/weupload}

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  dir=$(mktemp -d /tmp/weupload-test-pg.XXXXXX)
  chmod 755 "$dir"
  trap 'scripts/pg.sh stop "$dir"; rm -rf "$dir"' EXIT
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 54330)
  # Durability off: a test cluster trades crash safety for speed.
  TEST_DATABASE_URL=$(PG_EXTRA_OPTS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    scripts/pg.sh start "$dir" "$port" postgres)
  export TEST_DATABASE_URL
fi

# A generous timeout: the web package runs many browser tests, and a loaded
# machine can push it past go test's default of 10 minutes.
go test -count=1 -timeout 30m "${@:-./...}"
