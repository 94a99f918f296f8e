# syntax=docker/dockerfile:1
# Multi-stage build on Debian 12: the same CMake flags as CI, a slim runtime
# with only the shared libraries sealbox links, a non-root user, and a layout
# friendly to a read-only root filesystem.
FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake ninja-build ccache pkg-config ca-certificates \
      libboost1.81-dev librocksdb-dev libssl-dev nlohmann-json3-dev libspdlog-dev libpq-dev libyaml-cpp-dev \
      libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc \
      libgtest-dev libgmock-dev libbenchmark-dev libargon2-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEALBOX_BUILD_TESTS=OFF \
    && ninja -C build sealbox \
    && strip -o /sealbox build/server/sealbox

FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      librocksdb7.8 libssl3 libpq5 libspdlog1.10 libfmt9 libyaml-cpp0.7 libgrpc++1.51 libprotobuf32 libargon2-1 \
      ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 sealbox \
    && useradd --system --uid 10001 --gid sealbox --home-dir /sealbox --shell /usr/sbin/nologin sealbox \
    && mkdir -p /sealbox/data /sealbox/config /sealbox/audit /sealbox/tls \
    && chown -R sealbox:sealbox /sealbox
COPY --from=build /sealbox /usr/local/bin/sealbox
USER 10001:10001
VOLUME ["/sealbox/data", "/sealbox/audit"]
EXPOSE 8200
ENV VAULT_ADDR=https://127.0.0.1:8200
# glibc malloc tuned rather than replaced (docs/performance.md, "Allocator").
ENV GLIBC_TUNABLES=glibc.malloc.tcache_count=64
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
  CMD curl -fsk -o /dev/null "https://127.0.0.1:8200/v1/sys/health?standbyok=true&sealedcode=204&uninitcode=204" || exit 1
ENTRYPOINT ["sealbox"]
CMD ["server", "-config", "/sealbox/config/sealbox.hcl"]
