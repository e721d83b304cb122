#!/usr/bin/env bats
# Split by example: the plan phase runs the user's launcher with
# --collect-only on the slow files (real pytest), and no file is ever lost.

load '../support/helpers'

NAMES_IDS='tests/test_names.py::TestGroup::test_method
tests/test_names.py::test_word[[bracket]]
tests/test_names.py::test_word[a::b]
tests/test_names.py::test_word[plain]
tests/test_names.py::test_word[two  spaces]
tests/test_names.py::test_word[with space]'

setup() {
  fixture_job collect 2
  export PYTHONDONTWRITEBYTECODE=1 TEP_SPY_DIR="$BATS_TEST_TMPDIR/spy"
  mkdir -p "$TEP_SPY_DIR"
  server_config '{"filter_tests": ["tests/test_names.py"]}'
}

teardown() { stop_server; }

plan() { run "$TEP_BIN" plan; }

# posted KEY: from the last plan POST, the example paths (KEY=examples) or
# the file selectors (KEY=selectors), sorted, one per line.
posted() {
  "$SERVER_PY" - "$SERVER_DIR/requests.jsonl" "$1" <<'PY'
import json, sys
posts = [json.loads(l) for l in open(sys.argv[1])]
posts = [r["body"] for r in posts if r["path"].endswith("/test_plan") and r["method"] == "POST"]
tests = posts[-1]["tests"]
print("\n".join(sorted(e["path"] if sys.argv[2] == "examples" else e["value"] for e in tests[sys.argv[2]])))
PY
}

# spied FIELD: FIELD of every pytest --collect-only the conftest spy saw.
spied() {
  "$SERVER_PY" - "$TEP_SPY_DIR" "$1" <<'PY'
import glob, json, sys
for path in sorted(glob.glob(sys.argv[1] + "/pytest-*.json")):
    r = json.load(open(path))
    if r["collect_only"]:
        print(json.dumps(r[sys.argv[2]]))
PY
}

@test "node ids with spaces, brackets and '::' all become examples; the file is no longer a selector" {
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest {{testExamples}}"
  plan
  assert_success
  assert_equal "$(posted examples)" "$NAMES_IDS"
  assert_equal "$(posted selectors)" "$(printf '%s\n' tests/test_helpers_only.py tests/test_plain.py)"
}

@test "the user's own -q, -qq, -v or -vv does not change what is collected" {
  for flags in "-q" "-qq" "-v" "-vv" "-q -q -q"; do
    export BUILDKITE_BUILD_ID="build-${flags// /}" # a new plan each time
    export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest $flags {{testExamples}}"
    plan
    assert_success
    assert_equal "$(posted examples)" "$NAMES_IDS"
  done
}

@test "the launcher keeps option values: -p xdist -n 2 reaches --collect-only intact" {
  /usr/bin/python3 -c 'import xdist' || skip "python3-pytest-xdist is not installed"
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest -p xdist -n 2 --maxfail 3 {{testExamples}} --json={{resultPath}}"
  plan
  assert_success
  assert_equal "$(posted examples)" "$NAMES_IDS"
  run spied args
  assert_line --partial '["-p", "xdist", "-n", "2", "--maxfail", "3", '
  refute_output --partial "--json"
}

@test "a result option before {{testExamples}} is not given to --collect-only" {
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest --junitxml {{resultPath}} -x {{testExamples}}"
  plan
  assert_success
  assert_equal "$(posted examples)" "$NAMES_IDS"
  run spied args
  assert_output --partial '"-x"'
  refute_output --partial "junitxml"
}

@test "a slow file that yields no test id runs whole, with a warning" {
  server_config '{"filter_tests": ["tests/test_names.py", "tests/test_helpers_only.py"]}'
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest -q {{testExamples}}"
  plan
  assert_success
  assert_output --partial "split by example: pytest collected no test ids from tests/test_helpers_only.py; it runs whole"
  assert_equal "$(posted examples)" "$NAMES_IDS"
  assert_equal "$(posted selectors)" "$(printf '%s\n' tests/test_helpers_only.py tests/test_plain.py)"
}

@test "a launcher that cannot load the collection plugin: every slow file runs whole, the plan stays the server's" {
  # env -u drops our PYTHONPATH, as a wrapper that resets the environment would.
  export BUILDKITE_TEST_ENGINE_TEST_CMD="env -u PYTHONPATH /usr/bin/python3 -m pytest {{testExamples}}"
  plan
  assert_success
  assert_output --partial "split by example: pytest --collect-only exited 1: it could not load our collection plugin, so the test command's launcher does not pass PYTHONPATH on to pytest; the 1 slow file runs whole"
  assert_output --partial "Plan source: server (new plan)"
  assert_equal "$(posted examples)" ""
  assert_equal "$(posted selectors)" "$(printf '%s\n' tests/test_helpers_only.py tests/test_names.py tests/test_plain.py)"
}

@test "pytest missing for the launcher's Python: the slow files run whole, saying why" {
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -S -m pytest {{testExamples}}"
  plan
  assert_success
  assert_output --partial "split by example: pytest --collect-only exited 1 without reporting what it collected: /usr/bin/python3: No module named pytest; the 1 slow file runs whole"
  assert_equal "$(posted examples)" ""
}

@test "a launcher that does not start: the slow files run whole" {
  export BUILDKITE_TEST_ENGINE_TEST_CMD="no-such-launcher {{testExamples}}"
  plan
  assert_success
  assert_output --partial "split by example: cannot run 'no-such-launcher'"
  assert_equal "$(posted selectors)" "$(printf '%s\n' tests/test_helpers_only.py tests/test_names.py tests/test_plain.py)"
}

@test "the --collect-only run sees neither token" {
  export BUILDKITE_ANALYTICS_TOKEN="$UPLOAD_TOKEN"
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest {{testExamples}}"
  plan
  assert_success
  run spied environ
  [ "${#lines[@]}" -eq 1 ] # the spy did see the collection
  assert_output --partial '"BUILDKITE_PARALLEL_JOB": "0"'
  refute_output --partial BUILDKITE_ANALYTICS_TOKEN
  refute_output --partial BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN
  assert_no_secret "$TEP_SPY_DIR"
}

@test "the private directory of the collection plugin is removed afterwards" {
  export TMPDIR="$BATS_TEST_TMPDIR/tmp" BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest {{testExamples}}"
  mkdir -p "$TMPDIR"
  unset PYTHONDONTWRITEBYTECODE # the plugin's __pycache__ must go too
  plan
  assert_success
  assert_equal "$(posted examples)" "$NAMES_IDS"
  assert_equal "$(ls -A "$TMPDIR")" ""
}

@test "a collection error while splitting is still terminal and names the file" {
  printf 'import no_such_module_xyz\n' > tests/test_broken.py
  server_config '{"filter_tests": ["tests/test_names.py", "tests/test_broken.py"]}'
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest -qq {{testExamples}}"
  plan
  assert_failure 65
  assert_output --partial "collection error in tests/test_broken.py"
}

@test "shell syntax attached to words is a configuration error at plan time, every word listed with the other problems" {
  unset BUILDKITE_TEST_ENGINE_SUITE_SLUG
  export BUILDKITE_TEST_ENGINE_TEST_CMD="pytest {{testExamples}} 2>/dev/null >out|tee log&&echo done;"
  export BUILDKITE_TEST_ENGINE_RETRY_CMD='pytest {{testExamples}} | tee retry.log $(date)'
  plan
  assert_failure 78
  assert_output --partial "invalid configuration (7 problems)"
  assert_output --partial "BUILDKITE_TEST_ENGINE_SUITE_SLUG: must not be blank"
  assert_line --partial "BUILDKITE_TEST_ENGINE_TEST_CMD: '2>/dev/null' needs a shell, and commands run without one (a redirection)"
  assert_line --partial "BUILDKITE_TEST_ENGINE_TEST_CMD: '>out|tee' needs a shell"
  assert_line --partial "BUILDKITE_TEST_ENGINE_TEST_CMD: 'log&&echo' needs a shell"
  assert_line --partial "BUILDKITE_TEST_ENGINE_TEST_CMD: 'done;' needs a shell"
  assert_line --partial "BUILDKITE_TEST_ENGINE_RETRY_CMD: '|' needs a shell, and commands run without one (a pipe)"
  assert_line --partial "BUILDKITE_TEST_ENGINE_RETRY_CMD: '\$(date)' needs a shell, and commands run without one (a command substitution)"
  [ ! -s "$SERVER_DIR/requests.jsonl" ] # nothing was asked of Test Engine
  [ ! -f "$BATS_TEST_TMPDIR/state-0/slice.json" ]
}

@test "quoted or escaped operator characters are plain arguments" {
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest -o 'junit_suite_name=a|b' -o \"junit_family=xunit2\" -o junit_suite_name=x\\;y {{testExamples}}"
  plan
  assert_success
  assert_equal "$(posted examples)" "$NAMES_IDS"
}
