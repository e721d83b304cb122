#!/usr/bin/env bats
# BUILDKITE_TEST_ENGINE_RESULT_PATH holds the merged result of every attempt:
# each test once, with its final outcome, in the mode's own format, written
# atomically after the last attempt. Real binary, real pytest.

load '../support/helpers'

setup() {
  pytest_job upload no-cmd
}

teardown() { stop_server; }

state() { echo "$BATS_TEST_TMPDIR/state-0"; }

# final_outcomes MODE FILE: "node_id status" per record of a result file, sorted.
final_outcomes() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
import xml.etree.ElementTree as ET
mode, path = sys.argv[1], sys.argv[2]
rows = []
if mode == "json":
    for r in json.load(open(path)):
        rows.append(("%s::%s" % (r["scope"], r["name"]), r["result"]))
else:
    root = ET.parse(path).getroot()
    suites = root.findall("testsuite") if root.tag == "testsuites" else [root]
    assert len(suites) == 1, "one testsuite"
    cases = list(suites[0].iter("testcase"))
    s = suites[0].attrib
    kinds = {"failure": 0, "error": 0, "skipped": 0}
    for c in cases:
        tags = [e.tag for e in c]
        status = "failed" if ("failure" in tags or "error" in tags) else "skipped" if "skipped" in tags else "passed"
        for k in kinds:
            kinds[k] += k in tags
        rows.append(("%s::%s" % (c.get("classname"), c.get("name")), status))
    assert int(s["tests"]) == len(cases), (s, len(cases))
    assert int(s["failures"]) == kinds["failure"] and int(s["skipped"]) == kinds["skipped"], s
ids = [r[0] for r in rows]
assert len(set(ids)) == len(ids), "a test recorded twice"
for r in sorted(rows):
    print(*r)
PY
}

# model_count: how many tests run.json (the run model) counted.
model_count() {
  /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["counts"]["total"])' "$(state)/run.json"
}

prepare_project() {
  rm -rf "$BATS_TEST_TMPDIR/work" "$(state)" "$TEP_FLAKY_DIR"/* "$BATS_TEST_TMPDIR/out"
  copy_fixture shop
  printf 'def test_always_broken():\n    assert False, "still broken"\n' > tests/test_broken.py
}

@test "JSON: the result path holds every test once with its final outcome, after 3 attempts" {
  prepare_project
  export BUILDKITE_TEST_ENGINE_TEST_CMD="$JSON_CMD" BUILDKITE_TEST_ENGINE_RETRY_COUNT=2
  export BUILDKITE_TEST_ENGINE_RESULT_PATH="$BATS_TEST_TMPDIR/out/results.json"
  run "$TEP_BIN" run
  assert_failure 1
  assert_output --partial "retry 2 of 2: running the 1 failing test again"
  n=$(model_count)
  assert_output --partial "Results of 3 attempts ($n tests, final outcome each) written to $BUILDKITE_TEST_ENGINE_RESULT_PATH"
  run final_outcomes json "$BUILDKITE_TEST_ENGINE_RESULT_PATH"
  assert_success
  assert_equal "${#lines[@]}" "$n"
  assert_line "tests/test_payments.py::test_gateway_flaky passed"
  assert_line "tests/test_broken.py::test_always_broken failed"
  assert_line "tests/test_cart.py::test_add_item passed"
  # Nothing left half-written beside it.
  assert_equal "$(ls "$BATS_TEST_TMPDIR/out")" "results.json"
}

@test "JUnit: the result path is one valid document with each test's final outcome and matching counts" {
  prepare_project
  export BUILDKITE_TEST_ENGINE_TEST_CMD="$JUNIT_CMD" BUILDKITE_TEST_ENGINE_RETRY_COUNT=1
  export BUILDKITE_TEST_ENGINE_RESULT_PATH="$BATS_TEST_TMPDIR/out/junit.xml"
  run "$TEP_BIN" run
  assert_failure 1
  n=$(model_count)
  run final_outcomes junit "$BUILDKITE_TEST_ENGINE_RESULT_PATH"
  assert_success
  assert_equal "${#lines[@]}" "$n"
  assert_line "tests.test_payments::test_gateway_flaky passed"
  assert_line "tests.test_broken::test_always_broken failed"
}

@test "an earlier run's file never survives; a single attempt writes its result there too" {
  prepare_project
  rm tests/test_broken.py
  export BUILDKITE_TEST_ENGINE_TEST_CMD="$JSON_CMD"
  export BUILDKITE_TEST_ENGINE_RESULT_PATH="$BATS_TEST_TMPDIR/out/results.json"
  mkdir -p "$BATS_TEST_TMPDIR/out" && printf 'stale' > "$BUILDKITE_TEST_ENGINE_RESULT_PATH"
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest -p tep_collector -p no:cacheprovider {{testExamples}} --json={{resultPath}} -p no:nonexistent-plugin --badopt"
  run "$TEP_BIN" run
  assert_failure 78 # pytest refused the command: a configuration error
  assert_output --partial "pytest wrote no results, so $BUILDKITE_TEST_ENGINE_RESULT_PATH was not written"
  [ ! -e "$BUILDKITE_TEST_ENGINE_RESULT_PATH" ]
  export BUILDKITE_TEST_ENGINE_TEST_CMD="$JSON_CMD"
  rm -rf "$(state)"
  run "$TEP_BIN" run
  assert_failure 1
  run final_outcomes json "$BUILDKITE_TEST_ENGINE_RESULT_PATH"
  assert_equal "${#lines[@]}" "$(model_count)"
}

@test "an unwritable result path is reported on one line and does not change the exit status" {
  prepare_project
  rm tests/test_broken.py tests/test_payments.py
  export BUILDKITE_TEST_ENGINE_TEST_CMD="$JSON_CMD"
  printf 'x' > "$BATS_TEST_TMPDIR/afile"
  export BUILDKITE_TEST_ENGINE_RESULT_PATH="$BATS_TEST_TMPDIR/afile/results.json"
  run "$TEP_BIN" run
  assert_success
  assert_output --regexp "error: BUILDKITE_TEST_ENGINE_RESULT_PATH: cannot write .*afile/results.json: Not a directory; the results are still in"
}
