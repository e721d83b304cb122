#!/usr/bin/env bats
# `test-engine-pytest run` as someone replacing pytest-split uses it: --help,
# --splits N --group I (1-based, as pytest-split's) and --job I --jobs N,
# --durations-path, pytest's own arguments after --, clear one-line errors
# otherwise; and after the run, the summary's estimated-against-actual time,
# slowest tests and skip reasons (JSON mode from pytest's own reports, JUnit
# mode too). Real binary, real pytest, no Test Engine (offline) unless said.

load '../support/helpers'

setup() {
  pytest_env
  work_dir
  unset BUILDKITE_ORGANIZATION_SLUG BUILDKITE_TEST_ENGINE_SUITE_SLUG BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN
  unset BUILDKITE_JOB_ID BUILDKITE_PARALLEL_JOB BUILDKITE_PARALLEL_JOB_COUNT
  export NO_COLOR=1 BUILDKITE_TEST_ENGINE_TEST_CMD="$JUNIT_CMD"
  for n in 1 2 3 4 5; do
    printf 'def test_a():\n    pass\n\ndef test_b():\n    pass\n' > "test_f$n.py"
  done
}

# ran LOG: the node ids pytest reported running, from its -rA summary lines.
ran() { sed -n 's/^PASSED \(test_f[0-9]*\.py::test_[a-z]*\).*/\1/p' "$1" | sort; }

@test "run --help: the flags, how to split offline, no 'required for plan/run'" {
  run "$TEP_BIN" run --help
  assert_success
  assert_output --partial "usage: test-engine-pytest run [--job I --jobs N]"
  assert_output --partial "--group I"
  assert_output --partial "--splits N"
  assert_output --partial "-- PYTEST-ARGS..."
  assert_output --partial "Splitting offline (no Test Engine, no Buildkite needed)"
  assert_output --partial "test-engine-pytest run --splits 3 --group 1 --durations-path .test_durations"
  [ ! -e .test-engine-pytest ] # --help plans and runs nothing
  run "$TEP_BIN" --help
  assert_success
  assert_output --partial "Splitting offline:"
  refute_output --partial "required for plan/run"
  run "$TEP_BIN" plan --help
  assert_success
  assert_output --partial "--plan-out FILE"
}

@test "--splits 2 --group 1 and --group 2: disjoint halves that cover the suite, each with its own state" {
  run "$TEP_BIN" run --splits 2 --group 1 -- -rA
  assert_success
  assert_output --partial "plan for job 1 of 2"
  echo "$output" > one.log
  run "$TEP_BIN" run --splits 2 --group 2 -- -rA
  assert_success
  assert_output --partial "plan for job 2 of 2"
  echo "$output" > two.log
  [ -d .test-engine-pytest/local-1-of-2 ] && [ -d .test-engine-pytest/local-2-of-2 ]
  assert_equal "$(cat <(ran one.log) <(ran two.log) | sort | uniq -d)" ""
  assert_equal "$(cat <(ran one.log) <(ran two.log) | wc -l)" 10
  # pytest-split's group 1 is the first of the local split, as --job 1 is
  run "$TEP_BIN" run --job 1 --jobs 2 -- -rA
  assert_success
  assert_equal "$(echo "$output" > again.log; ran again.log)" "$(ran one.log)"
}

@test "pytest's own arguments after --, appended to the test command" {
  run "$TEP_BIN" run -- -k "test_b and not f3" -q
  assert_success
  assert_output --regexp "test_f5\.py --junit-xml=[^ ]+ -k 'test_b and not f3' -q"
  assert_output --partial "4 passed, 6 deselected"
}

@test "bad flags: one line naming the argument and what to do, status 78, nothing run" {
  run "$TEP_BIN" run -k x
  assert_failure 78
  assert_output --partial "unexpected argument '-k'; pytest's own arguments go after --, as in test-engine-pytest run -- -k"
  run "$TEP_BIN" run --splits 2 --group 3
  assert_failure 78
  assert_output --partial "--job 3 is not one of the 2 jobs: give 1 to 2"
  run "$TEP_BIN" run --group 0
  assert_failure 78
  assert_output --partial "--group '0': give a whole number from 1 to 1000"
  run "$TEP_BIN" run --jobs
  assert_failure 78
  assert_output --partial "--jobs needs a value"
  [ ! -e .test-engine-pytest ]
  # a configured exit status is used for a usage error too
  BUILDKITE_TEST_ENGINE_CONFIG_EXIT_STATUS=3 run "$TEP_BIN" run --bogus
  assert_failure 3
}

@test "--durations-path: a pytest-split durations file splits longest first, and the run says estimated against actual" {
  printf '{"test_f1.py::test_a": 2.0, "test_f2.py::test_a": 1.0, "test_f3.py::test_a": 0.5}' > .test_durations
  run "$TEP_BIN" run --splits 2 --group 1 --durations-path .test_durations
  assert_success
  assert_output --partial "  job 1: "
  # this job's estimate from the file, and the time pytest took
  assert_output --regexp "Time: estimated [0-9.]+s from the durations file \([0-9]+ of [0-9]+ entr(y|ies) known\), took [0-9.]+s"
}

@test "after the run: slowest tests and skip reasons, from pytest's own reports (JSON mode) and JUnit" {
  rm -f test_f*.py
  cat > test_mix.py <<'PY'
import time
import pytest

def test_slow():
    time.sleep(0.2)

@pytest.mark.skip(reason="needs network")
def test_net():
    pass

@pytest.mark.xfail(reason="bug 12")
def test_bug():
    assert False

def test_skip_inside():
    pytest.skip("not on CI")
PY
  for cmd in "$JSON_CMD" "$JUNIT_CMD"; do
    rm -rf .test-engine-pytest
    BUILDKITE_TEST_ENGINE_TEST_CMD="$cmd" run "$TEP_BIN" run
    assert_success
    assert_output --partial "Time: no estimate, took "
    assert_output --regexp "Slowest tests:
 +0\.2[0-9]{2}s  test_mix\.py::test_slow"
    assert_output --partial "       1  needs network (e.g. test_mix.py::test_net)"
    assert_output --partial "       1  xfail: bug 12 (e.g. test_mix.py::test_bug)"
    assert_output --partial "       1  not on CI (e.g. test_mix.py::test_skip_inside)"
  done
}
