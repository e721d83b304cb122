#!/usr/bin/env bats
# The plan phase against the stand-in Test Engine over HTTPS.

load '../support/helpers'

setup() {
  fixture_job shop 3
}

teardown() { stop_server; }

plan() { run "$TEP_BIN" plan; }

@test "three jobs get disjoint slices that cover every discovered file (server plan)" {
  for j in 0 1 2; do
    job_env "$j" 3
    plan
    assert_success
    assert_output --partial "Plan source: server"
  done
  all=$(for j in 0 1 2; do slice_tests "$j"; done | sort)
  expected=$(printf '%s\n' tests/api/test_users.py tests/test_cart.py tests/test_orders.py \
    tests/test_payments.py tests/unit/tax_test.py tests/unit/test_money.py | sort)
  assert_equal "$all" "$expected"
  assert_equal "$(echo "$all" | uniq -d)" ""
  # The first job created the plan; the others found it cached.
  assert_equal "$(grep -c '"method": "POST", "path": "[^"]*/test_plan"' "$SERVER_DIR/requests.jsonl")" 1
}

@test "a cached plan is used without creating a new one" {
  server_config '{"plans": {"build-1234/step-abcd": {"tasks": {"0": {"node_number": 0, "tests": [{"path": "tests/test_cart.py", "format": "file"}]}, "1": {"node_number": 1, "tests": []}, "2": {"node_number": 2, "tests": []}}}}}'
  plan
  assert_success
  assert_output --partial "Plan source: server (cached plan)"
  assert_equal "$(slice_tests 0)" "tests/test_cart.py"
  assert_equal "$(requests_to /test_plan/filter_tests)" 0
  run grep -c '"method": "POST"' "$SERVER_DIR/requests.jsonl"
  assert_output 0
}

@test "a cached plan needs no discovery: the checkout is not walked" {
  server_config '{"plans": {"build-1234/step-abcd": {"tasks": {"0": {"node_number": 0, "tests": [{"path": "tests/test_cart.py", "format": "file"}]}, "1": {"node_number": 1, "tests": []}, "2": {"node_number": 2, "tests": []}}}}}'
  # A pattern that matches nothing: a walk would stop the plan with 78.
  export BUILDKITE_TEST_ENGINE_TEST_FILE_PATTERN='nothing/**/*.py'
  plan
  assert_success
  assert_output --partial "Plan source: server (cached plan)"
  assert_output --partial "Files discovered: none needed (the plan names them); entries on this job: 1"
  assert_equal "$(slice_tests 0)" "tests/test_cart.py"
  # On a cache miss the files are needed, and the same pattern is the error it was.
  job_env 0 3
  export BUILDKITE_BUILD_ID=build-other
  plan
  assert_failure 78
  assert_output --partial "no test files match pattern 'nothing/**/*.py'"
}

@test "requests carry bearer auth, a user agent, and an escaped identifier" {
  plan
  assert_success
  run "$SERVER_PY" - "$SERVER_DIR/requests.jsonl" <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
get = reqs[0]
assert get["method"] == "GET" and get["query"] == {"identifier": "build-1234/step-abcd", "job_retry_count": "0"}, get
for r in reqs:
    assert r["headers"]["Authorization"] == "Bearer tok-api-SECRET-7f3a9"
    assert r["headers"]["User-Agent"].startswith("test-engine-pytest/"), r["headers"]
post = [r for r in reqs if r["path"].endswith("/test_plan") and r["method"] == "POST"][0]["body"]
assert post["runner"] == "pytest" and post["parallelism"] == 3 and post["branch"] == "main", post
assert len(post["tests"]["selectors"]) == 6, post
assert len({r["client_port"] for r in reqs}) == 1, "one connection should be reused"
print("ok")
PY
  assert_success
  assert_output ok
  assert_no_secret "$BATS_TEST_TMPDIR/state-0"
}

@test "the access token never appears in plan output" {
  plan
  assert_success
  refute_output --partial "$API_TOKEN"
}

@test "5xx then success: retried within the budget" {
  faults '{"plan_get": [{"status": 503}, {"status": 502}]}'
  plan
  assert_success
  assert_output --partial "Plan source: server"
  assert_output --partial "HTTP 503; retrying in"
  assert_output --partial "HTTP 502; retrying in"
}

@test "5xx until the budget runs out: fallback plan with the reason" {
  faults '{"plan_get": [{"status": 500, "forever": true}]}'
  plan
  assert_success
  assert_output --partial "Timeout: Test Engine API did not give a usable answer"
  assert_output --partial "Falling back to local splitting"
  assert_output --partial "Plan source: fallback"
  # bktec's byte-sorted round-robin: job 0 of 3 gets entries 0 and 3.
  assert_equal "$(slice_tests 0)" "$(printf '%s\n' tests/api/test_users.py tests/test_payments.py)"
}

@test "429 with RateLimit-Reset waits what the server says" {
  faults '{"plan_get": [{"status": 429, "headers": {"RateLimit-Reset": "1"}}]}'
  plan
  assert_success
  assert_output --partial "HTTP 429; retrying in 1.0s"
  assert_output --partial "Plan source: server"
}

@test "429 with Retry-After seconds and with an HTTP date are both honoured" {
  # A date about 5 s ahead (second resolution; the 1 s wait and any load come off it).
  when=$(date -u -d '+5 sec' '+%a, %d %b %Y %H:%M:%S GMT')
  export BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=10
  faults '{"plan_get": [{"status": 429, "headers": {"Retry-After": "1"}}, {"status": 429, "headers": {"Retry-After": "'"$when"'"}}]}'
  plan
  assert_success
  assert_output --partial "HTTP 429; retrying in 1.0s"
  assert_output --regexp "HTTP 429; retrying in [1-4]\.[0-9]s"
  assert_output --partial "Plan source: server"
}

@test "429 with a Retry-After date in the past still waits the backoff step" {
  export BUILDKITE_TEST_ENGINE_API_BACKOFF_MS=400
  faults '{"plan_get": [{"status": 429, "headers": {"Retry-After": "Sun, 06 Nov 1994 08:49:37 GMT"}}]}'
  plan
  assert_success
  # The step is 400 ms with jitter in [50%, 100%]: 0.2 to 0.4 s, never 0.0.
  assert_output --regexp "HTTP 429; retrying in 0\.[234]s"
  assert_output --partial "Plan source: server"
}

@test "429 asking for longer than the budget gives up at once and falls back" {
  faults '{"plan_get": [{"status": 429, "headers": {"Retry-After": "120"}, "forever": true}]}'
  SECONDS=0
  plan
  assert_success
  assert_output --partial "retry budget of 3s used up"
  assert_output --partial "Plan source: fallback"
  [ "$SECONDS" -lt 3 ]
}

@test "a slow answer past the per-attempt timeout falls back" {
  export BUILDKITE_TEST_ENGINE_API_TIMEOUT=1 BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=2
  faults '{"plan_get": [{"delay": 3, "status": 200, "forever": true}]}'
  plan
  assert_success
  assert_output --partial "timed out"
  assert_output --partial "Plan source: fallback"
}

@test "a connection reset is retried, then succeeds" {
  faults '{"plan_get": [{"reset": true}]}'
  plan
  assert_success
  assert_output --partial "retrying in"
  assert_output --partial "Plan source: server"
}

@test "a truncated body (connection closed early) is retried" {
  faults '{"plan_get": [{"status": 200, "body": {"tasks": {"0": {"tests": []}}}, "truncate": 5}]}'
  plan
  assert_success
  assert_output --partial "retrying in"
  assert_output --partial "Plan source: server"
}

@test "invalid JSON in a plan falls back instead of failing the build" {
  faults '{"plan_post": [{"status": 200, "body": "{\"tasks\": {\"0\": "}]}'
  plan
  assert_success
  assert_output --partial "Invalid Plan"
  assert_output --partial "Plan source: fallback"
}

@test "200 with empty tasks is an error plan: fallback" {
  faults '{"plan_post": [{"status": 200, "body": {"tasks": {}}}]}'
  plan
  assert_success
  assert_output --partial "Error Plan"
  assert_output --partial "Plan source: fallback"
}

@test "401 is fatal with the configuration status" {
  faults '{"plan_get": [{"status": 401, "body": {"message": "bad token"}}]}'
  plan
  assert_failure 78
  assert_output --partial "Authentication Failed: bad token"
  [ ! -f "$BATS_TEST_TMPDIR/state-0/slice.json" ]
  assert_equal "$(requests_to /test_plan)" 1
}

@test "403 is fatal, a billing 403 falls back" {
  faults '{"plan_get": [{"status": 403, "body": {"message": "nope"}}]}'
  plan
  assert_failure 78
  assert_output --partial "Access Denied: nope"
  faults '{"plan_get": [{"status": 403, "body": {"message": "Billing Error: plan limit"}}]}'
  plan
  assert_success
  assert_output --partial "Billing Error: plan limit"
  refute_output --partial "Billing Error: Billing Error"
  assert_output --partial "Plan source: fallback"
}

@test "400 is fatal" {
  faults '{"plan_post": [{"status": 400, "body": {"message": "parallelism too high"}}]}'
  plan
  assert_failure 78
  assert_output --partial "Invalid Request: parallelism too high"
}

@test "404 on create and 422 fall back with their labels" {
  faults '{"plan_post": [{"status": 404, "body": {"message": "no suite"}}]}'
  plan
  assert_success
  assert_output --partial "Not Found: no suite. Check BUILDKITE_ORGANIZATION_SLUG"
  rm -rf "$BATS_TEST_TMPDIR/server/requests.jsonl"
  faults '{"plan_post": [{"status": 422, "body": {"message": "busy"}}]}'
  plan
  assert_success
  assert_output --partial "Unavailable: busy"
}

@test "hostile plan paths are refused and never reach the slice" {
  server_config '{"plans": {"build-1234/step-abcd": {"tasks": {"0": {"tests": [
    {"path": "/etc/passwd", "format": "file"},
    {"path": "../../outside.py", "format": "file"},
    {"path": "--co", "format": "file"},
    {"path": "tests/a.py\nrm -rf /", "format": "file"},
    {"path": "tests/nul\u0000.py", "format": "file"},
    {"format": "selector", "value": "-p evil"},
    {"path": "tests/test_cart.py", "format": "file"}]}}}}}'
  plan
  assert_success
  assert_output --partial "'/etc/passwd' is an absolute path"
  assert_output --partial "contains '..'"
  assert_output --partial "'--co' starts with '-'"
  assert_output --partial "contains a line break"
  assert_output --partial "contains a NUL byte"
  assert_output --partial "'-p evil' starts with '-'"
  assert_equal "$(slice_tests 0)" "tests/test_cart.py"
}

@test "a plan without a task for this job gives an empty slice and a warning" {
  server_config '{"plans": {"build-1234/step-abcd": {"tasks": {"1": {"tests": [{"path": "tests/test_cart.py"}]}}}}}'
  plan
  assert_success
  assert_output --partial "the plan has no tests for job 1 of 3"
  assert_equal "$(slice_tests 0)" ""
}

@test "a wrong CA fails closed: no plan is trusted, configuration status" {
  export BUILDKITE_TEST_ENGINE_CA_BUNDLE="$CERTS/wrong-ca.pem"
  plan
  assert_failure 78
  assert_output --partial "TLS verification failed"
  assert_output --partial "BUILDKITE_TEST_ENGINE_CA_BUNDLE"
  [ ! -f "$BATS_TEST_TMPDIR/state-0/slice.json" ]
  # The handshake failed, so no HTTP request (and no token) reached the server.
  [ ! -s "$SERVER_DIR/requests.jsonl" ]
}

@test "split by example: slow files become examples from --collect-only" {
  server_config '{"filter_tests": ["tests/test_orders.py"]}'
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest {{testExamples}}"
  plan
  assert_success
  run "$SERVER_PY" - "$SERVER_DIR/requests.jsonl" <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
filt = [r for r in reqs if r["path"].endswith("/filter_tests")][0]["body"]
assert {"path": "tests/test_orders.py"} in filt["files"], filt
assert filt["env"]["BUILDKITE_TEST_ENGINE_TEST_RUNNER"] == "pytest"
post = [r for r in reqs if r["path"].endswith("/test_plan") and r["method"] == "POST"][0]["body"]
ex = sorted(e["path"] for e in post["tests"]["examples"])
assert ex == ["tests/test_orders.py::test_order_quantity[1]", "tests/test_orders.py::test_order_quantity[2]",
              "tests/test_orders.py::test_order_quantity[3]", "tests/test_orders.py::test_order_reference"], ex
assert "tests/test_orders.py" not in [s["value"] for s in post["tests"]["selectors"]]
print("ok")
PY
  assert_output ok
}

@test "a collection error while splitting by example is terminal and names the file" {
  cp "$TEP_SOURCE_DIR/fixtures/collection_errors/test_import_error.py" tests/test_import_error.py
  server_config '{"filter_tests": ["tests/test_import_error.py"]}'
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest {{testExamples}}"
  plan
  assert_failure 65
  assert_output --partial "collection error in tests/test_import_error.py"
}
