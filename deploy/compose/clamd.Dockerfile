# syntax=docker/dockerfile:1.10@sha256:865e5dd094beca432e8c0a1d5e1c465db5f998dca4e439981029b3b81fb39ed5
#
# ClamAV's daemon for the local compose stack: Debian 12's clamav-daemon (1.4.x from
# bookworm-security, the version the scan tests run against), with freshclam keeping the
# signatures current in the same container. The app streams each stored file to it (INSTREAM on
# TCP 3310, internal/scan).
#
# The base is the Debian 12 (bookworm) image the app's Dockerfile already pins by digest: large,
# but no second base image to trust. Dependabot proposes bumps (see ../../Dockerfile).

# Not pinned to a package version (DL3008): bookworm-security replaces clamav's version with
# each ClamAV security release, and an outdated scanner is the greater risk.
FROM golang:1.26.8-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends clamav-daemon clamav-freshclam \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /run/clamav && chown clamav:clamav /run/clamav /var/lib/clamav
COPY clamd.conf /etc/clamav/clamd.conf
COPY clamd-start.sh /usr/local/bin/clamd-start
USER clamav
VOLUME ["/var/lib/clamav"]
EXPOSE 3310
ENTRYPOINT ["/usr/local/bin/clamd-start"]
