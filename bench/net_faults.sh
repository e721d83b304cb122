#!/usr/bin/env bash
# Network fault benchmark: how many requests and seconds `plan` and `report`
# spend against each fault of the local stand-in (HTTPS on loopback).
#
#   bench/net_faults.sh [BINARY]      (default: build/test-engine-pytest)
#
# Budgets are the issue tracker's: API and upload retry budget 8 s, backoff
# 1 s (the default), api-timeout 2 s. Each line: case, requests the server saw,
# wall seconds of the phase, its peak RSS, its exit status, and the line that
# explains it (requests to a closed port never reach the server: see attempts).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${1:-$root/build/test-engine-pytest}")
[ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 2; }
work=$(mktemp -d /tmp/tep-bench-net-XXXXXX)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$root/tests/support/make_certs.sh" "$work/certs"
mkdir -p "$work/server" "$work/agent/bin"
/usr/bin/python3 "$root/tests/support/te_server.py" --dir "$work/server" --cert "$work/certs/server.pem" \
  --key "$work/certs/server.key" 2>/dev/null &
server_pid=$!
for _ in $(seq 1 100); do [ -f "$work/server/port" ] && break; sleep 0.05; done
url="https://127.0.0.1:$(cat "$work/server/port")"
closed_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ln -sf "$root/tests/support/buildkite-agent-stub" "$work/agent/bin/buildkite-agent"

export PATH="$work/agent/bin:$PATH" AGENT_DIR="$work/agent" NO_COLOR=1
export BUILDKITE_ORGANIZATION_SLUG=acme BUILDKITE_TEST_ENGINE_SUITE_SLUG=shop BUILDKITE_BUILD_ID=b1
export BUILDKITE_STEP_ID=s1 BUILDKITE_JOB_ID=j1 BUILDKITE_PARALLEL_JOB=0 BUILDKITE_PARALLEL_JOB_COUNT=1
export BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN=bench-api BUILDKITE_ANALYTICS_TOKEN=bench-upload
export BUILDKITE_TEST_ENGINE_BASE_URL="$url" BUILDKITE_TEST_ENGINE_UPLOAD_BASE_URL="$url"
export BUILDKITE_TEST_ENGINE_CA_BUNDLE="$work/certs/ca.pem" BUILDKITE_TEST_ENGINE_STATE_DIR="$work/state"
export BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=8 BUILDKITE_TEST_ENGINE_UPLOAD_RETRY_BUDGET=8
export BUILDKITE_TEST_ENGINE_API_TIMEOUT=2 BUILDKITE_TEST_ENGINE_OIDC=false
export BUILDKITE_TEST_ENGINE_TEST_CMD='/usr/bin/python3 -m pytest -p tep_collector -p no:cacheprovider {{testExamples}} --json={{resultPath}}'
export PYTHONPATH="$root/tests/support" PYTHONDONTWRITEBYTECODE=1
cp -a "$root/fixtures/shop" "$work/shop"
cd "$work/shop" || exit 2

requests() { local n; n=$(grep -c "\"path\": \"[^\"]*$1\"" "$work/server/requests.jsonl" 2>/dev/null) || true; echo "${n:-0}"; }
# measure NAME ENDPOINT-SUFFIX FAULTS PHASE [PATTERN]: one line of numbers.
measure() {
  local name=$1 suffix=$2 faults=$3 phase=$4 pattern=${5:-}
  printf '%s' "$faults" > "$work/server/faults.json"
  : > "$work/server/requests.jsonl"
  local status secs kib why=""
  /usr/bin/time -f "%e %M" -o "$work/time" "$bin" "$phase" > "$work/out" 2>&1
  status=$?
  read -r secs kib < <(tail -n1 "$work/time")
  [ -n "$pattern" ] && why=$(grep -E -m1 "$pattern" "$work/out" | cut -c1-150)
  printf '%-38s %4s requests %6.1fs %5d MiB  exit %-3s %s\n' "$name" "$(requests "$suffix")" "$secs" \
    $((kib / 1024)) "$status" "$why"
}

# A run result with 12 records for the report cases (3 batches of 5, 5, 2).
printf '{}' > "$work/server/faults.json"
"$bin" run > /dev/null 2>&1
export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=5

[ -n "${ONLY_SIGTERM:-}" ] || {
measure "plan: 429 Retry-After: 0 forever" /test_plan '{"plan_get": [{"status": 429, "headers": {"Retry-After": "0"}, "forever": true}]}' plan "Plan source"
measure "plan: 429 RateLimit-Reset: 0" /test_plan '{"plan_get": [{"status": 429, "headers": {"RateLimit-Reset": "0"}, "forever": true}]}' plan "Plan source"
measure "plan: 503 forever" /test_plan '{"plan_get": [{"status": 503, "forever": true}]}' plan "Plan source"
measure "plan: answer delayed 3s forever" /test_plan '{"plan_get": [{"delay": 3, "status": 200, "forever": true}]}' plan "Plan source"
measure "plan: 64 MiB answer" /test_plan '{"plan_get": [{"status": 200, "body_bytes": 67108864, "no_length": true}]}' plan "Plan source"
BUILDKITE_TEST_ENGINE_BASE_URL="https://127.0.0.1:$closed_port" \
  measure "plan: connection refused" /test_plan '{}' plan "Plan source"
unset BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET
BUILDKITE_TEST_ENGINE_BASE_URL="https://127.0.0.1:$closed_port" \
  measure "plan: refused, default budget 60s" /test_plan '{}' plan "Plan source"
export BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=8

measure "report: 429 Retry-After: 0, 3 batches" /v1/uploads '{"upload": [{"status": 429, "headers": {"Retry-After": "0"}, "forever": true}]}' report "^Upload|not sent"
measure "report: 503 forever, 3 batches" /v1/uploads '{"upload": [{"status": 503, "forever": true}]}' report "^Upload|not sent"
measure "report: answer delayed 5s, 3 batches" /v1/uploads '{"upload": [{"delay": 5, "forever": true}]}' report "^Upload|not sent"
BUILDKITE_TEST_ENGINE_UPLOAD_BASE_URL="https://127.0.0.1:$closed_port" \
  measure "report: upload refused, 3 batches" /v1/uploads '{}' report "^Upload|not sent"
}

# SIGTERM during a 100,000-record upload (20 batches; the stand-in holds each
# answer 0.5 s): the signal comes once the third batch is on its way.
cat > "$work/many.sh" <<'SH'
#!/usr/bin/env bash
for a in "$@"; do case "$a" in --json=*) out=${a#--json=};; esac; done
/usr/bin/python3 -c '
import json, sys
recs = [{"id": "r%d" % i, "scope": "tests/test_big.py", "name": "test_%d" % i, "file_name": "tests/test_big.py",
         "result": "failed" if i % 40000 == 7 else "passed", "history": {"duration": 0.001}} for i in range(100000)]
json.dump(recs, open(sys.argv[1], "w"))' "$out"
exit 1
SH
chmod +x "$work/many.sh"
rm -rf "$work/state" "$work/agent/meta-data" "$work/agent/annotations"
unset BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE
BUILDKITE_TEST_ENGINE_TEST_CMD="$work/many.sh {{testExamples}} --json={{resultPath}}" "$bin" run > /dev/null 2>&1
printf '%s' '{"upload": [{"delay": 0.5, "forever": true}]}' > "$work/server/faults.json"
: > "$work/server/requests.jsonl"
"$bin" report > "$work/out" 2>&1 &
pid=$!
for _ in $(seq 1 600); do [ "$(requests /v1/uploads)" -ge 3 ] && break; sleep 0.05; done
t0=$(date +%s.%N)
kill -TERM "$pid"
wait "$pid"
status=$?
t1=$(date +%s.%N)
printf '%-38s %4s requests %6.1fs after SIGTERM  exit %-3s %s\n' "report: SIGTERM mid-upload (100,000)" \
  "$(requests /v1/uploads)" "$(echo "$t1 - $t0" | bc)" "$status" "$(grep -E -m1 'interrupted|^Upload' "$work/out")"
printf '%-38s selectors: %s; annotation: %s\n' "" "$(ls "$work/agent/meta-data" 2>/dev/null | wc -l) key(s)" \
  "$(ls "$work/agent/annotations"/*.md 2>/dev/null | wc -l) file(s)"
