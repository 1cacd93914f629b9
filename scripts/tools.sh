#!/usr/bin/env bash
# Installs the pinned development tools into a cache outside the repository
# (${WEUPLOAD_TOOLS_DIR:-~/.cache/weupload}), one directory per version, so a
# rerun or a version bump never rebuilds what is already there.
#   scripts/tools.sh            templ, staticcheck, versitygw, chromium, curl + jq
#   scripts/tools.sh templ      just the named tools
# The Go tools are built from the Go module proxy with `go install pkg@version`
# (checksums verified by the Go checksum database); the product's go.mod stays
# free of them.
set -euo pipefail

TOOLS_DIR=${WEUPLOAD_TOOLS_DIR:-$HOME/.cache/weupload}
BIN=$TOOLS_DIR/bin
mkdir -p "$BIN"

go_tool() { # name package version
  local name=$1 pkg=$2 version=$3 dest=$TOOLS_DIR/$1-$3
  if [ ! -x "$dest/$name" ]; then
    echo "tools: building $name $version (cached afterwards in $dest)"
    local start=$SECONDS
    GOBIN=$dest GOFLAGS=-mod=mod go install "$pkg@$version"
    echo "tools: $name built in $((SECONDS - start)) s"
  fi
  ln -sf "$dest/$name" "$BIN/$name"
}

# apt_tool installs Debian packages whose commands are missing (root only).
apt_tool() { # command package...
  local cmd=$1; shift
  if command -v "$cmd" >/dev/null 2>&1; then return; fi
  if [ "$(id -u)" != 0 ]; then
    echo "tools: $cmd is missing; install it with: sudo apt-get install -y $*" >&2
    return
  fi
  echo "tools: installing $* from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

want=${*:-templ staticcheck versitygw chromium curl}
for t in $want; do
  case $t in
    templ) go_tool templ github.com/a-h/templ/cmd/templ v0.3.1100 ;;
    staticcheck) go_tool staticcheck honnef.co/go/tools/cmd/staticcheck v0.8.2 ;;
    versitygw) go_tool versitygw github.com/versity/versitygw/cmd/versitygw v1.8.0 ;;
    chromium) apt_tool chromium chromium ;;
    curl) apt_tool curl curl; apt_tool jq jq ;; # the docs/api.md examples test runs them
    *) echo "tools: unknown tool $t" >&2; exit 2 ;;
  esac
done
