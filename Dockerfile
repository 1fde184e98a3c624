# syntax=docker/dockerfile:1
# Pier: one image with both binaries, /usr/local/bin/pier-controller and
# /usr/local/bin/pier-dataplane (the Helm chart picks one with `command`).
#
#   docker build -t pier:0.1.0 .
#
# Build stage: the same Debian packages `./dev deps` installs for building (tests, benchmarks and
# fuzzers excluded), then the `release` CMake preset, only the two shipped targets.
FROM debian:bookworm AS build

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libboost-dev libboost-system-dev libssl-dev \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
      libcpprest-dev prometheus-cpp-dev \
      libyaml-cpp-dev libyaml-dev libcli11-dev libspdlog-dev nlohmann-json3-dev libre2-dev libcrypt-dev \
      libgoogle-perftools-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
# Unit tests are not built (no GoogleTest in this stage); the test suite runs outside the image.
RUN cmake --preset release -DPIER_BUILD_TESTS=OFF \
 && cmake --build --preset release --target pier-controller pier-dataplane \
 && install -D -m 0755 -s build/release/bin/pier-controller /out/usr/local/bin/pier-controller \
 && install -D -m 0755 -s build/release/bin/pier-dataplane /out/usr/local/bin/pier-dataplane

# Runtime stage: only the shared libraries the two binaries link (their dependencies, such as
# libgrpc29 and abseil, come with them) and CA certificates for talking to the API server.
# bookworm-slim keeps coreutils, so the chart's `preStop: sleep` works.
FROM debian:bookworm-slim

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      libgrpc++1.51 libprotobuf32 libssl3 libyaml-cpp0.7 libyaml-0-2 \
      libspdlog1.10 libfmt9 libprometheus-cpp-core1.0 libcpprest2.10 libtcmalloc-minimal4 libre2-9 libcrypt1 \
 && rm -rf /var/lib/apt/lists/*

COPY --from=build /out/ /

# The distroless "nonroot" id, which the chart's securityContext also sets.
USER 65532:65532

# 8080 http, 8443 https, 9090 admin (dataplane); 18000 gRPC, 10254 metrics (controller).
EXPOSE 8080 8443 9090 18000 10254

LABEL org.opencontainers.image.title="pier" \
      org.opencontainers.image.description="Pier: WebSocket-first Kubernetes ingress controller (controller and dataplane)" \
      org.opencontainers.image.version="0.1.0"

ENTRYPOINT ["/usr/local/bin/pier-dataplane"]
