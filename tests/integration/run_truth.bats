#!/usr/bin/env bats
# The run phase tells the truth: the real cause of a collection error, timeouts
# named as such, one-based job numbers, exit-4 forensics on a node id's file,
# outside text escaped, and no token in pytest's environment. Real binary,
# real pytest, the HTTPS stand-in and the stub agent.

load '../support/helpers'

setup() {
  pytest_job agent upload
}

teardown() { stop_server; }

state() { echo "$BATS_TEST_TMPDIR/state-${BUILDKITE_PARALLEL_JOB:-0}"; }

run_json() {
  /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); r, f = d[0], d[1:]; print(($1))" "$(state)/run.json"
}

annotation() { cat "$AGENT_DIR"/annotations/*.md | cmark-gfm --unsafe -e table; } # as rendered HTML

# plan_entries JSON-ARRAY: a server plan giving job 0 these test entries.
plan_entries() {
  server_config "{\"plans\": {\"build-1234/step-abcd\": {\"tasks\": {\"0\": {\"tests\": $1}}}}}"
}

@test "collection errors show the real cause (log summary and annotation), JSON and JUnit, and that the slice did not run" {
  for mode in JSON JUNIT; do
    rm -rf "$BATS_TEST_TMPDIR/work" "$(state)" "$AGENT_DIR/annotations"
    copy_fixture collection_errors
    cmd_var="${mode}_CMD"
    export BUILDKITE_TEST_ENGINE_TEST_CMD="${!cmd_var}"
    run "$TEP_BIN" run
    assert_failure 65
    assert_output --partial "  collection error: test_syntax_error.py - SyntaxError: invalid syntax (test_syntax_error.py, line 1)"
    assert_output --partial "  collection error: test_import_error.py - ModuleNotFoundError: No module named 'module_that_does_not_exist_anywhere'"
    assert_output --partial "pytest stopped at collection, so none of the 3 entries given to it ran; a retry will not help"
    refute_output --regexp "collection error: [^ ]+ - (/usr/lib|ImportError while)"
    run "$TEP_BIN" report
    assert_success
    run annotation
    assert_output --partial "test_syntax_error.py</code>: SyntaxError: invalid syntax (test_syntax_error.py, line 1)"
    assert_output --partial "test_import_error.py</code>: ModuleNotFoundError: No module named 'module_that_does_not_exist_anywhere'"
    assert_output --partial "pytest stopped at collection"
    refute_output --partial "_pytest/python.py:618"
  done
}

@test "with --continue-on-collection-errors the cause is shown and nothing claims the slice did not run" {
  copy_fixture collection_errors
  export BUILDKITE_TEST_ENGINE_TEST_CMD="$JUNIT_CMD --continue-on-collection-errors"
  run "$TEP_BIN" run
  assert_failure 65
  assert_output --partial "collection errors in 2 files: test_import_error.py (ModuleNotFoundError: No module named 'module_that_does_not_exist_anywhere'); test_syntax_error.py (SyntaxError: invalid syntax (test_syntax_error.py, line 1)); a retry will not help"
  refute_output --partial "stopped at collection"
  assert_output --partial "  failed: test_fine.py::test_fails_too - AssertionError: a real failure next to the collection errors"
}

@test "a timeout says 'timed out after N s', not a signal number" {
  copy_fixture passing
  printf 'import time\ndef test_hang():\n    time.sleep(60)\n' > test_hang.py
  export BUILDKITE_TEST_ENGINE_TIMEOUT=2
  run "$TEP_BIN" run
  assert_failure 143
  assert_output --partial "FAILED: pytest timed out after 2s (BUILDKITE_TEST_ENGINE_TIMEOUT); its process group was killed"
  refute_output --partial "signal 15"
  # pytest's own reports name the test it was in, and the tests that finished still count
  assert_equal "$(run_json 'r["why"]')" "pytest timed out after 2s (BUILDKITE_TEST_ENGINE_TIMEOUT); its process group was killed; it was running test_hang.py::test_hang; the 2 tests that finished are reported"
}

@test "a cancellation says so, not a bare signal number" {
  copy_fixture passing
  printf 'import os, time\ndef test_slow():\n    open(os.environ["TEP_FLAKY_DIR"] + "/started", "w").close()\n    time.sleep(60)\n' > test_slow.py
  "$TEP_BIN" run > out.txt 2>&1 &
  pid=$!
  wait_for_file "$TEP_FLAKY_DIR/started"
  kill -TERM "$pid"
  wait "$pid" && status=0 || status=$?
  assert_equal "$status" 143
  grep -q "FAILED: cancelled: we were sent SIGTERM and passed it on to pytest" out.txt
}

@test "job numbers shown to people are one-based everywhere: plan, run, report, annotation" {
  copy_fixture shop
  job_env 1 2
  faults '{"plan_get": [{"status": 503, "forever": true}], "plan_post": [{"status": 503, "forever": true}]}'
  export BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=0
  run "$TEP_BIN" plan
  assert_success
  assert_output --partial "plan for job 2 of 2"
  assert_output --regexp "  job 1: [0-9]+ entr"
  assert_output --regexp "  job 2: [0-9]+ entr"
  all="$output"
  run "$TEP_BIN" run
  all="$all$output"
  run "$TEP_BIN" report
  all="$all$output$(annotation)"
  grep -q "job 2 of 2" <<<"$(annotation)"
  run grep -E "[Jj]ob 0\b|job [0-9]+ of [0-9]+" <<<"$all"
  refute_output --regexp "[Jj]ob 0\b"
  refute_output --partial "job 3"
  # A plan that gives this job nothing says which job, one-based.
  faults '{}'
  rm -rf "$(state)"
  server_config '{"plans": {"build-1234/step-abcd": {"tasks": {"0": {"tests": [{"path": "tests/test_cart.py"}]}}}}}'
  run "$TEP_BIN" plan
  assert_output --partial "the plan has no tests for job 2 of 2"
}

@test "exit-4 forensics for a node id check its file part" {
  copy_fixture exit4
  plan_entries '[{"path": "test_here.py", "format": "selector", "value": "test_here.py::test_here"}]'
  export BUILDKITE_TEST_ENGINE_TEST_CMD="./always_exit4.sh {{testExamples}} --json={{resultPath}}"
  export BUILDKITE_TEST_ENGINE_EXIT4_BACKOFF_MS=10
  run "$TEP_BIN" run
  assert_failure 4
  assert_output --partial "file or directory not found: test_here.py::test_here"
  assert_output --partial "--- exit-4 forensics for test_here.py (file of test_here.py::test_here) ---"
  assert_output --partial "exists=true retries_used=3"
  assert_output --regexp "parent=\. entries=[0-9]+ similar=\[test_here.py\]"
}

@test "outside text is printed with its control characters escaped: plan entries, failure reasons, annotation" {
  copy_fixture passing
  cat > test_hostile.py <<'PY'
def test_red():
    assert False, "\x1b[31mred\x1b[0m\x07 done"
PY
  plan_entries '[{"path": "test_ok.py"}, {"path": "test_hostile.py"}, {"path": "x.py\n+++ fake section\u001b[2J"}]'
  run "$TEP_BIN" run
  assert_failure 1
  # Our lines: escaped (by the log, or earlier by the plan reader), on one
  # line, no section of their own.
  assert_output --regexp "refused a plan entry: 'x\.py(\\\\n|\?)\+\+\+ fake section(\\\\x1b|\?)\[2J' contains a line break"
  refute_line "+++ fake section"
  refute_line --regexp "^\+\+\+ fake"
  assert_output --partial "  failed: test_hostile.py::test_red - AssertionError: \\x1b[31mred\\x1b[0m\\x07 done"
  run grep -c $'failed: test_hostile.py::test_red - AssertionError: \x1b' <<<"$output"
  assert_output 0
  run "$TEP_BIN" report
  run grep -c $'\x1b' "$AGENT_DIR"/annotations/test-engine-pytest-step-abcd.md
  assert_output 0
  grep -q 'AssertionError: \\x1b\[31mred' <<<"$(annotation)"
}

@test "pytest never sees either token: not in the first run, not in a retry" {
  copy_fixture passing
  cat > test_env.py <<'PY'
import os
def test_env_has_no_token():
    d = os.environ["TEP_FLAKY_DIR"]
    n = len([f for f in os.listdir(d) if f.startswith("env-")])
    with open(os.path.join(d, "env-%d.txt" % n), "w") as f:
        f.write("\n".join("%s=%s" % kv for kv in os.environ.items()))
    assert n > 0, "fails once, so the retry command runs too"
PY
  export BUILDKITE_TEST_ENGINE_RETRY_COUNT=1
  export BUILDKITE_TEST_ENGINE_RETRY_CMD="/usr/bin/python3 -m pytest -p tep_collector -p no:cacheprovider {{testExamples}} --json={{resultPath}}"
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "retry 1 of 1"
  [ -f "$TEP_FLAKY_DIR/env-0.txt" ] && [ -f "$TEP_FLAKY_DIR/env-1.txt" ]
  grep -q "^TEP_FLAKY_DIR=" "$TEP_FLAKY_DIR/env-1.txt" # the dump is real
  assert_no_secret "$TEP_FLAKY_DIR"
  run grep -l -e "BUILDKITE_ANALYTICS_TOKEN" -e "BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN" "$TEP_FLAKY_DIR"/env-0.txt "$TEP_FLAKY_DIR"/env-1.txt
  assert_failure
}

@test "a launcher that drops PYTHONPATH: pytest runs again without our recorder, and no later pytest of the run gets it" {
  copy_fixture failing
  export BUILDKITE_TEST_ENGINE_TEST_CMD="env -u PYTHONPATH $JUNIT_CMD" BUILDKITE_TEST_ENGINE_RETRY_COUNT=1
  run "$TEP_BIN" run
  assert_failure 1
  assert_equal "$(grep -c "pytest could not import our recorder plugin" <<<"$output")" 1
  assert_output --partial "failed: test_fail.py::test_really_broken"
  assert_equal "$(grep -c '^\$ env -u PYTHONPATH' <<<"$output")" 3 # attempt 0 twice, the retry once
}
