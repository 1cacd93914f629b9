#!/usr/bin/env bash
# Regenerates every committed generated file: templ views, the Tailwind CSS,
# the vendored htmx. With --check it fails when any of them changes, so CI
# catches a template edited without regenerating.
# The templ -path is views: templ names each view in the generated code
# relative to it, and make dev's watcher (scripts/dev.sh) uses the same.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/tools.sh templ
TEMPL=${WEUPLOAD_TOOLS_DIR:-$HOME/.cache/weupload}/bin/templ
if [ ! -d node_modules/tailwindcss ] || [ ! -d node_modules/htmx.org ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "generate: node_modules/ is missing (Tailwind CSS, htmx) and npm is not installed; install Node.js and npm, then run: npm ci" >&2
    exit 1
  fi
  echo "generate: node_modules/ is missing; installing Tailwind CSS and htmx with npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

"$TEMPL" generate -path views -log-level warn
# Tailwind reports its progress on stderr; show it only when the build fails.
if ! css_log=$(npm run -s css 2>&1); then
  printf '%s\n' "$css_log" >&2
  echo "generate: the Tailwind CSS build failed (npm run css); see above" >&2
  exit 1
fi
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
