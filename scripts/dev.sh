#!/usr/bin/env bash
# make dev: a private PostgreSQL under .data/pg, the local-disk store under
# .data/blobs, migrations applied, a dev user, and the server on
# http://localhost:8080 with live reload (templ watch re-generates views and
# restarts the Go server; the browser reloads through templ's proxy on :7331).
# Set NO_WATCH=1 for a plain server without live reload.
set -euo pipefail
cd "$(dirname "$0")/.."

mkdir -p .data
DATABASE_URL=$(scripts/pg.sh start .data/pg "${DEV_PG_PORT:-54329}" weupload)
export DATABASE_URL
# Dev-only settings: open sign-up, http cookies, a signing key kept in .data/
# so restarts do not invalidate upload URLs. Never use these in production.
[ -f .data/dev-blob-key ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > .data/dev-blob-key
export REGISTRATION=${REGISTRATION:-open}
export BASE_URL=${BASE_URL:-http://localhost:8080}
export LISTEN_ADDR=${LISTEN_ADDR:-127.0.0.1:8080}
export STORAGE_BACKEND=${STORAGE_BACKEND:-disk}
export STORAGE_DIR=${STORAGE_DIR:-.data/blobs}
export BLOB_SIGNING_KEY=${BLOB_SIGNING_KEY:-$(cat .data/dev-blob-key)}

go build -o bin/weupload ./web
bin/weupload migrate up
if printf 'devpassword\n' | bin/weupload user create --email dev@example.com --name "Dev User" --admin --password-stdin >/dev/null 2>&1; then
  echo "dev: created the dev user"
fi
cat <<MSG

  We-Upload dev server: $BASE_URL
  Log in as dev@example.com / devpassword (dev only), or register a new account.
  PostgreSQL: $DATABASE_URL  (stop it with: make dev-stop)

MSG

if [ -n "${NO_WATCH:-}" ] || ! scripts/tools.sh templ >/dev/null 2>&1; then
  exec bin/weupload serve
fi
TEMPL=${WEUPLOAD_TOOLS_DIR:-$HOME/.cache/weupload}/bin/templ
echo "  Live reload: open http://localhost:7331 (proxy) to have the browser reload on changes."
echo
# Tailwind rebuilds CSS on template changes in the background.
if [ -x node_modules/.bin/tailwindcss ]; then
  node_modules/.bin/tailwindcss -c tailwind.config.js -i static/css/input.css -o static/css/app.css --minify --watch=always >/dev/null 2>&1 &
  trap 'kill $! 2>/dev/null' EXIT
fi
"$TEMPL" generate --watch --path . --proxy="$BASE_URL" --proxyport=7331 --open-browser=false \
  --watch-pattern='(.+\.go$)|(.+\.templ$)|(.+\.css$)|(.+\.js$)' --cmd="go run ./web serve"
