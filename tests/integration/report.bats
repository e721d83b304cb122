#!/usr/bin/env bats
# The report phase: real binary, real HTTPS to the stand-in, stub agent.

load '../support/helpers'

setup() {
  pytest_job agent upload
  export BUILDKITE_COMMIT=abc123 BUILDKITE_BUILD_NUMBER=7 BUILDKITE_BUILD_URL=https://buildkite.localhost/b/7
  export BUILDKITE_MESSAGE=$'Fix "quoted" msg; with semicolon\nand a second line, caf\u00e9 \U0001F600'
  export BUILDKITE_TEST_ENGINE_TAGS='team=pay"ments,note=a;b=c'
  export BUILDKITE_TEST_ENGINE_UPLOAD_RETRY_BUDGET=3
}

teardown() { stop_server; }

uploads_py() { # runs Python over the recorded upload requests (list `ups`)
  /usr/bin/python3 - "$SERVER_DIR/requests.jsonl" "$@" <<PY
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
ups = [r for r in reqs if r["path"] == "/v1/uploads"]
$(cat)
PY
}

@test "every record of every attempt is uploaded once, with intact fields and tags" {
  copy_fixture shop
  export BUILDKITE_TEST_ENGINE_RETRY_COUNT=1
  run "$TEP_BIN" run
  assert_success
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "Upload: 13 results in 1 request"
  run uploads_py <<'PY'
u = ups[0]
f = u["body"]["fields"]
assert u["headers"]["Authorization"] == 'Token token="tok-upload-SECRET-c41d"', u["headers"]
assert f["format"] == "json"
assert f["run_env[CI]"] == "buildkite" and f["run_env[key]"] == "build-1234" and f["run_env[number]"] == "7"
assert f["run_env[message]"] == 'Fix "quoted" msg; with semicolon\nand a second line, caf\u00e9 \U0001F600', repr(f["run_env[message]"])
assert f["tags[team]"] == 'pay"ments' and f["tags[note]"] == "a;b=c", f
assert f["run_env[collector]"] == "test-engine-pytest" and f["run_env[test_runner]"] == "pytest"
assert "run_env[location_prefix]" not in f, "empty values are left out"
data = json.loads(u["body"]["data"]["text"])
assert u["body"]["data"]["filename"] == "results.json"
names = sorted(r["scope"] + "::" + r["name"] for r in data)
# 12 tests in attempt 0, the flaky one again in attempt 1
assert len(names) == 13 and names.count("tests/test_payments.py::test_gateway_flaky") == 2, names
print("ok")
PY
  assert_output ok
}

@test "batches respect upload-batch-size" {
  copy_fixture shop
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=5
  run "$TEP_BIN" run
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "Upload: 12 results in 3 requests"
  run uploads_py <<'PY'
print([len(json.loads(u["body"]["data"]["text"])) for u in ups])
PY
  assert_output "[5, 5, 2]"
}

@test "5xx and 429 are retried; the upload then succeeds" {
  copy_fixture passing
  run "$TEP_BIN" run
  faults '{"upload": [{"status": 503}, {"status": 429, "headers": {"Retry-After": "1"}}]}'
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "upload POST /v1/uploads failed (attempt 1): HTTP 503; retrying"
  assert_output --partial "HTTP 429; retrying in 1.0s"
  assert_output --partial "Upload: 2 results in 1 request"
}

@test "401 is not retried, stops further batches, and never changes the exit status" {
  copy_fixture shop
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=2
  run "$TEP_BIN" run
  faults '{"upload": [{"status": 401, "body": {"error": "bad token"}, "forever": true}]}'
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "upload of 2 results failed: HTTP 401"
  assert_equal "$(requests_to /v1/uploads)" 1
  refute_output --partial "$UPLOAD_TOKEN"
}

@test "an unreachable upload API is reported, exit 0" {
  copy_fixture passing
  run "$TEP_BIN" run
  export BUILDKITE_TEST_ENGINE_UPLOAD_BASE_URL=https://127.0.0.1:9 BUILDKITE_TEST_ENGINE_UPLOAD_RETRY_BUDGET=1
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "upload of 2 results failed"
}

@test "JUnit mode uploads each attempt's file with format junit" {
  copy_fixture failing
  export BUILDKITE_TEST_ENGINE_TEST_CMD='/usr/bin/python3 -m pytest -p no:cacheprovider {{testExamples}} --junit-xml={{resultPath}}'
  export BUILDKITE_TEST_ENGINE_RETRY_COUNT=1
  run "$TEP_BIN" run
  assert_failure 1
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "Upload: 3 results in 2 requests"
  run uploads_py <<'PY'
print([(u["body"]["fields"]["format"], u["body"]["data"]["filename"], u["body"]["data"]["text"].count("<testcase")) for u in ups])
PY
  assert_output "[('junit', 'attempt-0.xml', 2), ('junit', 'attempt-1.xml', 1)]"
}

@test "a JUnit file over the batch size is cut into valid documents that keep every testcase's bytes" {
  copy_fixture outcomes
  export BUILDKITE_TEST_ENGINE_TEST_CMD='/usr/bin/python3 -m pytest -p no:cacheprovider {{testExamples}} --junit-xml={{resultPath}}'
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=2
  run "$TEP_BIN" run
  assert_failure 1
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "Upload: 5 results in 3 requests"
  run uploads_py "$BATS_TEST_TMPDIR/state-0/results/attempt-0.xml" <<'PY'
import re
import xml.etree.ElementTree as ET
original = open(sys.argv[2]).read()
cases = []
for u in ups:
    text = u["body"]["data"]["text"]
    root = ET.fromstring(text.encode())          # each part is a well-formed document
    assert root.tag == "testsuites" and root[0].tag == "testsuite"
    cases += re.findall(r"<testcase .*?(?:/>|</testcase>)", text, re.S)
assert cases == re.findall(r"<testcase .*?(?:/>|</testcase>)", original, re.S), "bytes changed or lost"
print([len(ET.fromstring(u["body"]["data"]["text"].encode())[0]) for u in ups])
PY
  assert_output "[2, 2, 1]"
}

@test "no upload token and OIDC off: a warning, nothing sent, exit 0" {
  copy_fixture passing
  run "$TEP_BIN" run
  unset BUILDKITE_ANALYTICS_TOKEN
  export BUILDKITE_TEST_ENGINE_OIDC=false
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "BUILDKITE_ANALYTICS_TOKEN is not set"
  assert_equal "$(requests_to /v1/uploads)" 0
}

@test "a failing run publishes its failed node ids; a job retry runs exactly those" {
  copy_fixture failing
  run "$TEP_BIN" run
  assert_failure 1
  run "$TEP_BIN" report
  assert_output --partial "Retry selectors: 1 failed test in meta-data test-engine-pytest:retry-selectors:step-abcd:0"
  assert_equal "$(cat "$AGENT_DIR"/meta-data/*)" "$(printf '#test-engine-pytest selectors v2 count=1\ntest_fail.py::test_really_broken')"
  before=$(requests_to /test_plan)
  export BUILDKITE_RETRY_COUNT=1 BUILDKITE_TEST_ENGINE_STATE_DIR="$BATS_TEST_TMPDIR/retry-state"
  run "$TEP_BIN" plan
  assert_success
  assert_output --partial "Plan source: retry selectors - Buildkite job retry 1: running only the 1 test that failed"
  assert_equal "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tests"])' "$BUILDKITE_TEST_ENGINE_STATE_DIR/slice.json")" "['test_fail.py::test_really_broken']"
  assert_equal "$(requests_to /test_plan)" "$before" # a retry with selectors asks for no plan
}

@test "a passing run publishes 'none', so a later retry runs the normal slice" {
  copy_fixture passing
  run "$TEP_BIN" run
  run "$TEP_BIN" report
  assert_output --partial "Retry selectors: 0 failed tests"
  export BUILDKITE_RETRY_COUNT=1 BUILDKITE_TEST_ENGINE_STATE_DIR="$BATS_TEST_TMPDIR/retry-state"
  run "$TEP_BIN" plan
  assert_output --partial "The previous attempt left nothing to retry; running the normal slice"
  assert_output --partial "Plan source: server"
}

@test "a terminal run publishes no selectors and says why" {
  copy_fixture collection_errors
  run "$TEP_BIN" run
  assert_failure 65
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "Retry selectors: none published (terminal outcome"
  run grep -c "meta-data set" "$AGENT_DIR/calls"
  assert_output 0
  html=$(cmark-gfm --unsafe -e table "$AGENT_DIR"/annotations/test-engine-pytest-step-abcd.md)
  grep -q "Collection errors (2)" <<<"$html"
  grep -q "test_import_error.py</code>: ModuleNotFoundError: No module named 'module_that_does_not_exist_anywhere'" <<<"$html"
  assert_equal "$(cat "$AGENT_DIR"/annotations/test-engine-pytest-step-abcd.style)" error
}

@test "selectors too large for meta-data go to an artifact with a pointer, and come back on retry" {
  copy_fixture names
  export TEP_NAMES_FLAKY=1 BUILDKITE_TEST_ENGINE_SELECTORS_METADATA_LIMIT=64
  run "$TEP_BIN" run
  assert_failure 1
  run "$TEP_BIN" report
  assert_output --partial "Retry selectors: 6 failed tests in artifact retry-selectors-job-0-0-attempt0.txt"
  grep -q "artifact upload retry-selectors-job-0-0-attempt0.txt" "$AGENT_DIR/calls"
  grep -q "^#test-engine-pytest selectors v2 artifact=retry-selectors-job-0-0-attempt0.txt job=job-0 count=6$" "$AGENT_DIR"/meta-data/*
  export BUILDKITE_RETRY_COUNT=1 BUILDKITE_TEST_ENGINE_STATE_DIR="$BATS_TEST_TMPDIR/retry-state"
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "running only the 6 tests that failed"
  assert_output --partial "test_names.py::test_param[a::b]"
}

@test "hostile retry selectors in meta-data are refused" {
  copy_fixture passing
  mkdir -p "$AGENT_DIR/meta-data"
  printf '#test-engine-pytest selectors v1 count=3\n--co\n/etc/passwd\ntest_ok.py::test_one\n' \
    > "$AGENT_DIR/meta-data/test-engine-pytest_retry-selectors_step-abcd_0"
  export BUILDKITE_RETRY_COUNT=1
  run "$TEP_BIN" plan
  assert_success
  assert_output --partial "refused retry selector '--co': starts with '-'"
  assert_output --partial "refused retry selector '/etc/passwd': is an absolute path"
  assert_equal "$(slice_tests 0)" "test_ok.py::test_one"
}

@test "the annotation: a passing job with a flaky test adds a note to the step's warning box; a good upload adds nothing" {
  copy_fixture shop
  export BUILDKITE_TEST_ENGINE_RETRY_COUNT=1
  run "$TEP_BIN" run
  run "$TEP_BIN" report
  assert_output --partial "Upload: 13 results in 1 request"
  [ ! -e "$AGENT_DIR/annotations/test-engine-pytest-step-abcd.md" ]
  f="$AGENT_DIR/annotations/test-engine-pytest-step-abcd-notes.md"
  [ -f "$f" ]
  grep -q "^\*\*:warning: pytest\*\* · \[job\](https://buildkite.localhost/b/7#job-0): passed$" "$f"
  grep -q "^12 passed · 1 flaky$" "$f"
  grep -q "Flaky tests (failed, then passed on an in-job retry) (1):" "$f"
  run grep -c "^annotate --append --style warning --context test-engine-pytest-step-abcd-notes$" "$AGENT_DIR/calls"
  assert_output 1
  assert_equal "$(cat "$AGENT_DIR/annotations/test-engine-pytest-step-abcd-notes.style")" warning
  assert_no_secret "$AGENT_DIR"
}

@test "a huge failure list is cut to stay under 1 MiB" {
  copy_fixture passing
  cat > many.sh <<'SH'
#!/usr/bin/env bash
for a in "$@"; do case "$a" in --json=*) out=${a#--json=};; esac; done
/usr/bin/python3 -c '
import json, sys
reason = "AssertionError: " + "x" * 250
json.dump([{"scope": "t.py", "name": "test_%d" % i, "result": "failed", "failure_reason": reason} for i in range(20000)], open(sys.argv[1], "w"))' "$out"
exit 1
SH
  chmod +x many.sh
  export BUILDKITE_TEST_ENGINE_TEST_CMD="./many.sh {{testExamples}} --json={{resultPath}}"
  run "$TEP_BIN" run
  assert_failure 1
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "Upload: 20000 results in 4 requests"
  f="$AGENT_DIR/annotations/test-engine-pytest-step-abcd.md"
  size=$(stat -c %s "$f")
  # the job's section is bounded (16 KiB) so 50 such jobs fit one box
  [ "$size" -lt 17000 ]
  [ "$size" -gt 8000 ]
  grep -q "Failed tests (20000):" "$f"
  grep -Eq "and [0-9]+ more, not shown to keep the annotation small: see the job log" "$f"
}

@test "plan metadata is posted for server plans, with timeline and statistics" {
  copy_fixture shop
  export BUILDKITE_TEST_ENGINE_RETRY_COUNT=1
  run "$TEP_BIN" run
  run "$TEP_BIN" report
  assert_output --partial "Plan metadata: sent"
  run /usr/bin/python3 - "$SERVER_DIR/requests.jsonl" <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
m = [r for r in reqs if r["path"].endswith("/test_plan_metadata")][0]
b = m["body"]
assert m["headers"]["Authorization"] == "Bearer tok-api-SECRET-7f3a9"
assert [e["event"] for e in b["timeline"]] == ["test_start", "test_end", "retry_1_start", "retry_1_end"], b["timeline"]
assert b["statistics"] == {"total": 12, "passed_on_first_run": 11, "passed_on_retry": 1, "muted_passed": 0,
                           "muted_failed": 0, "failed": 0, "skipped": 0}, b["statistics"]
assert b["env"]["BUILDKITE_TEST_ENGINE_SUITE_SLUG"] == "shop" and b["version"]
print("ok")
PY
  assert_output ok
}

@test "no plan metadata after a fallback plan" {
  copy_fixture passing
  faults '{"plan_get": [{"status": 500, "forever": true}]}'
  export BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=0
  run "$TEP_BIN" run
  run "$TEP_BIN" report
  assert_success
  refute_output --partial "Plan metadata"
  assert_equal "$(requests_to /test_plan_metadata)" 0
  # the step's note, not the job's: a box of its own
  [ ! -e "$AGENT_DIR"/annotations/test-engine-pytest-step-abcd-notes.md ]
  cmark-gfm "$AGENT_DIR"/annotations/test-engine-pytest-step-abcd-note-*.md | grep -q "split locally, not by Test Engine"
  cmark-gfm "$AGENT_DIR"/annotations/test-engine-pytest-step-abcd-note-*.md | grep -q "plan API could not be used: Timeout"
}

@test "report without a run result says so and exits 0" {
  copy_fixture passing
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "no run result in"
}

@test "report with invalid configuration lists the problems and still exits 0" {
  copy_fixture passing
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=99999
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE: 99999 is out of range"
}

@test "a blank upload token is minted with buildkite-agent oidc request-token" {
  copy_fixture passing
  run "$TEP_BIN" run
  unset BUILDKITE_ANALYTICS_TOKEN
  export STUB_OIDC_TOKEN=oidc-SECRET-upload-91 BUILDKITE_TEST_ENGINE_OIDC_LIFETIME=30m
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "Using an OIDC token from buildkite-agent for BUILDKITE_ANALYTICS_TOKEN"
  assert_output --partial "Upload: 2 results in 1 request"
  refute_output --partial "oidc-SECRET"
  grep -q "oidc request-token --audience $SERVER_URL/v2/analytics/organizations/acme/suites/shop --lifetime 1800" "$AGENT_DIR/calls"
  grep -q 'Token token=\\"oidc-SECRET-upload-91\\"' "$SERVER_DIR/requests.jsonl"
  ! grep -rqs "oidc-SECRET" "$AGENT_DIR/annotations" || false
}

@test "a failing OIDC mint for the upload is reported, exit 0" {
  copy_fixture passing
  run "$TEP_BIN" run
  unset BUILDKITE_ANALYTICS_TOKEN
  export STUB_OIDC_FAIL=1
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "BUILDKITE_ANALYTICS_TOKEN is blank and minting an OIDC token failed"
  assert_output --partial "OIDC is not allowed for this pipeline"
  assert_equal "$(requests_to /v1/uploads)" 0
}
