#!/usr/bin/env bats
# The run phase's choice of result mode: one probe, with the Python that runs
# pytest, in the environment pytest gets; real pytest, real entry points.

load '../support/helpers'

REGISTERED="$TEP_SOURCE_DIR/fixtures/collector/registered"
UNREGISTERED="$TEP_SOURCE_DIR/fixtures/collector/unregistered"
SPY="$TEP_SOURCE_DIR/fixtures/spy"

setup() {
  start_server
  job_env 0 1
  copy_fixture passing
  export PYTHONDONTWRITEBYTECODE=1 TEP_SPY_DIR="$BATS_TEST_TMPDIR/spy"
  mkdir -p "$TEP_SPY_DIR"
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest -p no:cacheprovider {{testExamples}}"
}

teardown() { stop_server; }

state() { echo "$BATS_TEST_TMPDIR/state-0"; }

# The helpers' own Pythons run without the spy (they see the tokens).
run_json() {
  TEP_SPY_DIR= /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); r, f = d[0], d[1:]; print(($1))" "$(state)/run.json"
}

# probes: the argv of every Python the sitecustomize spy saw start with -c
# (the probe; pytest itself starts with -m), one JSON list per line.
probes() {
  TEP_SPY_DIR= "$SERVER_PY" - "$TEP_SPY_DIR" <<'PY'
import glob, json, sys
for path in sorted(glob.glob(sys.argv[1] + "/python-*.json")):
    r = json.load(open(path))
    if r["argv"][:1] == ["-c"]:
        print(json.dumps(r["argv"]))
PY
}

# A `pytest` script on PATH whose shebang is $1.
pytest_script() {
  mkdir -p "$BATS_TEST_TMPDIR/bin"
  printf '#!%s\nimport sys\nimport pytest\nsys.exit(pytest.console_main())\n' "$1" > "$BATS_TEST_TMPDIR/bin/pytest"
  chmod +x "$BATS_TEST_TMPDIR/bin/pytest"
  export PATH="$BATS_TEST_TMPDIR/bin:$PATH"
}

@test "an importable collector that is not a registered pytest plugin: JUnit, and one line saying what to do" {
  export PYTHONPATH="$SUPPORT:$UNREGISTERED"
  run "$TEP_BIN" run
  assert_success
  assert_line --partial "Results: JUnit XML mode (buildkite-test-collector is importable by /usr/bin/python3 but not registered as a pytest plugin (no pytest11 entry point), so pytest would not know --json; install it with that Python's pip, or add -p buildkite_test_collector.pytest_plugin to the test command)"
  refute_output --partial -- "--json="
  assert_equal "$(run_json 'r["mode"], r["counts"]["total"]')" "('junit', 2)"
}

@test "an importable collector loaded with -p in the command: JSON" {
  export PYTHONPATH="$SUPPORT:$UNREGISTERED"
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest -p buildkite_test_collector.pytest_plugin {{testExamples}}"
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "Results: collector JSON mode (buildkite-test-collector is loaded with -p for /usr/bin/python3)"
  assert_equal "$(run_json 'r["mode"], r["counts"]["total"]')" "('json', 2)"
}

@test "a registered collector: JSON, and pytest loads it through its entry point" {
  export PYTHONPATH="$SUPPORT:$REGISTERED"
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "Results: collector JSON mode (buildkite-test-collector is a registered pytest plugin for /usr/bin/python3)"
  assert_equal "$(run_json 'r["mode"], r["counts"]["total"]')" "('json', 2)"
}

@test "a registered collector that PYTEST_DISABLE_PLUGIN_AUTOLOAD keeps out: JUnit, and why" {
  export PYTHONPATH="$SUPPORT:$REGISTERED" PYTEST_DISABLE_PLUGIN_AUTOLOAD=1
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "Results: JUnit XML mode (buildkite-test-collector is registered for /usr/bin/python3, but PYTEST_DISABLE_PLUGIN_AUTOLOAD keeps pytest from loading it"
}

@test "a pytest script: the Python comes from its shebang" {
  pytest_script /usr/bin/python3
  export PYTHONPATH="$SUPPORT:$REGISTERED" BUILDKITE_TEST_ENGINE_TEST_CMD="pytest -p no:cacheprovider {{testExamples}}"
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "Results: collector JSON mode (buildkite-test-collector is a registered pytest plugin for /usr/bin/python3)"
}

@test "a launcher that is not Python: no guess, JUnit, and how to say which Python" {
  export PYTHONPATH="$SUPPORT:$REGISTERED"
  printf '#!/bin/sh\nexec /usr/bin/python3 -m pytest "$@"\n' > run-tests.sh
  chmod +x run-tests.sh
  export BUILDKITE_TEST_ENGINE_TEST_CMD="./run-tests.sh -p no:cacheprovider {{testExamples}}"
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "Results: JUnit XML mode (cannot tell which Python runs the test command ('./run-tests.sh' is not a Python script (no python in its #! line)); set BUILDKITE_TEST_ENGINE_PYTHON"
  assert_equal "$(probes)" ""
  export BUILDKITE_TEST_ENGINE_PYTHON=/usr/bin/python3
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "Results: collector JSON mode (buildkite-test-collector is a registered pytest plugin for /usr/bin/python3)"
}

@test "one probe, with the command's Python, and it sees neither token" {
  export PYTHONPATH="$SUPPORT:$SPY" BUILDKITE_ANALYTICS_TOKEN="$UPLOAD_TOKEN"
  run "$TEP_BIN" run
  assert_success
  local log="$output"
  assert_no_secret "$TEP_SPY_DIR"
  run grep -l BUILDKITE_PARALLEL_JOB_COUNT "$TEP_SPY_DIR"/python-*.json # the spy saw the environment
  assert_success
  run probes
  assert_output '["-c", "collector"]' # exactly one
  run echo "$log"
  assert_output --partial "Results: JUnit XML mode (buildkite-test-collector is not importable by /usr/bin/python3)"
}

@test "pytest not installed for the command's Python: configuration error naming pytest and the interpreter" {
  # -S keeps site-packages out: a real Python for which pytest is not importable.
  for cmd in "/usr/bin/python3 -S -m pytest {{testExamples}}" "/usr/bin/python3 -S -m pytest {{testExamples}} --junit-xml={{resultPath}}"; do
    export BUILDKITE_TEST_ENGINE_TEST_CMD="$cmd"
    run "$TEP_BIN" run
    assert_failure 78
    assert_output --partial "pytest is not installed for /usr/bin/python3 -S, the Python that BUILDKITE_TEST_ENGINE_TEST_CMD ('$cmd') runs (No module named pytest)"
    refute_output --partial "results cannot be read"
    refute_output --partial "running 1 entry"
  done
}

@test "pytest not installed for the Python in the pytest script's shebang: configuration error" {
  pytest_script "/usr/bin/python3 -S"
  export BUILDKITE_TEST_ENGINE_TEST_CMD="pytest {{testExamples}}"
  run "$TEP_BIN" run
  assert_failure 78
  assert_output --partial "pytest is not installed for /usr/bin/python3 -S, the Python that BUILDKITE_TEST_ENGINE_TEST_CMD ('pytest {{testExamples}}') runs"
}

@test "a command that names --json is still asked only about pytest, once" {
  export PYTHONPATH="$SUPPORT:$SPY"
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest -p tep_collector -p no:cacheprovider {{testExamples}} --json={{resultPath}}"
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "Results: collector JSON mode (the test command names --json)"
  assert_equal "$(probes)" '["-c"]'
}

@test "the probe's answer is kept: the next run asks no Python, until a package is installed" {
  mkdir -p "$BATS_TEST_TMPDIR/site"
  export PYTHONPATH="$SUPPORT:$SPY:$BATS_TEST_TMPDIR/site"
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "Results: JUnit XML mode (buildkite-test-collector is not importable by /usr/bin/python3)"
  assert_equal "$(probes | wc -l)" 1
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "Results: JUnit XML mode (buildkite-test-collector is not importable by /usr/bin/python3)"
  assert_equal "$(probes | wc -l)" 1 # the kept answer
  cp -r "$REGISTERED"/. "$BATS_TEST_TMPDIR/site/" # pip install buildkite-test-collector
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "Results: collector JSON mode (buildkite-test-collector is a registered pytest plugin for /usr/bin/python3)"
  assert_equal "$(probes | wc -l)" 2
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "Results: collector JSON mode"
  assert_equal "$(probes | wc -l)" 2
  rm -rf "$BATS_TEST_TMPDIR/site/buildkite_test_collector-1.8.0.dist-info" # pip uninstall (its metadata)
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "Results: JUnit XML mode (buildkite-test-collector is importable by /usr/bin/python3 but not registered"
  assert_equal "$(probes | wc -l)" 3
}

@test "another interpreter, or another environment, is asked again (a container's Python is not the host's)" {
  export PYTHONPATH="$SUPPORT:$SPY"
  run "$TEP_BIN" run
  assert_success
  mkdir -p "$BATS_TEST_TMPDIR/bin"
  ln -s /usr/bin/python3 "$BATS_TEST_TMPDIR/bin/python3"
  export BUILDKITE_TEST_ENGINE_TEST_CMD="$BATS_TEST_TMPDIR/bin/python3 -m pytest -p no:cacheprovider {{testExamples}}"
  run "$TEP_BIN" run
  assert_success
  assert_equal "$(probes | wc -l)" 2
  export PYTHONNOUSERSITE=1
  run "$TEP_BIN" run
  assert_success
  assert_equal "$(probes | wc -l)" 3
  run "$TEP_BIN" run
  assert_success
  assert_equal "$(probes | wc -l)" 3
}

# No user cache at all: the first job in a fresh container.
no_user_cache() { export HOME=/dev/null XDG_CACHE_HOME=; }

@test "no user cache: plan asks the command's Python once, run reads its answer in the state folder" {
  no_user_cache
  export PYTHONPATH="$SUPPORT:$SPY"
  run "$TEP_BIN" plan
  assert_success
  assert_equal "$(probes | wc -l)" 1
  [ -f "$(state)/result-mode-probe.txt" ]
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "Results: JUnit XML mode (buildkite-test-collector is not importable by /usr/bin/python3)"
  assert_equal "$(probes | wc -l)" 1 # the plan's answer
  run "$TEP_BIN" run
  assert_success
  assert_equal "$(probes | wc -l)" 1
  PYTHONNOUSERSITE=1 run "$TEP_BIN" run # another environment than the plan's: asked again
  assert_success
  assert_equal "$(probes | wc -l)" 2
  run "$TEP_BIN" cleanup
  assert_success
  [ ! -e "$(state)" ] # the copy is one of the state folder's own files
}

@test "no user cache: the plan's answer is not the run's when the step command changes what Python sees" {
  no_user_cache
  mkdir -p "$BATS_TEST_TMPDIR/site"
  export PYTHONPATH="$SUPPORT:$SPY:$BATS_TEST_TMPDIR/site"
  run "$TEP_BIN" plan
  assert_success
  assert_equal "$(probes | wc -l)" 1
  cp -r "$REGISTERED"/. "$BATS_TEST_TMPDIR/site/" # the step command: pip install buildkite-test-collector
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "Results: collector JSON mode (buildkite-test-collector is a registered pytest plugin for /usr/bin/python3)"
  assert_equal "$(probes | wc -l)" 2
}

@test "plan cannot run the command's Python (a venv the step command makes): it asks nothing, says nothing, and succeeds" {
  no_user_cache
  export PYTHONPATH="$SUPPORT:$SPY"
  export BUILDKITE_TEST_ENGINE_TEST_CMD=".venv/bin/python -m pytest -p no:cacheprovider {{testExamples}}"
  run "$TEP_BIN" plan
  assert_success
  refute_output --partial ".venv"
  refute_output --partial "python"
  refute_output --partial "probe"
  assert_equal "$(probes | wc -l)" 0
  [ ! -e "$(state)/result-mode-probe.txt" ]
  mkdir -p .venv/bin
  ln -s /usr/bin/python3 .venv/bin/python # the step command: python3 -m venv .venv
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "Results: JUnit XML mode (buildkite-test-collector is not importable by .venv/bin/python)"
  assert_equal "$(probes | wc -l)" 1
}
