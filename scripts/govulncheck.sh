#!/usr/bin/env bash
# Go vulnerability gate, run by ci.yml and by release.yml before the image is pushed: ECR's
# basic scan sees the image's OS packages only, not the Go modules compiled into the binary.
#
#   scripts/govulncheck.sh     govulncheck (pinned below) on ./..., against vuln.go.dev
#
# Fails when a known-vulnerable function is reachable from our code, and also when govulncheck
# gave no usable result (database unreachable, build error, truncated or malformed output): a
# missing result never counts as clean. Vulnerabilities in packages or modules we depend on
# but whose vulnerable functions we never call are listed, and do not fail (as in govulncheck's
# own text mode).
#
# GOVULNCHECK=CMD runs CMD instead of the pinned govulncheck: the tests use a stub that plays
# recorded outputs, since vuln.go.dev cannot be reached from the build machines.
set -euo pipefail

VERSION=v1.10.0
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() {
  echo "::error::govulncheck: $*"
  exit 1
}

command -v jq >/dev/null 2>&1 || fail "jq is required to read the JSON result"
out=$(mktemp)
trap 'rm -f "$out"' EXIT

cmd=(go run "golang.org/x/vuln/cmd/govulncheck@$VERSION")
[ -n "${GOVULNCHECK:-}" ] && cmd=("$GOVULNCHECK")
# JSON mode exits 0 whether or not something was found, and non-zero only when the scan failed.
"${cmd[@]}" -format json ./... >"$out" || fail "the scan failed (exit $?); no result"

# The output is a stream of JSON messages; a truncated stream does not parse.
jq -s . "$out" >/dev/null 2>&1 || fail "output is not valid JSON; no result"

# The config message carries the database's modification time only when the database was read.
read -r db modified level < <(jq -rs '[.[] | .config // empty][0] // {} |
  "\(.db // "-") \(.db_last_modified // "-") \(.scan_level // "-")"' "$out")
[ "$modified" != - ] || fail "no vulnerability database was read (db: $db); no result"
[ "$level" = symbol ] || fail "scan level is $level, not symbol: reachability unknown; no result"

# A finding is reachable when its trace starts at a function (symbol level).
called=$(jq -rs '[.[] | .finding // empty | select(.trace[0].function) | .osv] | unique | join(" ")' "$out")
other=$(jq -rs '[.[] | .finding // empty | select(.trace[0].function | not) | .osv] | unique | join(" ")' "$out")
echo "govulncheck: database $db of $modified"
[ -z "$other" ] || echo "govulncheck: in dependencies, not called (informational): $other"
[ -z "$called" ] || fail "vulnerable code is called: $called (details: go run golang.org/x/vuln/cmd/govulncheck@$VERSION ./...)"
echo "govulncheck: no called vulnerabilities"
