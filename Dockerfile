# syntax=docker/dockerfile:1.10@sha256:865e5dd094beca432e8c0a1d5e1c465db5f998dca4e439981029b3b81fb39ed5
#
# We-Upload container image.
#
#   docker build -t weupload:local --build-arg VERSION=$(git describe --tags --always) \
#                --build-arg COMMIT=$(git rev-parse HEAD) .
#
# Stages:
#   build    compiles the one static binary (templ output, built CSS, htmx and migrations are
#            committed and embedded, so this stage needs Go only).
#   runtime  (default, last stage) distroless/static: CA certificates, tzdata, /etc/passwd with
#            the "nonroot" user (65532), no shell, no package manager. ~2 MB plus the binary.
#   dev      toolchain + air + templ for `docker compose --profile dev up app-dev` (live reload);
#            never shipped.
#
# No HEALTHCHECK on purpose: the ALB target group (GET /readyz) and compose decide health, and a
# Docker HEALTHCHECK would need a shell or a second binary in the image.
# Base images (and the syntax frontend) are pinned by tag and digest: the tag says what it is,
# the digest decides which bytes are built on. Dependabot (.github/dependabot.yml) proposes
# bumps of both; `tfpolicy workflows` (scripts/infra-check.sh) fails on a FROM without a digest.
# Keep the Go version equal to go.mod's and to deploy/compose/versitygw.Dockerfile's.

FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
# Dependencies first so the layer is cached until go.mod/go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download -x
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/weupload ./web

# Live-reload image for the compose "dev" profile: the source is bind-mounted at /src.
FROM golang:1.26.8-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d AS dev
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go install github.com/air-verse/air@v1.67.4 && \
    go install github.com/a-h/templ/cmd/templ@v0.3.1100
WORKDIR /src
ENV LISTEN_ADDR=0.0.0.0:8080
EXPOSE 8080
CMD ["air", "-c", "deploy/compose/air.toml"]

FROM gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639 AS runtime
ARG VERSION=dev
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="weupload" \
      org.opencontainers.image.description="We-Upload: self-hostable multi-user file upload and sharing" \
      org.opencontainers.image.source="https://github.com/weupload/weupload" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"
COPY --from=build /out/weupload /weupload
# Numeric uid:gid so Kubernetes-style runAsNonRoot checks and `docker run --user` agree.
USER 65532:65532
# A soft memory limit for the Go runtime: near it the GC works harder instead of the kernel
# killing the process. Sized for a 1 GiB container; set GOMEMLIMIT to ~75-80% of the container's
# memory (the EC2 unit does, from the instance's memory).
ENV LISTEN_ADDR=0.0.0.0:8080 GOMEMLIMIT=800MiB
EXPOSE 8080
ENTRYPOINT ["/weupload"]
CMD ["serve"]
