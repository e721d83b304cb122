#!/usr/bin/env bats
# The run phase: real binary, real pytest (Debian's), both result modes.

load '../support/helpers'

setup() {
  pytest_job upload
}

teardown() { stop_server; }

state() { echo "$BATS_TEST_TMPDIR/state-0"; }

# reported_ids: every node id of the run, as the report phase's durations
# artifact names them (the run model itself lists only the failures), sorted.
reported_ids() {
  install_agent_stub
  BUILDKITE_TEST_ENGINE_UPLOAD_RESULTS=false "$TEP_BIN" report >/dev/null 2>&1
  /usr/bin/python3 -c 'import json,sys; print(sorted(json.load(open(sys.argv[1]))))' \
    "$(state)/test-engine-pytest-durations-$BUILDKITE_JOB_ID.json"
}

# run_json EXPR: evaluates a Python expression over run.json: its header bound to r,
# the tests that failed in some attempt (the only ones it lists) to f.
run_json() {
  /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); r, f = d[0], d[1:]; print(($1))" "$(state)/run.json"
}

@test "passing project, JSON mode: exit 0 and every test recorded" {
  copy_fixture passing
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "Results: collector JSON mode (the test command names --json)"
  assert_output --partial "PASSED: all tests passed"
  assert_equal "$(run_json 'r["counts"]["total"], r["exit_status"], r["mode"], f')" "(2, 0, 'json', [])"
}

@test "failing project: exit 1 after the in-job retry, the retry ran only the failed node id" {
  copy_fixture failing
  export BUILDKITE_TEST_ENGINE_RETRY_COUNT=2
  run "$TEP_BIN" run
  assert_failure 1
  assert_output --partial "retry 1 of 2: running the 1 failing test again"
  assert_output --partial "retry 2 of 2"
  assert_output --partial "failed: test_fail.py::test_really_broken - AssertionError: value mismatch"
  assert_output --regexp "\\$ /usr/bin/python3 -m pytest .* test_fail.py::test_really_broken --json="
  assert_equal "$(run_json '[(a["index"], a["exit_code"], a["selectors"]) for a in r["attempts"]]')" "[(0, 1, 1), (1, 1, 1), (2, 1, 1)]"
  # test_passes ran once (it passed at once); only the broken test ran three times
  assert_equal "$(run_json 'r["counts"]["passed_first"], [(t["node_id"], t["attempts"]) for t in f]')" \
    "(1, [('test_fail.py::test_really_broken', 3)])"
}

@test "a flaky test fails, passes on retry: exit 0, reported as flaky, both attempts kept" {
  copy_fixture shop
  export BUILDKITE_TEST_ENGINE_RETRY_COUNT=1
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "flaky (failed, then passed): tests/test_payments.py::test_gateway_flaky"
  assert_output --partial "passed on retry      1 (flaky: 1)"
  [ -f "$(state)/results/attempt-0.json" ] && [ -f "$(state)/results/attempt-1.json" ]
}

@test "without in-job retries the flaky failure stays a failure (exit 1)" {
  copy_fixture shop
  run "$TEP_BIN" run
  assert_failure 1
  assert_output --partial "1 test failed after 1 attempt"
}

@test "collection errors are terminal (65) in JSON mode, name the files, and stop retries" {
  copy_fixture collection_errors
  export BUILDKITE_TEST_ENGINE_RETRY_COUNT=3
  run "$TEP_BIN" run
  assert_failure 65
  assert_output --partial "collection errors in 2 files: test_import_error.py (ModuleNotFoundError: No module named 'module_that_does_not_exist_anywhere'); test_syntax_error.py (SyntaxError: invalid syntax (test_syntax_error.py, line 1)); pytest stopped at collection, so none of the 3 entries given to it ran; a retry will not help"
  refute_output --partial "retry 1 of 3"
  assert_equal "$(run_json 'r["terminal"], len(r["attempts"])')" "(True, 1)"
}

@test "collection errors under --continue-on-collection-errors (pytest exits 1) are still terminal" {
  copy_fixture collection_errors
  export BUILDKITE_TEST_ENGINE_TEST_CMD="$JSON_CMD --continue-on-collection-errors" BUILDKITE_TEST_ENGINE_RETRY_COUNT=2
  run "$TEP_BIN" run
  assert_failure 65
  refute_output --partial "retry 1 of 2"
  assert_equal "$(run_json 'r["attempts"][0]["exit_code"]')" "1"
}

@test "collection errors under xdist (-n 2, pytest exits 1) are terminal" {
  copy_fixture collection_errors
  export BUILDKITE_TEST_ENGINE_TEST_CMD="$JSON_CMD -n 2"
  run "$TEP_BIN" run
  assert_failure 65
  assert_output --partial "test_import_error.py"
}

@test "collection errors are terminal in JUnit mode too (pytest's 'collection failure' testcase)" {
  copy_fixture collection_errors
  export BUILDKITE_TEST_ENGINE_TEST_CMD="$JUNIT_CMD" BUILDKITE_TEST_ENGINE_RETRY_COUNT=2
  run "$TEP_BIN" run
  assert_failure 65
  assert_output --partial "Results: JUnit XML mode (the test command names --junit-xml)"
  assert_output --partial "collection errors in 2 files: test_import_error.py (ModuleNotFoundError: No module named 'module_that_does_not_exist_anywhere'); test_syntax_error.py (SyntaxError: invalid syntax (test_syntax_error.py, line 1))"
  assert_equal "$(run_json 'r["mode"], r["terminal"]')" "('junit', True)"
}

@test "JUnit mode: failures, skips, xfail and strict xpass are classified; node ids rebuilt" {
  copy_fixture outcomes
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest -p no:cacheprovider {{testExamples}} --junitxml {{resultPath}}"
  run "$TEP_BIN" run
  assert_failure 1
  assert_output --partial "Results: JUnit XML mode"
  assert_equal "$(run_json '[(t["node_id"], t["status"]) for t in f], [r["counts"][k] for k in ("passed_first", "skipped", "failed")]')" \
    "([('test_outcomes.py::test_xpass_strict', 'failed')], [2, 2, 1])"
  assert_equal "$(reported_ids)" \
    "['test_outcomes.py::test_pass', 'test_outcomes.py::test_skipped', 'test_outcomes.py::test_xfail', 'test_outcomes.py::test_xpass', 'test_outcomes.py::test_xpass_strict']"
}

@test "JSON mode: the same outcomes, from the collector format" {
  copy_fixture outcomes
  run "$TEP_BIN" run
  assert_failure 1
  assert_equal "$(run_json '[(t["node_id"], t["status"]) for t in f], [r["counts"][k] for k in ("passed_first", "skipped", "failed")]')" \
    "([('test_outcomes.py::test_xpass_strict', 'failed')], [2, 2, 1])"
  assert_equal "$(reported_ids)" \
    "['test_outcomes.py::test_pass', 'test_outcomes.py::test_skipped', 'test_outcomes.py::test_xfail', 'test_outcomes.py::test_xpass', 'test_outcomes.py::test_xpass_strict']"
}

@test "odd names (classes, nested classes, spaces, unicode, quotes, brackets, '::') retry as one argv element each" {
  for mode in JSON JUNIT; do
    rm -rf "$BATS_TEST_TMPDIR/work" "$(state)" "$TEP_FLAKY_DIR"/*
    copy_fixture names
    cmd_var="${mode}_CMD"
    export BUILDKITE_TEST_ENGINE_TEST_CMD="${!cmd_var}" BUILDKITE_TEST_ENGINE_RETRY_COUNT=1 TEP_NAMES_FLAKY=1
    run "$TEP_BIN" run
    assert_success
    assert_output --partial "retry 1 of 1: running the 6 failing tests again"
    assert_equal "$(run_json 'sum(1 for t in f if t.get("failed_before"))')" 6
    assert_equal "$(run_json 'sorted(t["node_id"] for t in f if t.get("failed_before"))')" \
      "['test_names.py::test_param[[bracket]]', 'test_names.py::test_param[a::b]', 'test_names.py::test_param[h\\\\xe9llo w\\\\xf6rld]', 'test_names.py::test_param[plain]', 'test_names.py::test_param[quote\\'\"s]', 'test_names.py::test_param[with space]']"
    assert_equal "$(reported_ids | /usr/bin/python3 -c 'import ast,sys; print([i for i in ast.literal_eval(sys.stdin.read()) if "Test" in i])')" \
      "['test_names.py::TestOuter::TestInner::test_deep', 'test_names.py::TestOuter::test_method']"
  done
}

@test "an untagged pytest exit 2 in JSON mode is terminal" {
  copy_fixture passing
  cat > fake_pytest.sh <<'SH'
#!/usr/bin/env bash
for a in "$@"; do case "$a" in --json=*) printf '[]' > "${a#--json=}";; esac; done
exit 2
SH
  chmod +x fake_pytest.sh
  export BUILDKITE_TEST_ENGINE_TEST_CMD="./fake_pytest.sh {{testExamples}} --json={{resultPath}}" BUILDKITE_TEST_ENGINE_RETRY_COUNT=2
  run "$TEP_BIN" run
  assert_failure 65
  assert_output --partial "pytest exited 2 (interrupted) and reported no collection error"
}

@test "results that cannot be read are never a pass (65)" {
  copy_fixture passing
  printf '#!/usr/bin/env bash\nfor a in "$@"; do case "$a" in --json=*) printf "[{\\"scope\\": \\"x\\", \\"name\\": \\"t\\", \\"result\\": \\"passed\\"}, {" > "${a#--json=}";; esac; done\nexit 0\n' > truncating.sh
  chmod +x truncating.sh
  export BUILDKITE_TEST_ENGINE_TEST_CMD="./truncating.sh {{testExamples}} --json={{resultPath}}"
  run "$TEP_BIN" run
  assert_failure 65
  assert_output --partial "ends before its JSON array is closed"
  printf '#!/usr/bin/env bash\nexit 0\n' > silent.sh
  chmod +x silent.sh
  export BUILDKITE_TEST_ENGINE_TEST_CMD="./silent.sh {{testExamples}} --json={{resultPath}}"
  rm -rf "$(state)"
  run "$TEP_BIN" run
  assert_failure 65
  assert_output --partial "pytest exited 0 but wrote no results"
}

@test "a bad record is reported and skipped, the rest still count" {
  copy_fixture passing
  printf '#!/usr/bin/env bash\nfor a in "$@"; do case "$a" in --json=*) printf "[42, {\\"scope\\": \\"a.py\\", \\"name\\": \\"t\\", \\"result\\": \\"failed\\", \\"tags\\": {\\"n\\": 1}}]" > "${a#--json=}";; esac; done\nexit 1\n' > odd.sh
  chmod +x odd.sh
  export BUILDKITE_TEST_ENGINE_TEST_CMD="./odd.sh {{testExamples}} --json={{resultPath}}"
  run "$TEP_BIN" run
  assert_failure 1
  assert_output --partial "result record 1 is not a test record (42); skipped"
  assert_output --partial "failed: a.py::t"
}

@test "exit 4 twice then success: retried with backoff, exit 0" {
  copy_fixture exit4
  export BUILDKITE_TEST_ENGINE_TEST_CMD="./exit4_twice.sh {{testExamples}} -p tep_collector --json={{resultPath}}"
  export BUILDKITE_TEST_ENGINE_EXIT4_BACKOFF_MS=50
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "pytest exited 4 (file or directory not found: test_here.py) although the files exist; retry 1 of 3 in 0.1s"
  assert_output --partial "retry 2 of 3 in 0.1s"
  refute_output --partial "exit-4 forensics"
  assert_equal "$(cat "$TEP_FLAKY_DIR/exit4.count")" 3
}

@test "exit 4 that survives: 3 retries, forensics block, status 4 unchanged" {
  copy_fixture exit4
  git init -q . && touch untracked_a untracked_b
  export BUILDKITE_TEST_ENGINE_TEST_CMD="./always_exit4.sh {{testExamples}} --json={{resultPath}}"
  export BUILDKITE_TEST_ENGINE_EXIT4_BACKOFF_MS=10
  run "$TEP_BIN" run
  assert_failure 4
  assert_output --partial "--- exit-4 forensics for test_here.py ---"
  assert_output --partial "exists=true retries_used=3"
  assert_output --regexp "parent=\. entries=[0-9]+ similar=\[test_here.py\]"
  assert_output --regexp "git_dirty_entries=[0-9]+"
  assert_output --partial "?? untracked_a"
  assert_equal "$(cat "$TEP_FLAKY_DIR/exit4.count")" 4
  assert_equal "$(run_json '"exit-4 forensics" in r["forensics"]')" True
  assert_output --partial "FAILED: pytest exited 4 (file or directory not found: test_here.py) after 3 exit-4 retries; see the forensics"
}

@test "exit 4 for a file that is really gone is not retried" {
  copy_fixture exit4
  printf 'vanished.py\n' > files.txt
  export BUILDKITE_TEST_ENGINE_FILES=files.txt
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest -p tep_collector {{testExamples}} --json={{resultPath}}"
  run "$TEP_BIN" run
  assert_failure 4
  assert_output --partial "exists=false retries_used=0"
  refute_output --partial "retry 1 of 3"
}

@test "pytest never sees the upload or API token" {
  copy_fixture passing
  cat > test_env.py <<'PY'
import os
def test_no_tokens():
    assert "BUILDKITE_ANALYTICS_TOKEN" not in os.environ
    assert "BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN" not in os.environ
PY
  run "$TEP_BIN" run
  assert_success
  refute_output --partial "$API_TOKEN"
  refute_output --partial "$UPLOAD_TOKEN"
}

@test "a command needing a shell is refused with a clear message" {
  copy_fixture passing
  export BUILDKITE_TEST_ENGINE_TEST_CMD="pytest {{testExamples}} && echo done"
  run "$TEP_BIN" run
  assert_failure 78
  assert_output --partial "'&&' needs a shell, and commands run without one"
}

@test "a retry command needing a shell is a configuration error before anything runs" {
  copy_fixture failing
  export BUILDKITE_TEST_ENGINE_RETRY_CMD="pytest {{testExamples}} | tee log" BUILDKITE_TEST_ENGINE_RETRY_COUNT=1
  run "$TEP_BIN" run
  assert_failure 78
  assert_output --partial "BUILDKITE_TEST_ENGINE_RETRY_CMD: '|' needs a shell"
  refute_output --partial "running 1 entry"
}

@test "a missing pytest executable is a configuration error, not a pass" {
  copy_fixture passing
  export BUILDKITE_TEST_ENGINE_TEST_CMD="no-such-pytest {{testExamples}} --json={{resultPath}}" BUILDKITE_TEST_ENGINE_RETRY_COUNT=2
  run "$TEP_BIN" run
  assert_failure 78
  assert_output --partial "cannot run 'no-such-pytest': No such file or directory; check BUILDKITE_TEST_ENGINE_TEST_CMD and PATH"
  refute_output --partial "retry 1 of 2"
}

@test "stray arguments are refused with a pointer to the options" {
  run "$TEP_BIN" run --retry-count 2
  assert_failure 78
  assert_output --partial "unexpected argument '--retry-count'; pytest's own arguments go after --"
  assert_output --partial "other settings are environment variables or plugin options (test-engine-pytest --help)"
  run "$TEP_BIN" report --now
  assert_success
}

@test "SIGTERM is forwarded to the pytest process group: exit 143, results recorded, no orphans" {
  copy_fixture passing
  cat > test_slow.py <<'PY'
import os, subprocess, time
def test_slow():
    p = subprocess.Popen(["sleep", "300"])
    open(os.environ["TEP_FLAKY_DIR"] + "/grandchild.pid", "w").write(str(p.pid))
    time.sleep(300)
PY
  "$TEP_BIN" run > out.txt 2>&1 &
  pid=$!
  wait_for_file "$TEP_FLAKY_DIR/grandchild.pid"
  kill -TERM "$pid"
  wait "$pid" && status=0 || status=$?
  assert_equal "$status" 143
  grandchild=$(cat "$TEP_FLAKY_DIR/grandchild.pid")
  sleep 0.5
  run kill -0 "$grandchild"
  assert_failure
  assert_equal "$(run_json 'r["exit_status"]')" 143
}

@test "a cancellation between pytest runs (exit-4 backoff) stops at once and still records the run" {
  copy_fixture exit4
  export BUILDKITE_TEST_ENGINE_TEST_CMD="./always_exit4.sh {{testExamples}} --json={{resultPath}}"
  export BUILDKITE_TEST_ENGINE_EXIT4_BACKOFF_MS=2000
  "$TEP_BIN" run > out.txt 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do grep -q "retry 1 of 3 in 2.0s" out.txt && break; sleep 0.05; done
  kill -TERM "$pid"
  wait "$pid" && status=0 || status=$?
  assert_equal "$status" 143
  assert_equal "$(cat "$TEP_FLAKY_DIR/exit4.count")" 1
  assert_equal "$(run_json 'r["exit_status"]')" 143
}

@test "a grandchild left running after pytest exits normally is killed and reaped" {
  copy_fixture passing
  cat > test_leak.py <<'PY'
import os, signal, subprocess
def test_leaves_a_server_behind():
    p = subprocess.Popen(["bash", "-c", "trap '' TERM; sleep 300"])  # ignores SIGTERM
    open(os.environ["TEP_FLAKY_DIR"] + "/leak.pid", "w").write(str(p.pid))
PY
  SECONDS=0
  run "$TEP_BIN" run
  assert_success
  [ "$SECONDS" -lt 30 ]
  leaked=$(cat "$TEP_FLAKY_DIR/leak.pid")
  run kill -0 "$leaked"
  assert_failure
}

@test "a run timeout kills the whole group" {
  copy_fixture passing
  printf 'import time\ndef test_hang():\n    time.sleep(60)\n' > test_hang.py
  export BUILDKITE_TEST_ENGINE_TIMEOUT=2
  SECONDS=0
  run "$TEP_BIN" run
  [ "$SECONDS" -lt 20 ]
  assert_output --partial "pytest ran longer than BUILDKITE_TEST_ENGINE_TIMEOUT (2s)"
  assert_failure 143
}

@test "muted failures do not fail the job and are not retried by default" {
  copy_fixture failing
  server_config '{"muted_tests": [{"scope": "test_fail.py", "name": "test_really_broken"}]}'
  export BUILDKITE_TEST_ENGINE_RETRY_COUNT=2
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "passed; 1 muted test failed"
  refute_output --partial "retry 1 of 2"
  export BUILDKITE_TEST_ENGINE_DISABLE_RETRY_FOR_MUTED_TEST=false
  rm -rf "$(state)"
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "retry 1 of 2"
}

@test "an empty slice exits 0, or 78 with fail-on-no-tests" {
  copy_fixture passing
  server_config '{"plans": {"build-1234/step-abcd": {"tasks": {"0": {"tests": []}, "1": {"tests": [{"path": "test_ok.py"}]}}}}}'
  export BUILDKITE_PARALLEL_JOB_COUNT=2
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "no tests to run on this job"
  rm -rf "$(state)"
  export BUILDKITE_TEST_ENGINE_FAIL_ON_NO_TESTS=true
  run "$TEP_BIN" run
  assert_failure 78
}

@test "without --json or --junit-xml in the command the mode is chosen and the option added" {
  copy_fixture passing
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest -p no:cacheprovider {{testExamples}}"
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "Results: JUnit XML mode (buildkite-test-collector is not importable"
  assert_output --regexp "\\$ /usr/bin/python3 -m pytest -p no:cacheprovider test_ok.py --junit-xml=.*/results/attempt-0.xml"
}

@test "a user result path gets the merged result of all attempts; pytest writes each attempt in the state dir" {
  copy_fixture failing
  export BUILDKITE_TEST_ENGINE_RESULT_PATH="$BATS_TEST_TMPDIR/mine.json" BUILDKITE_TEST_ENGINE_RETRY_COUNT=1
  run "$TEP_BIN" run
  assert_failure 1
  assert_output --partial "--json=$(state)/results/attempt-1.json"
  [ -s "$(state)/results/attempt-0.json" ] && [ -s "$(state)/results/attempt-1.json" ]
  assert_output --partial "Results of 2 attempts (2 tests, final outcome each) written to $BATS_TEST_TMPDIR/mine.json"
}
