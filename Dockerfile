# syntax=docker/dockerfile:1

# b2bridge: one static binary on distroless, running as a non-root user.
#
#   docker build -t b2bridge .
#   docker run -p 8080:8080 -v b2bridge-data:/data b2bridge              # embedded demo ERP
#   docker run -e B2BRIDGE_ERP_DSN=postgres://... b2bridge erp seed --if-empty
#
# See docker-compose.yml for the bridge on PostgreSQL (and Oracle, profile "oracle").

# Build stage: Go 1.26 as go.mod's go line asks (1.26.8; the 1.26 tag is its newest patch).
FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0

# The module downloads are their own layer: redone only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags='-s -w' -o /out/b2bridge ./cmd/b2bridge

# /data for the final stage, owned by the non-root user: distroless has no shell to
# mkdir or chown it there.
RUN mkdir -p /out/data && chown 65532:65532 /out/data && chmod 0755 /out/data

# Final stage: no shell, no package manager, CA certificates and tzdata only.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/b2bridge /b2bridge
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532

# Listen on all interfaces inside the container; the embedded ERP, and demo credentials
# written by "erp seed", live in /data.
ENV B2BRIDGE_ADDR=0.0.0.0:8080 \
    B2BRIDGE_DATA=/data
EXPOSE 8080
VOLUME /data

# No curl or wget in distroless: the binary asks its own /readyz.
HEALTHCHECK --interval=10s --timeout=6s --start-period=30s --retries=3 \
    CMD ["/b2bridge", "healthcheck"]

ENTRYPOINT ["/b2bridge"]
CMD ["serve"]
