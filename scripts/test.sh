#!/usr/bin/env bash
# Runs every test on a fresh machine: starts RabbitMQ and Redis if they are down, runs the
# workspace tests (unit + integration against real RabbitMQ, Redis and the emulator), the
# contract's README examples against its JSON Schemas (python-jsonschema), then the emulator's
# conformance suite (real Salesforce clients). One build profile (dev).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh
# Benches are runners with their own budgets (`cargo bench`), so they are not run here.
cargo test --workspace --lib --bins --tests -- --test-threads="${TEST_THREADS:-4}"
cargo test --workspace --doc
# The contract's documented examples against the printed JSON Schemas, with a standard validator.
tests/contract/run.sh
if [ -x tests/conformance/run.sh ]; then
  tests/conformance/run.sh
fi
