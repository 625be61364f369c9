#!/usr/bin/env bash
# Conformance: drive sf-emulator with real, unchanged Salesforce clients (simple-salesforce,
# jsforce), installed from the pinned files beside this script into a local venv/node_modules.
# Builds and starts the emulator (HTTPS with the test-only cert) on a free loopback port with a
# small seed, runs both suites, and exits non-zero if either fails.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
FIX="$ROOT/emulator/fixtures/test-only"
SIZE="${CONFORMANCE_SIZE:-3000}"

command -v python3 >/dev/null || { echo "conformance: python3 is required" >&2; exit 1; }
command -v node >/dev/null || { echo "conformance: node is required" >&2; exit 1; }

echo "== conformance: installing clients"
VENV="$HERE/python/.venv"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/python/requirements.txt"
(cd "$HERE/node" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

echo "== conformance: building sf-emulator"
(cd "$ROOT" && cargo build --quiet -p sf-emulator)
TARGET_DIR="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
BIN="$TARGET_DIR/debug/sf-emulator"

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
LOG="$(mktemp)"
"$BIN" --addr "127.0.0.1:$PORT" --seed 42 --size "$SIZE" \
  --tls-cert "$FIX/tls-cert.pem" --tls-key "$FIX/tls-key.pem" >"$LOG" 2>&1 &
EMU_PID=$!
cleanup() { kill "$EMU_PID" 2>/dev/null || true; wait "$EMU_PID" 2>/dev/null || true; rm -f "$LOG"; }
trap cleanup EXIT

export SF_EMULATOR_URL="https://localhost:$PORT"
export REQUESTS_CA_BUNDLE="$FIX/tls-ca.pem"
export NODE_EXTRA_CA_CERTS="$FIX/tls-ca.pem"
export SF_JWT_KEY="$FIX/jwt-private-key.pem"

for _ in $(seq 1 120); do
  if curl -s -o /dev/null --cacert "$FIX/tls-ca.pem" "$SF_EMULATOR_URL/services/data"; then break; fi
  if ! kill -0 "$EMU_PID" 2>/dev/null; then echo "sf-emulator exited:" >&2; cat "$LOG" >&2; exit 1; fi
  sleep 0.5
done

status=0
echo "== conformance: simple-salesforce (pytest)"
(cd "$HERE/python" && "$VENV/bin/python" -m pytest -q -p no:cacheprovider .) || status=1
echo "== conformance: jsforce (node --test)"
(cd "$HERE/node" && node --test test/) || status=1

if [ "$status" -ne 0 ]; then
  echo "== conformance: FAILED (emulator log follows)" >&2
  tail -n 50 "$LOG" >&2
fi
exit "$status"
