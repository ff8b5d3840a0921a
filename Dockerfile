# The runtime image: `hal9ctl serve`. The test suite builds this very file
# (scripts/k8s-node.sh image) and runs it in real pods, so the file users
# build is the file that was tested.
#
#   docker build -t hal9ctl:0.1.0 .
#       compiles hal9ctl in the `build` stage (needs the rust and debian images).
#   DOCKER_BUILDKIT=1 docker build --build-arg BINARY=prebuilt -t hal9ctl:test DIR
#       takes an already built binary, DIR/hal9ctl, instead (the tests, offline:
#       debian:bookworm-slim is then a debootstrapped bookworm minbase imported
#       under that tag, and nothing reaches for a registry). BuildKit skips the
#       stage that is not chosen; the classic builder would try to build both.
ARG BINARY=build

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY runbooks ./runbooks
COPY benches ./benches
RUN cargo build --release --locked --bin hal9ctl && cp target/release/hal9ctl /hal9ctl

FROM scratch AS prebuilt
COPY hal9ctl /hal9ctl

FROM ${BINARY} AS binary

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/hal9 hal9 \
    && mkdir -p /var/lib/hal9 && chown hal9 /var/lib/hal9
COPY --from=binary /hal9ctl /usr/local/bin/hal9ctl
USER 10001
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/hal9ctl"]
CMD ["serve", "--state-dir", "/var/lib/hal9"]
