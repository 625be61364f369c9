#!/usr/bin/env bash
# Runs the demo on a fresh machine: starts RabbitMQ and Redis if they are down, then runs
# `sfprivacy demo` (in-process emulator with a seeded org, a worker, a few requests, a summary).
# Uses the dev profile so it reuses the test build.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh
exec cargo run --bin sfprivacy -- demo "$@"
