# Multi-stage build of the worker (`sfprivacy`) and the Salesforce emulator (`sf-emulator`).
# The runtime image has no toolchain and runs as an unprivileged user.
FROM rust:1.88-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin sfprivacy --bin sf-emulator

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 sfprivacy \
 && useradd --system --uid 10001 --gid sfprivacy --home-dir /nonexistent --shell /usr/sbin/nologin sfprivacy
COPY --from=build /src/target/release/sfprivacy /usr/local/bin/sfprivacy
COPY --from=build /src/target/release/sf-emulator /usr/local/bin/sf-emulator
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["sfprivacy"]
CMD ["worker"]
