#!/usr/bin/env bash
# Memory and time of streaming a 1M-row Bulk API 2.0 query result from sf-emulator.
# Starts the built binary on a free loopback port with --size 4000000 (1M Contacts), creates a
# query job, then reads every result page with maxRecords=$MAX_RECORDS (default: no maxRecords,
# one page) to /dev/null, printing the rows read, the seconds taken and the emulator's RSS
# before and its peak (VmHWM) after. Loopback only; bounded by curl's --max-time.
# Usage: emulator/benches/bulk_stream.sh [path/to/sf-emulator]
set -euo pipefail
BIN="${1:-${CARGO_TARGET_DIR:-target}/debug/sf-emulator}"
MAX_RECORDS="${MAX_RECORDS:-}"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
BASE="http://127.0.0.1:$PORT"
"$BIN" --addr "127.0.0.1:$PORT" --size 4000000 >/dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -s -o /dev/null "$BASE/services/data" && break; sleep 0.1; done
curl -s -X PUT "$BASE/__emulator/settings" -H 'content-type: application/json' -d '{"bulkJobDelayMs":0}' >/dev/null
TOKEN="$(curl -s "$BASE/services/oauth2/token" -d grant_type=refresh_token \
  -d client_id=sfprivacy-emulator-client -d client_secret=sfprivacy-emulator-secret \
  -d refresh_token=5Aep861EMULATOR.integration.refresh.token.TEST.ONLY |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
API="$BASE/services/data/v62.0"
JOB="$(curl -s -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d '{"operation":"query","query":"SELECT Id, FirstName, LastName, Email, Phone, MailingCity FROM Contact"}' \
  "$API/jobs/query" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$API/jobs/query/$JOB"
rss() { awk -v k="$1" '$1==k":" {print $2}' "/proc/$PID/status"; }
echo "rss_before_kib=$(rss VmRSS)"
start=$(date +%s.%N)
locator="" rows=0
while :; do
  url="$API/jobs/query/$JOB/results"
  sep="?"
  if [ -n "$MAX_RECORDS" ]; then url="$url?maxRecords=$MAX_RECORDS"; sep="&"; fi
  if [ -n "$locator" ]; then url="$url${sep}locator=$locator"; fi
  headers="$(curl -s --max-time 1800 -D - -o /dev/null -H "Authorization: Bearer $TOKEN" "$url")"
  n="$(printf '%s' "$headers" | awk -F': ' 'tolower($1)=="sforce-numberofrecords" {print $2}' | tr -d '\r')"
  locator="$(printf '%s' "$headers" | awk -F': ' 'tolower($1)=="sforce-locator" {print $2}' | tr -d '\r')"
  rows=$((rows + n))
  [ "$locator" = "null" ] && break
done
end=$(date +%s.%N)
echo "rows=$rows seconds=$(python3 -c "print(round($end-$start,1))") rss_peak_kib=$(rss VmHWM)"
