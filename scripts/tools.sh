#!/usr/bin/env bash
# Installs the pinned development tools into a cache outside the repository
# (${WEUPLOAD_TOOLS_DIR:-~/.cache/weupload}), one directory per version, so a
# rerun or a version bump never rebuilds what is already there.
#   scripts/tools.sh            templ, staticcheck, versitygw, chromium, clamd, curl + jq
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

# The browser tests need Chromium 148 or newer: the DevTools network
# emulation of the upload tests (internal/browsertest/network.go) is written
# for the protocol of Debian's 148 to 156, the tested range. Older ones are
# upgraded or refused; newer ones are used, with a note.
CHROMIUM_MIN=148 CHROMIUM_TESTED_MAX=156

# chromium_major prints the major version of the Chromium the tests start
# ($CHROMIUM or chromium on PATH), or nothing. Debian's launcher script may
# print shell warnings first, so stderr is dropped and the first dotted
# version number is taken.
chromium_major() {
  local bin=${CHROMIUM:-chromium}
  command -v "$bin" >/dev/null 2>&1 || return 0
  "$bin" --version 2>/dev/null | grep -oE '[0-9]+(\.[0-9]+){2,3}' | head -1 | cut -d. -f1
}

# chromium_tool installs Debian's Chromium when missing, upgrades it when older
# than the tested range, and refuses to go on when it still is.
chromium_tool() {
  apt_tool chromium chromium
  local major
  major=$(chromium_major)
  if [ -z "$major" ]; then
    command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1 || return 0 # missing: apt_tool said how to get it
    echo "tools: cannot read the version of ${CHROMIUM:-chromium} (--version printed no version number)" >&2
    exit 1
  fi
  if [ "$major" -lt "$CHROMIUM_MIN" ] && [ -z "${CHROMIUM:-}" ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "tools: Chromium $major is older than the tested $CHROMIUM_MIN-$CHROMIUM_TESTED_MAX; upgrade it with: sudo apt-get update && sudo apt-get install -y chromium" >&2
      exit 1
    fi
    echo "tools: Chromium $major is older than the tested $CHROMIUM_MIN-$CHROMIUM_TESTED_MAX; upgrading it from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    major=$(chromium_major)
  fi
  if [ -z "$major" ] || [ "$major" -lt "$CHROMIUM_MIN" ]; then
    echo "tools: ${CHROMIUM:-chromium} is Chromium ${major:-of unknown version}; the browser tests need $CHROMIUM_MIN or newer (tested $CHROMIUM_MIN-$CHROMIUM_TESTED_MAX)." >&2
    echo "tools: Debian's newest is $(apt-cache policy chromium 2>/dev/null | awk '/Candidate:/ {print $2}'); enable bookworm-security (or a newer release) in apt, or point CHROMIUM at a newer browser." >&2
    exit 1
  fi
  if [ "$major" -gt "$CHROMIUM_TESTED_MAX" ]; then
    echo "tools: note: Chromium $major is newer than the tested $CHROMIUM_MIN-$CHROMIUM_TESTED_MAX; if the browser tests fail in the DevTools protocol, see internal/browsertest/network.go" >&2
  fi
}

# The virus-scan tests (internal/scan/clamdtest) start Debian's clamd with a
# signature database they write; 1.4 is the tested series (bookworm's
# security updates ship 1.4.x). No freshclam: the tests need no download.
CLAMD_SERIES=1.4

# clamd_tool installs clamav-daemon when clamd is missing and checks its
# version (the daemon's INSTREAM replies are what internal/scan parses).
clamd_tool() {
  if ! command -v clamd >/dev/null 2>&1 && [ -x /usr/sbin/clamd ]; then
    PATH=$PATH:/usr/sbin
  fi
  if ! command -v clamd >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
      echo "tools: clamd is missing; install it with: sudo apt-get install -y clamav-daemon" >&2
      return
    fi
    echo "tools: installing clamav-daemon from Debian"
    apt-get update -qq
    # The package's own service would start freshclam and a system clamd:
    # the tests start their own, so keep the package's units from starting.
    local policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      policy=/usr/sbin/policy-rc.d
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clamav-daemon >/dev/null
    if [ -n "$policy" ]; then rm -f "$policy"; fi
    PATH=$PATH:/usr/sbin
  fi
  local version
  version=$(clamd --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1)
  case $version in
    "$CLAMD_SERIES".*) ;;
    *) echo "tools: note: clamd ${version:-of unknown version}; the scan tests are written against $CLAMD_SERIES.x" >&2 ;;
  esac
}

want=${*:-templ staticcheck versitygw chromium clamd curl}
for t in $want; do
  case $t in
    templ) go_tool templ github.com/a-h/templ/cmd/templ v0.3.1100 ;;
    staticcheck) go_tool staticcheck honnef.co/go/tools/cmd/staticcheck v0.8.2 ;;
    versitygw) go_tool versitygw github.com/versity/versitygw/cmd/versitygw v1.8.0 ;;
    chromium) chromium_tool ;;
    clamd) clamd_tool ;;
    curl) apt_tool curl curl; apt_tool jq jq ;; # the docs/api.md examples test runs them
    *) echo "tools: unknown tool $t" >&2; exit 2 ;;
  esac
done
