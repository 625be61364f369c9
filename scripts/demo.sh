#!/usr/bin/env bash
# Runs the demo on a fresh machine: starts RabbitMQ and Redis if they are down, then runs
# `sfprivacy demo` (in-process emulator with a seeded org, a worker, a few requests, a summary).
#
# The binary is built the way the test command builds it (`cargo test --workspace`, dev
# profile): dev-dependencies change a few crates' features, so a plain `cargo run` would build
# another variant of the tree and the tests after it would rebuild again.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh
cargo test --workspace --no-run --test demo_cli
target_dir=$(cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
exec "${target_dir:-target}/debug/sfprivacy" demo "$@"
