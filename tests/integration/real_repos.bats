#!/usr/bin/env bats
# Verdicts and retries on the shapes real repositories have (fixtures/real_repos):
# a monorepo whose pytest.ini is below the checkout, a conftest.py that cannot
# import, setup/teardown/module-fixture errors, pytest-rerunfailures, an xdist
# worker that dies, a pytest killed halfway, a parametrize id that changes from
# run to run, a file name that is not UTF-8, and a test command pytest refuses.
#
# Each case is a whole Buildkite build of one parallel job (tests/support/
# simulate_build.sh: the real hooks through the real-agent job runner, the
# binary under test, real pytest, the HTTPS stand-in, the strict agent stub),
# retry-count 1, then Buildkite's automatic retry when the job exits 1; in
# collector-JSON mode (the stand-in, which records a teardown error as passed
# and reruns without a result, as the real one does) and in JUnit mode. The
# checks: the exit status; the test named in the job's summary and in the
# annotation; the in-job retry running exactly the failed ids; the published
# retry selectors; and Buildkite's retry running exactly those.

load '../support/helpers'

RR="$TEP_SOURCE_DIR/fixtures/real_repos"

setup() {
  W="$BATS_TEST_TMPDIR/w"
  SPY="$BATS_TEST_TMPDIR/spy"
  mkdir -p "$SPY"
}

# test_cmd MODE [EXTRA]: the step's test command in collector-JSON or JUnit mode.
test_cmd() {
  case $1 in
    json) echo "python -m pytest -p tep_collector -p no:cacheprovider ${2:-}{{testExamples}} --json={{resultPath}}" ;;
    junit) echo "python -m pytest -p no:cacheprovider ${2:-}{{testExamples}} --junit-xml={{resultPath}}" ;;
  esac
}

# build PROJECT MODE [PLUGIN-JSON] [PYTEST-EXTRA]: one build (1 job, retry-count 1)
# and Buildkite's automatic retry of an exit 1; everything kept in $W.
build() {
  local project=$1 mode=$2 extra_config=${3:-"{}"} config
  config=$("$SERVER_PY" - "$(test_cmd "$mode" "${4:-}")" "$extra_config" <<'PY'
import json, sys
c = {"retry-count": 1, "test-cmd": sys.argv[1]}
c.update(json.loads(sys.argv[2]))
print(json.dumps(c))
PY
)
  rm -rf "$W" "$SPY"
  mkdir -p "$SPY"
  JOBS=1 PROJECT="$project" KEEP_WORK="$W" DEMO_BINARY="$TEP_BIN" DEMO_SPY_DIR="$SPY" \
    DEMO_PLUGIN_CONFIG="$config" "$SUPPORT/simulate_build.sh" > "$BATS_TEST_TMPDIR/build.log" 2>&1 ||
    { tail -40 "$BATS_TEST_TMPDIR/build.log"; return 1; }
}

exit_of() { cat "$W/logs/job-0-try-$1.exit"; }
job_log() { cat "$W/logs/job-0-try-$1.log"; }

# runs TRY: what each pytest of Buildkite attempt TRY was given to run (its
# node ids and files, space-separated), one line per pytest, in order.
runs() {
  "$SERVER_PY" - "$SPY" "$1" <<'PY'
import glob, json, sys
runs = []
for path in glob.glob(f"{sys.argv[1]}/python-*.json"):
    rec = json.load(open(path))
    argv, env = rec["argv"], rec["environ"]
    # `python -m pytest ...` shows as ["-m", ...] while Python starts: the probe
    # (-c) and xdist's workers (-c) are not pytest runs
    if env.get("BUILDKITE_RETRY_COUNT") != sys.argv[2] or argv[:1] != ["-m"]:
        continue
    if "--collect-only" in argv:
        continue
    words, skip = [], False
    for a in argv[1:]:
        if skip:
            skip = False
        elif a in ("-p", "-m", "-n", "--reruns"):
            skip = True
        elif not a.startswith("-") and a != "pytest":
            words.append(a)
    runs.append((rec["started"], " ".join(words)))
for _, words in sorted(runs):
    print(words)
PY
}

# published: the retry selectors the first attempt left in meta-data (lines after the
# header), as the job retry found them.
published() { tail -n +2 "$W"/logs/job-0-try-0.meta-data/test-engine-pytest_retry-selectors_*; }
# annotation_has TEXT: the step's annotation says TEXT (Markdown escapes taken out).
annotation_has() { sed 's/\\\([][_*`#|<>\\]\)/\1/g' "$W"/agent/annotations/*.md | grep -qF -- "$1"; }

# uploaded: "scope::name result" of every record the first attempt uploaded.
uploaded() {
  "$SERVER_PY" - "$W/server/requests.jsonl" <<'PY'
import json, sys, xml.etree.ElementTree as ET
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] != "/v1/uploads":
        continue
    data = r["body"]["data"]
    if r["body"]["fields"].get("format") == "junit":
        for case in ET.fromstring(data["text"]).iter("testcase"):
            bad = case.find("failure") is not None or case.find("error") is not None
            print(case.get("classname") + "::" + case.get("name"), "failed" if bad else "passed")
    else:
        for rec in json.loads(data["text"]):
            print(rec["scope"] + "::" + rec["name"], rec.get("result", "-"))
PY
}

@test "monorepo: pytest.ini below the checkout; retries and selectors run from the checkout (json, junit, cd sub)" {
  for mode in json junit; do
    build "$RR/monorepo" "$mode" '{"test-file-pattern": "services/api/**/test_*.py"}'
    assert_equal "$(exit_of 0)" 1
    assert_equal "$(runs 0)" "$(printf '%s\n' services/api/tests/test_api.py services/api/tests/test_api.py::test_bad)"
    job_log 0 | grep -q "failed: services/api/tests/test_api.py::test_bad - AssertionError: api is broken"
    annotation_has "services/api/tests/test_api.py::test_bad"
    assert_equal "$(published)" "services/api/tests/test_api.py::test_bad"
    # Buildkite's retry runs exactly that, and it runs (no "file or directory not found")
    assert_equal "$(runs 1 | head -1)" "services/api/tests/test_api.py::test_bad"
    assert_equal "$(exit_of 1)" 1
    ! job_log 1 | grep -q "not found"
  done
  # the step's command starts in the service's folder: run finds the slice above it
  DEMO_COMMAND="source $W/venv/bin/activate && cd services/api && test-engine-pytest run" \
    build "$RR/monorepo" json '{"test-file-pattern": "services/api/**/test_*.py"}'
  assert_equal "$(exit_of 0)" 1
  assert_equal "$(published)" "services/api/tests/test_api.py::test_bad"
  assert_equal "$(runs 1 | head -1)" "services/api/tests/test_api.py::test_bad"
  ! job_log 1 | grep -q "not found" || false
}

@test "monorepo: pyproject.toml, setup.cfg, tox.ini, --rootdir and -c below the checkout, with a location-prefix" {
  for shape in pyproject setup.cfg tox.ini rootdir-option c-option; do
    proj="$BATS_TEST_TMPDIR/proj-$shape"
    rm -rf "$proj"
    cp -a "$RR/monorepo" "$proj"
    rm "$proj/services/api/pytest.ini"
    extra=""
    case $shape in
      pyproject) printf '[tool.pytest.ini_options]\nminversion = "6.0"\n' > "$proj/services/api/pyproject.toml" ;;
      setup.cfg) printf '[tool:pytest]\nxfail_strict = true\n' > "$proj/services/api/setup.cfg" ;;
      tox.ini) printf '[pytest]\nxfail_strict = true\n' > "$proj/services/api/tox.ini" ;;
      rootdir-option) extra="--rootdir=services/api " ;;
      c-option) printf '[pytest]\n' > "$proj/services/api/ci.ini"; extra="-c services/api/ci.ini " ;;
    esac
    build "$proj" json '{"test-file-pattern": "services/api/**/test_*.py", "location-prefix": "monorepo/"}' "$extra"
    assert_equal "$(exit_of 0)" 1
    assert_equal "$(runs 0 | tail -1 | sed 's/^services.api.ci.ini //')" "services/api/tests/test_api.py::test_bad"
    assert_equal "$(published)" "services/api/tests/test_api.py::test_bad"
    assert_equal "$(runs 1 | head -1 | sed 's/^services.api.ci.ini //')" "services/api/tests/test_api.py::test_bad"
    ! job_log 1 | grep -q "not found"
  done
}

@test "a broken conftest.py is a collection error: 65, named, never retried (json and junit)" {
  for mode in json junit; do
    build "$RR/conftest_broken" "$mode"
    assert_equal "$(exit_of 0)" 65
    job_log 0 | grep -q "collection error in tests/conftest.py: ModuleNotFoundError: No module named 'module_that_does_not_exist'; a retry will not help"
    annotation_has "tests/conftest.py"
    annotation_has "No module named 'module_that_does_not_exist'"
    assert_equal "$(runs 0)" "tests/test_fine.py" # one pytest: no exit-4 retries, no in-job retry
    ! job_log 0 | grep -q "exit-4 forensics"
    ! job_log 0 | grep -q "file or directory not found"
    [ ! -e "$W/logs/job-0-try-1.exit" ] # Buildkite does not retry 65
  done
}

@test "setup, teardown and module-fixture errors are failures: named, retried, published (json and junit)" {
  for mode in json junit; do
    build "$RR/fixture_errors" "$mode"
    assert_equal "$(exit_of 0)" 1
    failed="tests/test_fixtures.py::test_setup_fails tests/test_fixtures.py::test_teardown_fails tests/test_module_fixture.py::test_reads tests/test_module_fixture.py::test_writes"
    assert_equal "$(runs 0 | tail -1 | tr ' ' '\n' | sort | xargs)" "$failed"
    job_log 0 | grep -q "failed: tests/test_fixtures.py::test_teardown_fails - error at teardown: RuntimeError: teardown exploded"
    job_log 0 | grep -q "failed: tests/test_fixtures.py::test_setup_fails - error at setup: RuntimeError: setup exploded"
    job_log 0 | grep -q "failed: tests/test_module_fixture.py::test_writes - error at setup: ConnectionError: the module's database is down"
    job_log 0 | grep -q "failed               4"
    annotation_has "tests/test_fixtures.py::test_teardown_fails"
    annotation_has "error at teardown: RuntimeError: teardown exploded"
    assert_equal "$(published | sort | xargs)" "$failed"
    assert_equal "$(runs 1 | head -1 | tr ' ' '\n' | sort | xargs)" "$failed"
  done
  # JSON mode says where the collector and pytest disagree
  build "$RR/fixture_errors" json
  job_log 0 | grep -q "tests/test_fixtures.py::test_teardown_fails: the result file records it as passed, but pytest reported an error at teardown; counted as failed"
}

@test "pytest-rerunfailures: the tries count as one test, flaky when a later try passed (json and junit)" {
  for mode in json junit; do
    build "$RR/rerun" "$mode" '{}' "--reruns 2 "
    assert_equal "$(exit_of 0)" 1
    assert_equal "$(runs 0 | tail -1)" "tests/test_rerun.py::test_always_fails"
    job_log 0 | grep -q "failed: tests/test_rerun.py::test_always_fails - AssertionError: always"
    job_log 0 | grep -q "flaky (failed, then passed): tests/test_rerun.py::test_flaky_then_passes"
    job_log 0 | grep -q "failed               1"
    annotation_has "tests/test_rerun.py::test_always_fails"
    assert_equal "$(published)" "tests/test_rerun.py::test_always_fails"
    assert_equal "$(runs 1 | head -1)" "tests/test_rerun.py::test_always_fails"
  done
}

@test "an xdist worker that dies: the test it ran is a failure, named, retried (json and junit)" {
  for mode in json junit; do
    build "$RR/crash" "$mode" '{}' "-n 2 "
    assert_equal "$(exit_of 0)" 1
    job_log 0 | grep -q "failed: tests/test_crash.py::test_worker_dies - the xdist worker running it crashed"
    annotation_has "tests/test_crash.py::test_worker_dies"
    assert_equal "$(runs 0 | tail -1)" "tests/test_crash.py::test_worker_dies"
    assert_equal "$(published)" "tests/test_crash.py::test_worker_dies"
    assert_equal "$(runs 1 | head -1)" "tests/test_crash.py::test_worker_dies"
  done
}

@test "a pytest killed halfway: what finished is counted and uploaded, the test it was running is named (json and junit)" {
  for mode in json junit; do
    build "$RR/killed" "$mode" '{"retry-count": 0}'
    assert_equal "$(exit_of 0)" 137
    job_log 0 | grep -q "it was running tests/test_memory.py::test_big_arrays; the 2 tests that finished are reported"
    annotation_has "it was running tests/test_memory.py::test_big_arrays"
    run uploaded
    assert_line --regexp "^tests[/.]test_memory(.py)?::test_small passed$"
    assert_line --regexp "^tests[/.]test_memory(.py)?::test_fails_first failed$"
    [ "${#lines[@]}" -eq 2 ]
    # a retry must run the whole slice: the tests after the kill never ran
    assert_equal "$(cat "$W"/logs/job-0-try-0.meta-data/test-engine-pytest_retry-selectors_*)" "#test-engine-pytest selectors v2 none"
  done
}

@test "an id that changes from run to run: widened to what pytest can run, never exit 4 with nothing run (json and junit)" {
  for mode in json junit; do
    build "$RR/ids" "$mode"
    assert_equal "$(exit_of 0)" 1
    job_log 0 | grep -q "pytest has no test tests/test_ids.py::test_unstable_id\[run[0-9]*\] any more (renamed, or a parametrize id that changes from run to run); running tests/test_ids.py::test_unstable_id instead"
    # the in-job retry: the failed ids, then once more with the unknown one widened
    run runs 0
    [[ "${lines[1]}" =~ ^tests/test_ids.py::test_unstable_id\[run[0-9]+\]\ tests/test_ids.py::test_stable\[2\]$ ]]
    assert_equal "${lines[2]}" "tests/test_ids.py::test_stable[2] tests/test_ids.py::test_unstable_id"
    job_log 0 | grep -q "failed               2" # the widened id's test is counted once
    # Buildkite's retry: the published ids, widened where pytest no longer has them
    run published
    [ "${#lines[@]}" -eq 2 ]
    assert_equal "${lines[0]}" "tests/test_ids.py::test_stable[2]"
    [[ "${lines[1]}" =~ ^tests/test_ids.py::test_unstable_id\[run[0-9]+\]$ ]]
    assert_equal "$(runs 1 | head -1)" "${lines[0]} ${lines[1]}"
    assert_equal "$(runs 1 | sed -n 2p)" "tests/test_ids.py::test_stable[2] tests/test_ids.py::test_unstable_id"
    assert_equal "$(exit_of 1)" 1
    job_log 1 | grep -q "failed: tests/test_ids.py::test_stable\[2\]"
    job_log 1 | grep -q "failed: tests/test_ids.py::test_unstable_id\[run"
    ! job_log 1 | grep -q "exited 4"
  done
}

@test "a test file whose name is not UTF-8: its ids survive the run, meta-data and the retry byte for byte (json and junit)" {
  for mode in json junit; do
    proj="$BATS_TEST_TMPDIR/latin1"
    rm -rf "$proj"
    mkdir -p "$proj/tests"
    printf 'def test_x():\n    assert False, "latin-1 file"\n\n\ndef test_ok():\n    assert True\n' > "$proj/tests/test_latin1_"$'\xe9'".py"
    build "$proj" "$mode"
    assert_equal "$(exit_of 0)" 1
    assert_equal "$(runs 0 | tail -1)" "tests/test_latin1_"$'\xe9'".py::test_x"
    assert_equal "$(published)" "tests/test_latin1_%E9.py::test_x" # meta-data is UTF-8: escaped
    assert_equal "$(runs 1 | head -1)" "tests/test_latin1_"$'\xe9'".py::test_x"
    ! job_log 1 | grep -q "not found"
  done
}

@test "a test command pytest refuses is a configuration error (78) naming the command (json and junit)" {
  for mode in json junit; do
    build "$RR/monorepo" "$mode" '{}' "--no-such-option "
    assert_equal "$(exit_of 0)" 78
    job_log 0 | grep -q "pytest refused the command: unrecognized arguments: --no-such-option; check BUILDKITE_TEST_ENGINE_TEST_CMD"
    [ "$(runs 0 | wc -l)" -eq 1 ] # no exit-4 retries
    build "$RR/monorepo" "$mode" '{}' "-p no_such_plugin_anywhere "
    assert_equal "$(exit_of 0)" 78
    job_log 0 | grep -q 'pytest refused the command: Error importing plugin "no_such_plugin_anywhere"'
  done
}
