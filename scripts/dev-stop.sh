#!/usr/bin/env bash
# make dev-stop: ends everything make dev (scripts/dev.sh) started, that is
# the process groups recorded in .data/dev/*.pid (server, templ watchers,
# Tailwind, make dev itself), then stops the dev PostgreSQL. With --keep-db
# PostgreSQL keeps running (make dev uses that on Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd -P)

# ours says whether process group $1 has a member running in this checkout,
# so a pid file left by a crash never signals a stranger that reused the id.
ours() {
  local pid
  for pid in $(pgrep -g "$1" 2>/dev/null); do
    [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$root" ] && return 0
  done
  return 1
}

groups=()
stopped=""
for f in .data/dev/*.pid; do
  [ -f "$f" ] || continue
  id=$(cat "$f" 2>/dev/null || true)
  rm -f "$f"
  case $id in '' | *[!0-9]*) continue ;; esac
  if [ "$f" = .data/dev/dev.pid ]; then
    # make dev itself leads no group; its exit trap (which runs this
    # script) is the caller when it is our parent.
    if [ "$id" != "$PPID" ] && kill -0 "$id" 2>/dev/null && [ "$(readlink "/proc/$id/cwd")" = "$root" ]; then
      kill -TERM "$id" 2>/dev/null || true
      stopped=1
      # Its trap stops the process groups; wait for it before PostgreSQL.
      for _ in $(seq 75); do kill -0 "$id" 2>/dev/null || break; sleep 0.2; done
    fi
    continue
  fi
  if ours "$id"; then
    kill -TERM -- "-$id" 2>/dev/null || true
    groups+=("$id")
    stopped=1
  fi
done

# Give them 10 s to shut down cleanly (templ stops the server it runs), then
# kill what is left.
for _ in $(seq 50); do
  left=()
  for g in "${groups[@]}"; do pgrep -g "$g" >/dev/null 2>&1 && left+=("$g"); done
  [ ${#left[@]} -eq 0 ] && break
  sleep 0.2
done
for g in "${left[@]}"; do
  echo "dev-stop: process group $g did not stop in 10 s; killing it" >&2
  kill -KILL -- "-$g" 2>/dev/null || true
done
[ -z "$stopped" ] || echo "dev-stop: stopped the dev server and its watchers"

if [ "${1:-}" != --keep-db ]; then
  if scripts/pg.sh status .data/pg; then
    scripts/pg.sh stop .data/pg
    echo "dev-stop: stopped the dev PostgreSQL"
  fi
fi
