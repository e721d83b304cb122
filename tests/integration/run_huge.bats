#!/usr/bin/env bats
# Slices larger than one command line (ARG_MAX): 40,000 retry selectors, or a
# plan whose entries pass the limit, run as several pytest invocations whose
# results merge into one attempt and whose exit codes combine as one run's.
# Real binary, real pytest, generated projects sized from this machine's
# ARG_MAX so the limit is really passed.

load '../support/helpers'

JSON_CMD='/usr/bin/python3 -m pytest -q --tb=no -rN -p tep_collector -p no:cacheprovider {{testExamples}} --json={{resultPath}}'
JUNIT_CMD='/usr/bin/python3 -m pytest -q --tb=no -rN -p no:cacheprovider {{testExamples}} --junit-xml={{resultPath}}'

setup() {
  pytest_job agent upload
  work_dir tests
}

teardown() { stop_server; }

state() { echo "$BATS_TEST_TMPDIR/state-0"; }

run_json() {
  /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); r, f = d[0], d[1:]; print(($1))" "$(state)/run.json"
}

# generate FILES PARAMS ID_LENGTH: tests/test_mod_NNN.py, each one test with
# PARAMS parameters; writes every node id, in order, to nodeids.txt. A test
# fails when its id's first field is listed in TEP_FAIL, sleeps TEP_SLEEP_S
# when listed in TEP_SLEEP; a conftest fails everything on the first session
# when TEP_FAIL_FIRST_RUN is set.
generate() {
  /usr/bin/python3 - "$@" <<'PY'
import sys
files, params, idlen = map(int, sys.argv[1:])
out = open("nodeids.txt", "w")
for f in range(files):
    ids = ["m%03di%05d-%s" % (f, i, "p" * idlen) for i in range(params)]
    with open("tests/test_mod_%03d.py" % f, "w") as m:
        m.write("import os, time, pytest\nIDS = %r\n" % ids)
        m.write("@pytest.mark.parametrize('v', IDS, ids=IDS)\ndef test_p(v):\n"
                "    key = v.split('-')[0]\n"
                "    if key in os.environ.get('TEP_SLEEP', '').split(','): time.sleep(float(os.environ['TEP_SLEEP_S']))\n"
                "    assert key not in os.environ.get('TEP_FAIL', '').split(','), 'listed to fail'\n")
    for i in ids:
        out.write("tests/test_mod_%03d.py::test_p[%s]\n" % (f, i))
PY
  cat > conftest.py <<'PY'
import os, pathlib, pytest
DONE = pathlib.Path(os.environ["TEP_FLAKY_DIR"]) / "first-run.done"

@pytest.fixture(autouse=True)
def fail_on_first_run():
    if os.environ.get("TEP_FAIL_FIRST_RUN"):
        assert DONE.exists(), "every test fails on the first run"

def pytest_sessionfinish(session):
    DONE.touch()
    with open(os.path.join(os.environ["TEP_FLAKY_DIR"], "env-%d.txt" % os.getpid()), "w") as f:
        f.write("\n".join(os.environ))
PY
}

# plan_from FILE: a server plan giving job 0 the lines of FILE as node ids.
plan_from() {
  /usr/bin/python3 - "$1" "$SERVER_DIR/config.json" <<'PY'
import json, sys
ids = [l.rstrip("\n") for l in open(sys.argv[1]) if l.strip()]
tests = [{"path": i.split("::")[0], "format": "selector", "value": i} for i in ids]
json.dump({"plans": {"build-1234/step-abcd": {"tasks": {"0": {"tests": tests}}}}}, open(sys.argv[2], "w"))
PY
}

# entries_for PARTS ID_LENGTH: how many node ids of that length pass PARTS
# times the largest argument budget this machine can give (a quarter of ARG_MAX).
entries_for() {
  local arg_max
  arg_max=$(getconf ARG_MAX)
  echo $(( $1 * arg_max / 4 / ($2 + 50) + 1 ))
}

@test "40,000 retry selectors run as several pytests (was: exit 78 'Argument list too long', never retried)" {
  generate 400 100 60
  [ "$(wc -c < nodeids.txt)" -gt "$(getconf ARG_MAX)" ] # really past the kernel's limit
  export TEP_FAIL_FIRST_RUN=1 BUILDKITE_TEST_ENGINE_RETRY_COUNT=1
  export BUILDKITE_TEST_ENGINE_RESULT_PATH="$BATS_TEST_TMPDIR/all.json"
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "retry 1 of 1: running the 40000 failing tests again"
  assert_output --regexp "40000 entries need [0-9]+ bytes of arguments, more than one command line should carry \([0-9]+ bytes: a quarter of what the environment leaves of ARG_MAX\); running pytest [0-9]+ times"
  refute_output --partial "Argument list too long"
  assert_output --partial "passed on retry      40000 (flaky: 40000)"
  assert_output --partial "  ... and 39950 more flaky" # listed, never flooding the log
  refute_output --partial "flaky (failed, then passed): tests/test_mod_399.py::test_p[m399i00099"
  assert_output --regexp "merged [0-9]+ result files \(40000 records\) into .*/results/attempt-1.json"
  assert_equal "$(run_json '[(a["selectors"], a["exit_code"]) for a in r["attempts"]]')" "[(400, 1), (40000, 0)]"
  # One file per attempt for the report phase (and its index); the parts are merged and gone.
  assert_equal "$(ls "$(state)/results")" "$(printf 'attempt-0.json\nattempt-0.json.index\nattempt-1.json\nattempt-1.json.index')"
  assert_equal "$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$(state)/results/attempt-1.json")" 40000
  assert_equal "$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d), {r["result"] for r in d})' "$BATS_TEST_TMPDIR/all.json")" "40000 {'passed'}"
  # Every pytest (one first run, several parts) ran without either token.
  [ "$(ls "$TEP_FLAKY_DIR"/env-*.txt | wc -l)" -ge 3 ]
  run grep -l -e BUILDKITE_ANALYTICS_TOKEN -e BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN "$TEP_FLAKY_DIR"/env-*.txt
  assert_failure
}

@test "a collection error in a middle part stops the run there, as one pytest would: terminal, later parts never start" {
  n=$(entries_for 3 5000)
  generate 6 $(( n / 6 + 1 )) 5000
  printf 'import module_that_is_missing\n' > tests/test_broken_mod.py
  half=$(( $(wc -l < nodeids.txt) / 2 ))
  { head -n "$half" nodeids.txt; echo tests/test_broken_mod.py; tail -n "+$(( half + 1 ))" nodeids.txt; } > plan.txt
  plan_from plan.txt
  total=$(wc -l < plan.txt)
  export TEP_FAIL=m000i00003 BUILDKITE_TEST_ENGINE_RETRY_COUNT=2
  run "$TEP_BIN" run
  assert_failure 65
  assert_output --regexp "running pytest [3-9] times"
  assert_output --regexp "pytest ended part [0-9]+ of [0-9]+ with exit 2; the remaining [0-9]+ entries do not run, as in one pytest run"
  [[ "$output" =~ pytest\ ended\ part\ ([0-9]+)\ of\ ([0-9]+) ]]
  stopped=${BASH_REMATCH[1]} parts=${BASH_REMATCH[2]}
  [ "$stopped" -gt 1 ] && [ "$stopped" -lt "$parts" ]
  refute_output --partial "part $parts of $parts:"
  assert_output --partial "collection error in tests/test_broken_mod.py: ModuleNotFoundError: No module named 'module_that_is_missing'"
  assert_output --regexp "pytest stopped at collection, so [0-9]+ of the $total entries given to it did not run; a retry will not help"
  refute_output --partial "retry 1 of 2"
  # Part 1 ran and was recorded (its failure too); the merged attempt file has it.
  assert_equal "$(run_json 'r["attempts"][0]["exit_code"], r["terminal"]')" "(2, True)"
  assert_equal "$(run_json '[t["status"] for t in f if "m000i00003" in t["node_id"]]')" "['failed']"
  assert_equal "$(ls "$(state)/results")" "$(printf 'attempt-0.json\nattempt-0.json.index')"
}

@test "JUnit: parts merge into one valid document, exit codes combine (1), and the retry runs only the failure" {
  n=$(entries_for 2 5000)
  generate 4 $(( n / 4 + 1 )) 5000
  plan_from nodeids.txt
  total=$(wc -l < nodeids.txt)
  export BUILDKITE_TEST_ENGINE_TEST_CMD="$JUNIT_CMD" TEP_FAIL=m003i00001 BUILDKITE_TEST_ENGINE_RETRY_COUNT=1
  export BUILDKITE_TEST_ENGINE_RESULT_PATH="$BATS_TEST_TMPDIR/all.xml"
  run "$TEP_BIN" run
  assert_failure 1
  assert_output --regexp "running pytest [2-9] times"
  assert_output --partial "retry 1 of 1: running the 1 failing test again"
  assert_output --partial "1 test failed after 2 attempts"
  refute_output --partial "pytest ended part"
  assert_equal "$(run_json 'r["counts"]["total"], [a["exit_code"] for a in r["attempts"]]')" "($total, [1, 1])"
  check='import sys, xml.etree.ElementTree as E
s = E.parse(sys.argv[1]).getroot().find("testsuite")
cases = list(s.iter("testcase"))
print(len(cases), s.get("tests"), s.get("failures"), sum(1 for c in cases if c.find("failure") is not None))'
  assert_equal "$(/usr/bin/python3 -c "$check" "$(state)/results/attempt-0.xml")" "$total $total 1 1"
  assert_equal "$(/usr/bin/python3 -c "$check" "$BATS_TEST_TMPDIR/all.xml")" "$total $total 1 1"
}

@test "the timeout bounds the whole attempt, across its parts" {
  n=$(entries_for 2 5000)
  generate 2 $(( n / 2 + 1 )) 5000
  plan_from nodeids.txt
  # The first and the last entry sleep 6s each: the first part finishes within
  # the 10s timeout (part 2 starts), the attempt as a whole cannot.
  first=$(head -n1 nodeids.txt | sed 's/.*\[\([^-]*\)-.*/\1/') last=$(tail -n1 nodeids.txt | sed 's/.*\[\([^-]*\)-.*/\1/')
  export TEP_SLEEP="$first,$last" TEP_SLEEP_S=6 BUILDKITE_TEST_ENGINE_TIMEOUT=10
  SECONDS=0
  run "$TEP_BIN" run
  assert_failure 143
  assert_output --regexp "running pytest [2-9] times"
  assert_output --partial "part 2 of"
  assert_output --regexp "\\.\\.\\.\\(4[0-9]{3} more bytes\\)" # long entries are shortened when printed
  assert_output --partial "pytest timed out after 10s (BUILDKITE_TEST_ENGINE_TIMEOUT); its process group was killed"
  [ "$SECONDS" -lt 30 ]
}
