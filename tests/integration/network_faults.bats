#!/usr/bin/env bats
# Network faults that once made plan and report stall, flood the server or
# lose work: the real binary, real HTTPS to the stand-in, real pytest or a
# result generator, a stub agent. Each test bounds requests and seconds.

load '../support/helpers'

setup() {
  start_server
  job_env 0 1
  install_agent_stub
  export PYTHONPATH="$SUPPORT" PYTHONDONTWRITEBYTECODE=1
  export BUILDKITE_TEST_ENGINE_TEST_CMD="$JSON_CMD" BUILDKITE_ANALYTICS_TOKEN="$UPLOAD_TOKEN"
  export BUILDKITE_TEST_ENGINE_UPLOAD_RETRY_BUDGET=3
}

teardown() { stop_server; }

# A loopback port where nothing listens (bound once to find it, then closed).
closed_port() {
  "$SERVER_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# upload_seconds: the duration the report printed on its "Upload:" line.
upload_seconds() { sed -n 's/^Upload: .*(\([0-9.]*\)s).*/\1/p' <<<"$output"; }

# records_received: records in the upload requests the stand-in recorded.
records_received() {
  "$SERVER_PY" - "$SERVER_DIR/requests.jsonl" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] == "/v1/uploads":
        n += len(json.loads(r["body"]["data"]["text"]))
print(n)
PY
}

# generate_results N PAD FAILED_EVERY: a run whose collector JSON has N records
# (failure_reason padded to PAD bytes; every FAILED_EVERY-th record failed).
generate_results() {
  mkdir -p "$BATS_TEST_TMPDIR/work" && cd "$BATS_TEST_TMPDIR/work" || return 1
  touch test_big.py
  cat > gen.sh <<'SH'
#!/usr/bin/env bash
for a in "$@"; do case "$a" in --json=*) out=${a#--json=};; esac; done
/usr/bin/python3 -c '
import json, sys
n, pad, every = int(sys.argv[2]), "x" * int(sys.argv[3]), int(sys.argv[4])
json.dump([{"id": "r%d" % i, "scope": "test_big.py", "name": "test_%d" % i, "file_name": "test_big.py",
            "result": "failed" if i % every == 7 else "passed", "failure_reason": pad} for i in range(n)],
          open(sys.argv[1], "w"))' "$out" "$GEN_N" "$GEN_PAD" "$GEN_EVERY"
[ "$GEN_N" -gt 7 ] && exit 1 || exit 0
SH
  chmod +x gen.sh
  GEN_N=$1 GEN_PAD=$2 GEN_EVERY=$3 BUILDKITE_TEST_ENGINE_TEST_CMD="./gen.sh {{testExamples}} --json={{resultPath}}" \
    "$TEP_BIN" run > "$BATS_TEST_TMPDIR/run.log" 2>&1 || true
  [ -f "$BATS_TEST_TMPDIR/state-0/results/attempt-0.json" ]
}

# wait_for_uploads N: until the stand-in has seen N upload requests (bounded: 30 s).
wait_for_uploads() {
  for _ in $(seq 1 600); do
    [ "$(requests_to /v1/uploads)" -ge "$1" ] && return 0
    sleep 0.05
  done
  echo "the stand-in saw only $(requests_to /v1/uploads) upload requests" >&2
  return 1
}

# report_then_term N: starts report, sends SIGTERM once N upload requests
# arrived, waits; sets status, output and term_seconds (SIGTERM to exit).
report_then_term() {
  "$TEP_BIN" report > "$BATS_TEST_TMPDIR/report.log" 2>&1 &
  local pid=$! t0
  wait_for_uploads "$1" || { kill -KILL "$pid"; return 1; }
  t0=$(date +%s%N)
  kill -TERM "$pid"
  status=0
  wait "$pid" || status=$?
  term_seconds=$(( ($(date +%s%N) - t0) / 1000000 ))
  term_seconds=$(printf '%d.%03d' $((term_seconds / 1000)) $((term_seconds % 1000)))
  output=$(cat "$BATS_TEST_TMPDIR/report.log")
}

# --- 1. a server wait of 0 never turns retries into a flood -------------------

@test "plan: 429 with Retry-After: 0 forever backs off; a handful of requests, then the fallback" {
  copy_fixture shop
  faults '{"plan_get": [{"status": 429, "headers": {"Retry-After": "0"}, "forever": true}]}'
  SECONDS=0
  run "$TEP_BIN" plan
  assert_success
  assert_output --partial "Plan source: fallback - Timeout"
  n=$(requests_to /test_plan)
  # Budget 3 s, first step 100 ms doubling (jitter 50-100%): at most 7 attempts fit.
  # Without a floor under the server's 0 this was ~70 requests in the same 3 s.
  [ "$n" -ge 3 ] && [ "$n" -le 8 ] || { echo "requests: $n"; false; }
  [ "$SECONDS" -le 6 ]
}

@test "plan: 429 with RateLimit-Reset: 0 forever backs off the same way" {
  copy_fixture shop
  faults '{"plan_get": [{"status": 429, "headers": {"RateLimit-Reset": "0"}, "forever": true}]}'
  run "$TEP_BIN" plan
  assert_success
  assert_output --partial "Plan source: fallback - Timeout"
  n=$(requests_to /test_plan)
  [ "$n" -ge 3 ] && [ "$n" -le 8 ] || { echo "requests: $n"; false; }
  refute_output --partial "retrying in 0.0s"
}

@test "upload: 429 with Retry-After: 0 forever over 3 batches: one budget, a handful of requests" {
  copy_fixture shop
  run "$TEP_BIN" run
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=5
  faults '{"upload": [{"status": 429, "headers": {"Retry-After": "0"}, "forever": true}]}'
  run "$TEP_BIN" report
  assert_success
  n=$(requests_to /v1/uploads)
  [ "$n" -ge 3 ] && [ "$n" -le 8 ] || { echo "requests: $n"; false; }
  assert_output --partial "upload stopped: the retry budget of 3s is used up (last error: HTTP 429"
  assert_output --partial "0 of 12 results sent; 12 not sent"
}

# --- 2. one budget for the whole upload; moving batches may take their time ---

@test "upload: 5xx forever: the 3 batches share one retry budget" {
  copy_fixture shop
  run "$TEP_BIN" run
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=5
  faults '{"upload": [{"status": 503, "forever": true}]}'
  run "$TEP_BIN" report
  assert_success
  secs=$(upload_seconds)
  # One budget of 3 s (each batch had its own before: 3 x 3 s and more).
  awk -v s="$secs" 'BEGIN { exit !(s < 4.5) }' || { echo "upload took ${secs}s"; false; }
  assert_output --partial "upload stopped: the retry budget of 3s is used up (last error: HTTP 503"
  assert_output --partial "0 of 12 results sent; 12 not sent"
  # Nothing of batches 2 and 3 was sent once the budget was gone.
  assert_equal "$(records_received | tail -n1)" "$(( $(requests_to /v1/uploads) * 5 ))"
}

@test "upload: a batch that keeps moving may take longer than api-timeout" {
  generate_results 2000 1000 1000000
  export BUILDKITE_TEST_ENGINE_API_TIMEOUT=1 BUILDKITE_TEST_ENGINE_UPLOAD_RETRY_BUDGET=0
  # About 2.2 MB read by the stand-in at 600 kB/s: several seconds, always moving.
  faults '{"upload": [{"read_rate": 600000, "forever": true}]}'
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "Upload: 2000 results in 1 request"
  refute_output --partial "warning"
  secs=$(upload_seconds)
  awk -v s="$secs" 'BEGIN { exit !(s > 1.5) }' || { echo "the slow read did not slow the upload (${secs}s)"; false; }
  assert_equal "$(requests_to /v1/uploads)" 1
  assert_equal "$(records_received)" 2000
}

@test "upload: a batch with no progress is cut after api-timeout; the budget bounds the whole upload" {
  copy_fixture shop
  run "$TEP_BIN" run
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=5 BUILDKITE_TEST_ENGINE_API_TIMEOUT=1
  export BUILDKITE_TEST_ENGINE_UPLOAD_RETRY_BUDGET=2
  faults '{"upload": [{"delay": 60, "forever": true}]}'
  run "$TEP_BIN" report
  assert_success
  secs=$(upload_seconds)
  # Attempts of ~1 s each until 2 s of budget are gone: about 3 s, never 60.
  awk -v s="$secs" 'BEGIN { exit !(s < 6) }' || { echo "upload took ${secs}s"; false; }
  assert_output --partial "upload stopped: the retry budget of 2s is used up"
  assert_output --partial "0 of 12 results sent; 12 not sent"
  [ "$(requests_to /v1/uploads)" -le 4 ]
}

# --- 3. SIGTERM: selectors and annotation first, a clean stop, one line -------

@test "SIGTERM mid-upload of 100,000 results: selectors and annotation are there, exit 0, one line on what was not sent" {
  generate_results 100000 0 40000
  # 20 batches; the stand-in holds each answer 0.5 s, so the upload is still going.
  faults '{"upload": [{"delay": 0.5, "forever": true}]}'
  report_then_term 3
  echo "$output"
  [ "$status" -eq 0 ]
  # The failed tests (records 7, 40007, 80007) were published before the upload began.
  assert_equal "$(cat "$AGENT_DIR"/meta-data/*)" \
    "$(printf '#test-engine-pytest selectors v2 count=3\ntest_big.py::test_7\ntest_big.py::test_40007\ntest_big.py::test_80007')"
  [ -s "$AGENT_DIR/annotations/test-engine-pytest-step-abcd.md" ]
  line=$(grep -E "^test-engine-pytest: warning: upload interrupted by SIGTERM: " <<<"$output")
  [[ "$line" =~ :\ ([0-9,]+)\ of\ 100,000\ results\ sent\;\ ([0-9,]+)\ not\ sent$ ]]
  sent=${BASH_REMATCH[1]//,/} missing=${BASH_REMATCH[2]//,/}
  [ $((sent + missing)) -eq 100000 ]
  [ "$sent" -lt 100000 ]
  # What we call sent, the server has; at most the aborted batch is in doubt.
  received=$(records_received)
  [ "$sent" -le "$received" ] && [ "$received" -le $((sent + 5000)) ]
  assert_output --partial "plan metadata not sent: the job is being cancelled (SIGTERM)"
  awk -v s="$term_seconds" 'BEGIN { exit !(s < 3) }' || { echo "took ${term_seconds}s to stop"; false; }
}

@test "SIGTERM while a batch hangs aborts the transfer at once" {
  copy_fixture shop
  run "$TEP_BIN" run
  export BUILDKITE_TEST_ENGINE_API_TIMEOUT=60 BUILDKITE_TEST_ENGINE_UPLOAD_RETRY_BUDGET=120
  faults '{"upload": [{"delay": 60, "forever": true}]}'
  report_then_term 1
  [ "$status" -eq 0 ]
  assert_output --partial "upload interrupted by SIGTERM: 0 of 12 results sent; 12 not sent"
  awk -v s="$term_seconds" 'BEGIN { exit !(s < 3) }' || { echo "took ${term_seconds}s to stop"; false; }
}

@test "SIGTERM during a retry wait ends the wait at once" {
  copy_fixture shop
  run "$TEP_BIN" run
  export BUILDKITE_TEST_ENGINE_UPLOAD_RETRY_BUDGET=120
  faults '{"upload": [{"status": 503, "headers": {"Retry-After": "60"}}, {"status": 429, "headers": {"Retry-After": "60"}, "forever": true}]}'
  report_then_term 1
  [ "$status" -eq 0 ]
  assert_output --partial "upload interrupted by SIGTERM: 0 of 12 results sent; 12 not sent"
  awk -v s="$term_seconds" 'BEGIN { exit !(s < 3) }' || { echo "took ${term_seconds}s to stop"; false; }
}

# --- 4. an unreachable API falls back within seconds ---------------------------

@test "plan: a refused connection falls back to the local plan at once, said in one line" {
  copy_fixture shop
  port=$(closed_port)
  export BUILDKITE_TEST_ENGINE_BASE_URL="https://127.0.0.1:$port"
  export BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=60 BUILDKITE_TEST_ENGINE_API_BACKOFF_MS=1000
  SECONDS=0
  run "$TEP_BIN" plan
  assert_success
  [ "$SECONDS" -le 3 ] || { echo "took ${SECONDS}s"; false; }
  assert_output --partial "Plan source: fallback - Unreachable: Failed to connect to 127.0.0.1 port $port"
  assert_output --partial "not retried"
  refute_output --partial "retrying in"
  assert_equal "$(grep -c "Unreachable:" <<<"$output")" 2 # the warning and the plan summary
}

@test "plan: 5xx still uses the retry budget (only unreachable hosts fail fast)" {
  copy_fixture shop
  faults '{"plan_get": [{"status": 503}, {"status": 503}]}'
  run "$TEP_BIN" plan
  assert_success
  assert_output --partial "Plan source: server"
  assert_equal "$(grep -c "HTTP 503; retrying in" <<<"$output")" 2
}

# --- 6. answers are read up to a bound ------------------------------------------

@test "plan: a 96 MiB answer without a length is cut at 32 MiB, never read whole; fallback" {
  copy_fixture shop
  faults '{"plan_get": [{"status": 200, "body_bytes": 100663296, "no_length": true}]}'
  run "$TEP_BIN" plan
  assert_success
  assert_output --partial "Plan source: fallback - Invalid Answer: the answer is larger than 32 MiB; not read further"
  assert_equal "$(requests_to /test_plan)" 1 # not retried: it would be as large again
  run "$SERVER_PY" -c '
import json, sys
f = [json.loads(l) for l in open(sys.argv[1])][0]
assert f["client_hung_up"] and f["sent"] < 64 << 20, f
print("ok")' "$SERVER_DIR/fillers.jsonl"
  assert_output ok
}

@test "plan: an answer announced larger than the bound is refused before it is read" {
  copy_fixture shop
  faults '{"plan_get": [{"status": 200, "body_bytes": 100663296}]}'
  run "$TEP_BIN" plan
  assert_success
  assert_output --partial "Invalid Answer: the answer is larger than 32 MiB"
  run "$SERVER_PY" -c '
import json, sys
f = [json.loads(l) for l in open(sys.argv[1])][0]
assert f["client_hung_up"] and f["sent"] < 32 << 20, f
print("ok")' "$SERVER_DIR/fillers.jsonl"
  assert_output ok
}

@test "upload: an answer over 1 MiB is refused and not retried; the next batch still goes" {
  copy_fixture shop
  run "$TEP_BIN" run
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=5
  faults '{"upload": [{"status": 202, "body_bytes": 4194304, "no_length": true}]}'
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "upload of 5 results failed: the answer is larger than 1 MiB"
  assert_output --partial "Upload: 7 results in 3 requests"
  assert_output --partial "upload incomplete: 1 request failed"
  assert_output --partial "7 of 12 results sent; 5 not sent"
}

# --- 7. hard ceilings: no trickle, gzip or slow reader holds a phase ----------

# report_seconds: wall-clock seconds of the last `timed_report` (a decimal).
timed_report() {
  local t0 t1
  t0=$(date +%s%N)
  run timeout 400 "$TEP_BIN" report
  t1=$(date +%s%N)
  report_seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
  echo "report took ${report_seconds}s" >&3
}

@test "upload: 202 then an endless gzip trickle is cut api-timeout after the request was sent (held report 150 s+)" {
  copy_fixture shop
  run "$TEP_BIN" run
  # api-timeout 5 s: a loaded machine (the stand-in's thread starved for seconds) must not
  # turn the 202 into "no answer", which is retried (a CI run at load 8 saw 4 requests at 2 s)
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=5 BUILDKITE_TEST_ENGINE_API_TIMEOUT=5
  export BUILDKITE_TEST_ENGINE_UPLOAD_RETRY_BUDGET=30 # the phase's limit (budget + 2 x api-timeout) above 3 x 5 s
  faults '{"upload": [{"status": 202, "gzip_trickle": 2048, "forever": true}]}'
  timed_report
  assert_success
  # Three batches, each cut 5 s after it was sent: a ceiling of about 15 s; 3x that for load.
  awk -v s="$report_seconds" 'BEGIN { exit !(s < 45) }' || { echo "report took ${report_seconds}s"; false; }
  assert_output --partial "the answer did not finish within 5s after HTTP 202"
  # HTTP 202 came: the batches were accepted; not sent again (that would duplicate them).
  assert_equal "$(requests_to /v1/uploads)" 3
  assert_output --partial "Upload: 12 results in 3 requests"
}

@test "upload: a server reading the request at 2.5 KB/s is cut at the attempt's ceiling (held one attempt 199 s)" {
  # A slow link's window: the stand-in reads a 16 KiB TLS record at a time at
  # 2.5 KB/s, a step every ~6.5 s, which neither the stall rule (10 s) nor the
  # trickle rule (1 KB/s) cuts.
  stop_server
  rm -f "$SERVER_DIR/port"
  TE_SERVER_RCVBUF=4096 start_server
  generate_results 500 1000 1000000 # about 540 KB in one batch
  export BUILDKITE_TEST_ENGINE_API_TIMEOUT=10 BUILDKITE_TEST_ENGINE_UPLOAD_RETRY_BUDGET=0
  faults '{"upload": [{"read_rate": 2500, "forever": true}]}'
  timed_report
  assert_success
  # The ceiling: api-timeout + the batch's size at 64 KiB/s, about 10 + 8.3 s; 3x that for
  # load. Without it the attempt ran ~200 s (the whole body at 2.5 KB/s).
  awk -v s="$report_seconds" 'BEGIN { exit !(s < 55) }' || { echo "report took ${report_seconds}s"; false; }
  assert_output --regexp "upload of 500 results failed: took longer than this attempt's limit of [0-9.]+s \(api-timeout plus 1 s per 64 KiB sent\)"
  assert_output --partial "0 of 500 results sent; 500 not sent"
}

@test "upload: a refused connection gets two quick tries, then the upload stops (was 6 tries over ~26 s)" {
  copy_fixture shop
  run "$TEP_BIN" run
  port=$(closed_port)
  export BUILDKITE_TEST_ENGINE_UPLOAD_BASE_URL="https://127.0.0.1:$port"
  export BUILDKITE_TEST_ENGINE_UPLOAD_RETRY_BUDGET=30 BUILDKITE_TEST_ENGINE_API_BACKOFF_MS=1000
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=5
  timed_report
  assert_success
  awk -v s="$report_seconds" 'BEGIN { exit !(s < 6) }' || { echo "report took ${report_seconds}s"; false; }
  assert_equal "$(grep -c "upload POST /v1/uploads failed (attempt" <<<"$output")" 2
  assert_output --partial "upload stopped: the upload API is unreachable (Failed to connect to 127.0.0.1 port $port"
  assert_output --partial "0 of 12 results sent; 12 not sent"
}

@test "upload: 413 halves the batch until it fits, and every result gets there (12,000 were dropped)" {
  copy_fixture shop
  run "$TEP_BIN" run
  faults '{"upload": [{"max_records": 3, "forever": true}]}'
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "Upload: 12 results in 7 requests"
  assert_output --partial "the upload API refused a batch as too large (HTTP 413): halved 3 times"
  refute_output --partial "not sent"
  # 12 -> 413; 6 + 6 -> 413 each; four batches of 3 fit, and hold every result once.
  assert_equal "$(requests_to /v1/uploads)" 7
  run "$SERVER_PY" -c '
import collections, json, sys
names = collections.Counter()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] != "/v1/uploads":
        continue
    records = json.loads(r["body"]["data"]["text"])
    if len(records) <= 3:
        names.update(x["scope"] + "::" + x["name"] for x in records)
print(len(names), max(names.values()))' "$SERVER_DIR/requests.jsonl"
  assert_output "12 1"
}

@test "upload (JUnit): a file refused whole with 413 is cut into documents that fit" {
  copy_fixture shop
  export BUILDKITE_TEST_ENGINE_TEST_CMD="$JUNIT_CMD"
  run "$TEP_BIN" run
  faults '{"upload": [{"max_records": 5, "forever": true}]}'
  run "$TEP_BIN" report
  assert_success
  # The file (12 testcases) -> 413; 6 + 6 -> 413 each; four documents of 3 fit.
  assert_output --partial "Upload: 12 results in 7 requests"
  assert_output --partial "halved 3 times"
  refute_output --partial "not sent"
}

@test "upload: a result too large alone is named; the others still go" {
  copy_fixture shop
  run "$TEP_BIN" run
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=4
  faults '{"upload": [{"max_records": 0, "forever": true}]}'
  run "$TEP_BIN" report
  assert_success
  assert_output --regexp "upload: the result 'tests/[^']+::test_[^']+' alone is too large for the upload API \(HTTP 413, [0-9]+ bytes\); not sent"
  assert_output --partial "7 more results too large alone; not sent"
  assert_output --partial "0 of 12 results sent; 12 not sent"
}

@test "upload: a 202 saying results were skipped is counted and reported by number, not as a full upload" {
  copy_fixture shop
  run "$TEP_BIN" run
  faults '{"upload": [{"skip_names": "order", "forever": true}]}'
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "Upload: 8 results in 1 request"
  assert_output --regexp "Test Engine skipped 4 of 12 results \(first error: test_order_[^)]*: name is too long\)"
  assert_output --partial "8 of 12 results sent; 4 not sent"
}
