#!/usr/bin/env bash
# make dev: a private PostgreSQL under .data/pg, the local-disk store under
# .data/blobs, migrations applied, a dev user, and the server on
# http://localhost:8080 (the next free port when 8080 is taken) with live
# reload: templ regenerates views, the Go server restarts on Go, CSS and JS
# changes, and the browser reloads through templ's proxy (:7331 or the next
# free port). Set NO_WATCH=1 for a plain server without live reload.
#
# Every long-running process starts in its own process group, recorded in
# .data/dev/*.pid; Ctrl-C or `make dev-stop` (scripts/dev-stop.sh) ends them
# all. Ctrl-C leaves PostgreSQL running for a quick restart; make dev-stop
# stops it too.
set -euo pipefail
cd "$(dirname "$0")/.."

mkdir -p .data/dev
if [ -f .data/dev/dev.pid ] && kill -0 "$(cat .data/dev/dev.pid)" 2>/dev/null; then
  echo "dev: make dev is already running (pid $(cat .data/dev/dev.pid)); stop it with: make dev-stop" >&2
  exit 1
fi
scripts/dev-stop.sh --keep-db # leftovers of a run that was killed
echo $$ > .data/dev/dev.pid
trap 'scripts/dev-stop.sh --keep-db' EXIT
trap 'exit 130' INT
trap 'exit 0' TERM # make dev-stop

# port_busy says whether something listens on the local port.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# free_port prints the first port from $1 on that nobody listens on.
free_port() {
  local p=$1
  while port_busy "$p"; do p=$((p + 1)); done
  echo "$p"
}

pg_port=${DEV_PG_PORT:-54329}
if ! scripts/pg.sh status .data/pg 2>/dev/null && port_busy "$pg_port"; then
  pg_port=$(free_port "$pg_port")
fi
DATABASE_URL=$(scripts/pg.sh start .data/pg "$pg_port" weupload)
export DATABASE_URL

if [ -z "${LISTEN_ADDR:-}" ]; then
  port=$(free_port 8080)
  [ "$port" = 8080 ] || echo "dev: port 8080 is taken; using $port"
  export LISTEN_ADDR=127.0.0.1:$port
fi
port=${LISTEN_ADDR##*:}

# Dev-only settings: open sign-up, http cookies, a signing key kept in .data/
# so restarts do not invalidate upload URLs. Never use these in production.
[ -f .data/dev-blob-key ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > .data/dev-blob-key
export REGISTRATION=${REGISTRATION:-open}
export BASE_URL=${BASE_URL:-http://localhost:$port}
export STORAGE_BACKEND=${STORAGE_BACKEND:-disk}
export STORAGE_DIR=${STORAGE_DIR:-.data/blobs}
export BLOB_SIGNING_KEY=${BLOB_SIGNING_KEY:-$(cat .data/dev-blob-key)}
# An obviously dev-only link key (it seals stored link tokens): fixed, so links made in dev
# keep their URLs across restarts and database resets.
export LINK_KEY=${LINK_KEY:-de7de7de7de7de7de7de7de7de7de7de7de7de7de7de7de7de7de7de7de7de7d}

go build -o bin/weupload ./web
bin/weupload migrate up
if printf 'devpassword\n' | bin/weupload user create --email dev@example.com --name "Dev User" --admin --password-stdin >/dev/null 2>&1; then
  echo "dev: created the dev user"
fi

# start NAME CMD...: runs CMD in a new process group (setsid makes it the
# leader, so its pid is the group id) and records it for dev-stop.
start() {
  local name=$1; shift
  setsid "$@" &
  echo $! > ".data/dev/$name.pid"
}

watch=1
if [ -n "${NO_WATCH:-}" ] || ! scripts/tools.sh templ >/dev/null 2>&1; then watch=""; fi

cat <<MSG

  We-Upload dev server: $BASE_URL
  Log in as dev@example.com / devpassword (dev only), or register a new account.
  PostgreSQL: $DATABASE_URL
  Stop everything with: make dev-stop (Ctrl-C stops all but PostgreSQL)

MSG

if [ -z "$watch" ]; then
  start server bin/weupload serve
  wait
  exit
fi

TEMPL=${WEUPLOAD_TOOLS_DIR:-$HOME/.cache/weupload}/bin/templ
proxy_port=$(free_port 7331)
echo "  Live reload: open http://localhost:$proxy_port (proxy) to have the browser reload on changes."
echo
# Tailwind rebuilds CSS on template changes.
if [ -x node_modules/.bin/tailwindcss ]; then
  start tailwind node_modules/.bin/tailwindcss -c tailwind.config.js -i static/css/input.css -o static/css/app.css --minify --watch=always
else
  echo "dev: CSS is not rebuilt on changes: run 'npm ci' once for Tailwind" >&2
fi
# Two templ watchers. This one restarts the server (its command records the
# server's process group) on Go, CSS and JS changes anywhere and serves the
# reloading proxy; it leaves .templ files alone, because templ names each
# view in the generated code relative to its -path...
start restart "$TEMPL" generate --watch --path . --proxy="$BASE_URL" --proxyport="$proxy_port" --open-browser=false \
  --watch-pattern='(.+\.go$)|(.+\.css$)|(.+\.js$)' \
  --cmd="echo \$\$ > .data/dev/server.pid; exec go run ./web serve"
# ...and this one regenerates the views with the -path of make generate
# (scripts/generate.sh), so the committed *_templ.go files stay unchanged.
# The first ignores generated *_templ.go files, so when a view's Go code
# changes this one touches views/props.go to have the server restart; a
# change of a view's text only shows on the next page load (the server reads
# it from templ's text files). It starts once the first is up, which clears
# the text files when it starts.
for _ in $(seq 100); do port_busy "$proxy_port" && break; sleep 0.2; done
start views "$TEMPL" generate --watch --path views --watch-pattern='(.+\.templ$)' --cmd="touch props.go"
wait
