# The runtime image: `hal9ctl serve`. No container engine runs on the
# development machines, so this file is conventional and kept small; it is
# not built by the test suite.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY runbooks ./runbooks
COPY benches ./benches
RUN cargo build --release --locked --bin hal9ctl

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/hal9 hal9 \
    && mkdir -p /var/lib/hal9 && chown hal9 /var/lib/hal9
COPY --from=build /src/target/release/hal9ctl /usr/local/bin/hal9ctl
USER 10001
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/hal9ctl"]
CMD ["serve", "--state-dir", "/var/lib/hal9"]
