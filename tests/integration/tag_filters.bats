#!/usr/bin/env bats
# BUILDKITE_TEST_ENGINE_TAG_FILTERS: only tests whose execution_tag matches
# are planned and run, each exactly once across the jobs, with the server plan
# and with the local fallback (real pytest, the collector stand-in).

load '../support/helpers'

REGISTERED="$TEP_SOURCE_DIR/fixtures/collector/registered"
PAYMENTS='tests/test_checkout.py::test_pay
tests/test_checkout.py::test_rates[0.1]
tests/test_checkout.py::test_rates[0.2]
tests/test_checkout.py::test_refund'

setup() {
  copy_fixture tags
  start_server
  export PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$SUPPORT:$REGISTERED"
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest -p no:cacheprovider {{testExamples}}"
  export BUILDKITE_TEST_ENGINE_TAG_FILTERS=team:payments
}

teardown() { stop_server; }

# plan_jobs COUNT: plans every job of a COUNT-job step (their output in $PLAN_LOG);
# then $all holds every slice entry of every job, one per line.
plan_jobs() {
  local j
  PLAN_LOG="$BATS_TEST_TMPDIR/plan.log"
  for j in $(seq 0 $(($1 - 1))); do
    job_env "$j" "$1"
    ${AFTER_JOB_ENV:-true}
    run "$TEP_BIN" plan
    echo "$output" >>"$PLAN_LOG"
    [ "$status" -eq 0 ] || { echo "job $j: $output" >&2; return 1; }
  done
  all=$(for j in $(seq 0 $(($1 - 1))); do slice_tests "$j"; done)
}

# posted_plan: the last plan POST's examples (paths) and selectors, one "kind value" per line.
posted_plan() {
  "$SERVER_PY" - "$SERVER_DIR/requests.jsonl" <<'PY'
import json, sys
posts = [json.loads(l) for l in open(sys.argv[1])]
body = [r for r in posts if r["method"] == "POST" and r["path"].endswith("/test_plan")][-1]["body"]
for e in body["tests"].get("examples", []):
    print("example", e["path"], e["format"], e["scope"], e["name"])
for s in body["tests"].get("selectors", []):
    print("selector", s["value"])
PY
}

@test "server plan: the matching tests, each on exactly one of three jobs, and nothing else" {
  plan_jobs 3
  assert_equal "$(echo "$all" | sort)" "$PAYMENTS"
  assert_equal "$(echo "$all" | sort | uniq -d)" ""
  run cat "$PLAN_LOG"
  assert_output --partial "Plan source: server"
  assert_output --partial "Tag filter team:payments: 4 tests in 1 of 3 files match"
  # As bktec: every match goes as an example, no file selectors, no filter_tests call.
  run posted_plan
  assert_output "example tests/test_checkout.py::test_pay example tests/test_checkout.py test_pay
example tests/test_checkout.py::test_refund example tests/test_checkout.py test_refund
example tests/test_checkout.py::test_rates[0.1] example tests/test_checkout.py test_rates[0.1]
example tests/test_checkout.py::test_rates[0.2] example tests/test_checkout.py test_rates[0.2]"
  assert_equal "$(requests_to /test_plan/filter_tests)" 0
}

@test "fallback plan keeps the filter (bktec drops it): each matching test once, nothing else" {
  faults '{"plan_get": [{"status": 503, "forever": true}]}'
  export BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=0
  plan_jobs 3
  assert_equal "$(echo "$all" | sort)" "$PAYMENTS"
  grep -q "Plan source: fallback" "$PLAN_LOG"
  assert_equal "$(echo "$all" | sort | uniq -d)" ""
}

@test "without Test Engine (local plan) the filter applies too" {
  no_test_engine() { unset BUILDKITE_TEST_ENGINE_SUITE_SLUG BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN BUILDKITE_ORGANIZATION_SLUG; }
  AFTER_JOB_ENV=no_test_engine
  plan_jobs 2
  assert_equal "$(echo "$all" | sort)" "$PAYMENTS"
  grep -q "planning locally" "$PLAN_LOG"
  assert_equal "$(cat "$SERVER_DIR/requests.jsonl" 2>/dev/null | wc -l)" 0
}

@test "the run executes exactly the job's matching tests (JSON results name only them)" {
  export BUILDKITE_TEST_ENGINE_TAG_FILTERS=team:search
  job_env 0 1
  run "$TEP_BIN" run
  assert_success
  run "$SERVER_PY" -c 'import json,sys; print("\n".join(sorted(r["scope"]+"::"+r["name"] for r in json.load(open(sys.argv[1])))))' \
    "$BATS_TEST_TMPDIR/state-0/results/attempt-0.json"
  # The class's marker wins over its method's (the collector's rule), so test_override is "search".
  assert_output "tests/test_catalog.py::TestBrowse::test_list
tests/test_catalog.py::TestBrowse::test_override
tests/test_checkout.py::test_search_box"
}

@test "JUnit mode (no collector): a configuration error at plan time, before any request" {
  export PYTHONPATH="$SUPPORT"
  job_env 0 2
  run "$TEP_BIN" plan
  assert_failure 78
  assert_output --partial "BUILDKITE_TEST_ENGINE_TAG_FILTERS 'team:payments' needs buildkite-test-collector"
  assert_output --partial "results would be JUnit XML"
  assert_equal "$(cat "$SERVER_DIR/requests.jsonl" 2>/dev/null | wc -l)" 0
}

@test "a collector without --tag-filters (1.2.0 and older): a configuration error naming the option" {
  # An old collector: --json but no --tag-filters.
  mkdir -p "$BATS_TEST_TMPDIR/old"
  printf '%s\n' 'def pytest_addoption(parser):' \
    '    parser.addoption("--json", action="store", dest="jsonpath", default=None)' >"$BATS_TEST_TMPDIR/old/old_collector.py"
  export PYTHONPATH="$BATS_TEST_TMPDIR/old"
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest -p old_collector {{testExamples}} --json={{resultPath}}"
  job_env 0 2
  run "$TEP_BIN" plan
  assert_failure 78
  assert_output --partial "pytest does not know --tag-filters, so the collector the test command loads is missing or 1.2.0 or older"
  assert_equal "$(requests_to /test_plan)" 0
}

@test "a launcher option pytest refuses is named as such, not blamed on the collector" {
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest --no-such-option {{testExamples}}"
  job_env 0 2
  run "$TEP_BIN" plan
  assert_failure 78
  assert_output --partial "BUILDKITE_TEST_ENGINE_TAG_FILTERS 'team:payments': cannot collect the tests to filter: pytest --collect-only exited 4"
  assert_output --partial "unrecognized arguments: --no-such-option"
  refute_output --partial "does not know --tag-filters"
}

@test "pytest's rootdir above the working directory: node ids are not the files', a 78 that says why" {
  mkdir sub && mv tests sub/ && printf '[pytest]\n' >pytest.ini && cd sub
  job_env 0 2
  run "$TEP_BIN" plan
  assert_failure 78
  assert_output --partial "pytest named 4 tests outside the discovered files (e.g. 'sub/tests/test_checkout.py::test_pay'): its rootdir is not the working directory"
}

@test "a filter that matches nothing is a configuration error, not an empty green build" {
  export BUILDKITE_TEST_ENGINE_TAG_FILTERS=team:nobody
  job_env 0 2
  run "$TEP_BIN" plan
  assert_failure 78
  assert_output --partial "BUILDKITE_TEST_ENGINE_TAG_FILTERS 'team:nobody' matches no test in the 3 discovered files"
}

@test "a filter that is not key:value is refused with the other configuration problems" {
  for bad in team team: :payments; do
    export BUILDKITE_TEST_ENGINE_TAG_FILTERS="$bad"
    job_env 0 2
    run "$TEP_BIN" plan
    assert_failure 78
    assert_output --partial "BUILDKITE_TEST_ENGINE_TAG_FILTERS: '$bad' is not key:value"
  done
  export BUILDKITE_PLUGIN_CONFIGURATION='{"tag-filters": "team"}'
  unset BUILDKITE_TEST_ENGINE_TAG_FILTERS
  run "$TEP_BIN" plan
  assert_failure 78
  assert_output --partial "'team' is not key:value"
}

@test "the plugin option tag-filters works like the variable" {
  unset BUILDKITE_TEST_ENGINE_TAG_FILTERS
  export BUILDKITE_PLUGIN_CONFIGURATION='{"tag-filters": "team:payments"}'
  plan_jobs 2
  assert_equal "$(echo "$all" | sort)" "$PAYMENTS"
}

@test "a file that cannot be imported is a collection error (terminal), named" {
  echo 'import no_such_module_here' >tests/test_broken.py
  job_env 0 2
  run "$TEP_BIN" plan
  assert_failure 65
  assert_output --partial "collection error in tests/test_broken.py"
}
