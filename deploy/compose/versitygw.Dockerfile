# syntax=docker/dockerfile:1.10@sha256:865e5dd094beca432e8c0a1d5e1c465db5f998dca4e439981029b3b81fb39ed5
#
# S3-compatible server for the local compose stack: versitygw v1.8.0 (Apache-2.0), built from its
# Go module (checksummed by go.sum / the Go checksum database) instead of a prebuilt image, so the
# exact version the test suite uses (TOOLING.md) is the one compose runs. It enforces SigV4,
# signed Content-Length, If-None-Match and checksums like S3, and honours bucket CORS rules, which
# the browser upload path needs. (MinIO ignores bucket CORS and is AGPL.)
#
# The runtime is busybox (static, ~4 MB) rather than distroless only so that compose can run a
# healthcheck (`wget`) against versitygw's /health endpoint.

#
# Base images are pinned by tag and digest (Dependabot proposes bumps; see ../../Dockerfile).

ARG VERSITYGW_VERSION=v1.8.0

FROM golang:1.26.8-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d AS build
ARG VERSITYGW_VERSION
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOBIN=/out go install -trimpath -ldflags "-s -w" \
      github.com/versity/versitygw/cmd/versitygw@${VERSITYGW_VERSION}

FROM busybox:1.37-musl@sha256:fc6dddc4c44b1bfe37f41cae8e67d1693828e8f42a91862816d7953e2c9d3f23
COPY --from=build /out/versitygw /usr/local/bin/versitygw
# posix backend directory; owned by the unprivileged user the gateway runs as.
RUN mkdir -p /data && chown 65532:65532 /data
USER 65532:65532
VOLUME ["/data"]
EXPOSE 7070
ENV VGW_PORT=:7070 VGW_HEALTH=/health
ENTRYPOINT ["/usr/local/bin/versitygw"]
CMD ["posix", "/data"]
