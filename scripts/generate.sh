#!/usr/bin/env bash
# Regenerates every committed generated file: templ views, the Tailwind CSS,
# the vendored htmx. With --check it fails when any of them changes, so CI
# catches a template edited without regenerating.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/tools.sh templ
TEMPL=${WEUPLOAD_TOOLS_DIR:-$HOME/.cache/weupload}/bin/templ
[ -d node_modules/tailwindcss ] || npm ci --no-audit --no-fund --loglevel=error

"$TEMPL" generate -path views >/dev/null
npm run -s css 2>/dev/null
npm run -s htmx

if [ "${1:-}" = --check ]; then
  if ! git diff --exit-code --stat -- views static/css/app.css static/js/htmx.min.js; then
    echo "generated files are stale: run 'make generate' and commit the result" >&2
    exit 1
  fi
  untracked=$(git ls-files --others --exclude-standard -- views static)
  if [ -n "$untracked" ]; then
    echo "generated files not committed: $untracked" >&2
    exit 1
  fi
  echo "generated files are fresh"
fi
