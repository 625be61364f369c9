#!/usr/bin/env bash
# The contract's documented examples validated with a standard JSON Schema validator
# (python-jsonschema, pinned in requirements.txt, installed into a local venv) against the
# schemas `sfprivacy schema` prints. Uses the binary the test build made (same features).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

VENV="$HERE/.venv"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"

(cd "$ROOT" && cargo test --quiet --workspace --no-run --test contract_examples)
TARGET_DIR="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
export SFPRIVACY_BIN="$TARGET_DIR/debug/sfprivacy"

echo "== contract: README examples against sfprivacy schema (python-jsonschema)"
cd "$HERE" && "$VENV/bin/python" -m pytest -q -p no:cacheprovider .
