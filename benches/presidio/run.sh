#!/usr/bin/env bash
# Side-by-side benchmark: sfprivacy's classifier vs Microsoft Presidio's analyzer (pattern
# recognizers, blank spaCy pipeline) on the same labelled CSV, one core each (taskset -c 0).
# Prints throughput (MB/s, values/s) and field-level precision/recall/F1 of both.
#
# usage: benches/presidio/run.sh            (ROWS=20000 WORK=/tmp/sfprivacy-bench by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${ROWS:-20000}
WORK=${WORK:-/tmp/sfprivacy-bench}
VENV=${VENV:-$WORK/venv}
mkdir -p "$WORK"
PIN=""
command -v taskset >/dev/null && PIN="taskset -c 0"

# PROFILE=release (default) or dev; the dev profile builds deps at opt-level 2, this crate at 0.
PROFILE=${PROFILE:-release}
cargo build --profile "$PROFILE" --bin sfprivacy >&2
DIR=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
BIN=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/$DIR/sfprivacy
if [ ! -x "$VENV/bin/python" ]; then
  # Presidio 2.2.358 and spaCy 3.8 from PyPI; no spaCy model is downloaded (blank pipeline).
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r benches/presidio/requirements.txt >&2
fi

python3 benches/presidio/gen_data.py "$ROWS" "$WORK/data.csv" "$WORK/truth.json"

# Ours: best of 5 runs of the whole command (process start, CSV parsing and classification).
best=""
for _ in 1 2 3 4 5; do
  t0=$(date +%s.%N)
  $PIN "$BIN" classify --confidence medium "$WORK/data.csv" > "$WORK/ours.json"
  t1=$(date +%s.%N)
  t=$(python3 -c "print($t1 - $t0)")
  best=$(python3 -c "b='$best'; print(min(float(b), $t) if b else $t)")
done

$PIN "$VENV/bin/python" benches/presidio/presidio_classify.py "$WORK/data.csv" > "$WORK/presidio.json"

"$BIN" score --report "$WORK/ours.json" --truth "$WORK/truth.json" --object bench > "$WORK/ours.score.json"
"$BIN" score --report "$WORK/presidio.json" --truth "$WORK/truth.json" --object bench > "$WORK/presidio.score.json"

python3 - "$WORK" "$best" <<'PY'
import json, sys
work, ours_s = sys.argv[1], float(sys.argv[2])
p = json.load(open(f"{work}/presidio.json"))["timing"]
values, nbytes = p["values"], p["bytes"]
o = json.load(open(f"{work}/ours.score.json"))["overall"]
q = json.load(open(f"{work}/presidio.score.json"))["overall"]
print(f"values: {values}, bytes: {nbytes}")
def m(v):
    # `score` reports a metric with no support (nothing found, nothing true) as null.
    return "n/a" if v is None else f"{v:.3f}"
print("| engine | seconds | values/s | MB/s | precision | recall | F1 |")
print("|---|---|---|---|---|---|---|")
print(f"| sfprivacy | {ours_s:.3f} | {values/ours_s:,.0f} | {nbytes/ours_s/1e6:.2f} | {m(o['precision'])} | {m(o['recall'])} | {m(o['f1'])} |")
print(f"| presidio-analyzer | {p['seconds']:.3f} | {p['values_per_s']:,.0f} | {p['mb_per_s']:.3f} | {m(q['precision'])} | {m(q['recall'])} | {m(q['f1'])} |")
print(f"speed-up: {p['seconds']/ours_s:.0f}x")
for name in ("ours", "presidio"):
    s = json.load(open(f"{work}/{name}.score.json"))
    print(name, "mismatches:", [(m["field"], m["missing"], m["extra"]) for m in s["mismatches"]])
PY
