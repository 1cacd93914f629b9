#!/usr/bin/env bash
# Static checks on the Go code: gofmt, go vet, staticcheck (pinned).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh staticcheck
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2; echo "$unformatted" >&2; exit 1
fi
go vet ./...
"${WEUPLOAD_TOOLS_DIR:-$HOME/.cache/weupload}/bin/staticcheck" ./...
echo "lint: gofmt, go vet and staticcheck clean"
