# syntax=docker/dockerfile:1
# Multi-stage build: a Go builder, then a distroless runtime that has no
# shell and runs as non-root. `make docker` passes the version build args.
ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS builder
WORKDIR /src
# Dependencies first, so that a source change reuses the module layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
ARG REVISION=unknown
ARG BRANCH=unknown
ARG BUILD_DATE=""
# CGO_ENABLED=0: a static binary, which the distroless static image needs.
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
RUN version="${VERSION:-$(cat VERSION)}" && \
    build_date="${BUILD_DATE:-$(date -u +%Y%m%d-%H:%M:%S)}" && \
    pkg=github.com/prometheus/common/version && \
    go build -trimpath -o /out/vb365_exporter \
      -ldflags "-X ${pkg}.Version=${version} -X ${pkg}.Revision=${REVISION} -X ${pkg}.Branch=${BRANCH} -X ${pkg}.BuildUser=docker -X ${pkg}.BuildDate=${build_date}" \
      .

# Built only for `--target simulator` (docker-compose.yml uses it): the
# default target below never needs it.
FROM builder AS simulator-builder
RUN go build -trimpath -o /out/vb365-simulator ./cmd/vb365-simulator

FROM gcr.io/distroless/static-debian12:nonroot AS simulator
COPY --from=simulator-builder /out/vb365-simulator /bin/vb365-simulator
# Numeric, so that Kubernetes' runAsNonRoot can verify it (65532 is
# distroless' nonroot user).
USER 65532:65532
EXPOSE 4443
ENTRYPOINT ["/bin/vb365-simulator"]
CMD ["--listen-address=:4443", "--demo"]

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=""
ARG REVISION=unknown
# RFC 3339, as the OCI annotation wants (BUILD_DATE is promu's format).
ARG CREATED=""
LABEL org.opencontainers.image.title="vb365_exporter" \
      org.opencontainers.image.description="Prometheus exporter for Veeam Backup for Microsoft 365 data retrieval sessions" \
      org.opencontainers.image.url="https://github.com/vb365-exporter/vb365_exporter" \
      org.opencontainers.image.source="https://github.com/vb365-exporter/vb365_exporter" \
      org.opencontainers.image.documentation="https://github.com/vb365-exporter/vb365_exporter#readme" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
COPY --from=builder /out/vb365_exporter /bin/vb365_exporter
COPY LICENSE /LICENSE
# Numeric, so that Kubernetes' runAsNonRoot can verify it (65532 is
# distroless' nonroot user).
USER 65532:65532
EXPOSE 9925
# Mount the config (and the password file it names) at /etc/vb365_exporter.
ENTRYPOINT ["/bin/vb365_exporter"]
CMD ["--config.file=/etc/vb365_exporter/config.yml"]
