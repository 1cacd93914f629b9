# syntax=docker/dockerfile:1.10
#
# S3-compatible server for the local compose stack: versitygw v1.8.0 (Apache-2.0), built from its
# Go module (checksummed by go.sum / the Go checksum database) instead of a prebuilt image, so the
# exact version the test suite uses (TOOLING.md) is the one compose runs. It enforces SigV4,
# signed Content-Length, If-None-Match and checksums like S3, and honours bucket CORS rules, which
# the browser upload path needs. (MinIO ignores bucket CORS and is AGPL.)
#
# The runtime is busybox (static, ~4 MB) rather than distroless only so that compose can run a
# healthcheck (`wget`) against versitygw's /health endpoint.

ARG GO_VERSION=1.26.8
ARG VERSITYGW_VERSION=v1.8.0

FROM golang:${GO_VERSION}-bookworm AS build
ARG VERSITYGW_VERSION
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOBIN=/out go install -trimpath -ldflags "-s -w" \
      github.com/versity/versitygw/cmd/versitygw@${VERSITYGW_VERSION}

FROM busybox:1.37-musl
COPY --from=build /out/versitygw /usr/local/bin/versitygw
# posix backend directory; owned by the unprivileged user the gateway runs as.
RUN mkdir -p /data && chown 65532:65532 /data
USER 65532:65532
VOLUME ["/data"]
EXPOSE 7070
ENV VGW_PORT=:7070 VGW_HEALTH=/health
ENTRYPOINT ["/usr/local/bin/versitygw"]
CMD ["posix", "/data"]
