#!/usr/bin/env bats
# The fallback splits slow files by test (real pytest, API unreachable):
# every test runs exactly once across the jobs, tests added since the
# durations were recorded included, tests removed since are not asked for,
# and when pytest cannot be asked at plan time nothing is lost.

load '../support/helpers'

JOBS=4

setup() {
  work_dir tests
  job_env 0 "$JOBS"
  # The API is down: nothing listens on this loopback port.
  export BUILDKITE_TEST_ENGINE_BASE_URL="https://127.0.0.1:9" BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=0
  export BUILDKITE_TEST_ENGINE_TEST_CMD="$JSON_CMD" BUILDKITE_TEST_ENGINE_DURATIONS_FILE=durations.json
  export PYTHONPATH="$SUPPORT" PYTHONDONTWRITEBYTECODE=1
  make_project
}

# A slow file of 12 tests (one parametrized three ways) and two quick ones;
# durations say the slow file takes 24 s of the suite's 32 s: 8 s per job.
make_project() {
  {
    for i in 01 02 03 04 05 06 07 08 09; do printf 'def test_s%s():\n    pass\n\n' "$i"; done
    printf 'import pytest\n\n@pytest.mark.parametrize("n", [1, 2, 3])\ndef test_p(n):\n    pass\n'
  } > tests/test_slow.py
  printf 'def test_a1():\n    pass\n\ndef test_a2():\n    pass\n' > tests/test_a.py
  printf 'def test_b1():\n    pass\n' > tests/test_b.py
  "$SERVER_PY" - <<'PY'
import json
d = {f"tests/test_slow.py::test_s{i:02d}": 2.0 for i in range(1, 10)}
d.update({f"tests/test_slow.py::test_p[{n}]": 2.0 for n in (1, 2, 3)})
d.update({"tests/test_a.py::test_a1": 1.0, "tests/test_a.py::test_a2": 1.0, "tests/test_b.py::test_b1": 6.0})
json.dump(d, open("durations.json", "w"), indent=4, sort_keys=True)
PY
}

# run_jobs: plan, then run, for every job (as the hooks and the step's command do).
run_jobs() {
  local j
  for j in $(seq 0 $((JOBS - 1))); do
    job_env "$j" "$JOBS"
    "$TEP_BIN" plan > "plan-$j.log" 2>&1 || { cat "plan-$j.log"; return 1; }
    "$TEP_BIN" run > "run-$j.log" 2>&1 || { cat "run-$j.log"; return 1; }
  done
}

# ran_counts: "count node_id" for every test any job ran, sorted.
ran_counts() { ran_in_first_attempts "$JOBS"; }

# collected: every test pytest collects in the project, as "1 node_id".
collected() {
  /usr/bin/python3 -m pytest --collect-only -q -p no:cacheprovider tests | grep '::' | sort | sed 's/^/1 /'
}

@test "a slow file is split by test: every test runs exactly once, the makespan meets the test-level bound" {
  run_jobs
  run cat plan-0.log
  assert_output --partial "Plan source: fallback - Unreachable"
  assert_output --partial "split tests/test_slow.py (24.0s) into 12 known tests"
  assert_output --partial "makespan 8.0s against the file-level bound 24.0s (max of total/jobs and the longest file): ratio 0.333"
  assert_output --partial "makespan 8.0s against the test-level bound 8.0s (max of total/jobs and the longest test): ratio 1.000"
  assert_equal "$(ran_counts)" "$(collected)"
  [ "$(collected | wc -l)" -eq 15 ]
}

@test "a test added after recording runs once, on the job with the file's rest; a removed one is not asked for" {
  printf 'def test_zz_new():\n    pass\n' >> tests/test_slow.py
  sed -i 's/^def test_s09():/def test_s09_renamed():/' tests/test_slow.py
  run_jobs
  assert_equal "$(ran_counts)" "$(collected)"
  grep -q "tests/test_slow.py::test_zz_new" <(ran_counts)
  grep -q "tests/test_slow.py::test_s09_renamed" <(ran_counts)
  ! grep -q "tests/test_slow.py::test_s09$" <(ran_counts) || false
  # the job that had test_s09 by name was told, and pytest never saw it
  run cat plan-*.log
  assert_output --partial "tests/test_slow.py::test_s09 is in the durations file but pytest no longer collects it; not run"
  assert_output --partial "no other job was given (tests new since the durations were recorded included)"
  run cat run-*.log
  refute_output --partial "not found"
}

@test "every job computes the same plan: the slices cover the entries once, in any discovery order" {
  run_jobs
  "$SERVER_PY" - "$BATS_TEST_TMPDIR" "$JOBS" <<'PY'
import json, sys
entries = []
for j in range(int(sys.argv[2])):
    entries += json.load(open(f"{sys.argv[1]}/state-{j}/slice.json"))["tests"]
assert len(entries) == len(set(entries)), entries
assert "tests/test_slow.py" not in entries, "the rest became node ids on its job"
PY
  # Same inputs through the files option in reverse order: the same slices.
  for j in $(seq 0 $((JOBS - 1))); do cp "$BATS_TEST_TMPDIR/state-$j/slice.json" "slice-$j.first"; done
  printf '%s\n' tests/test_slow.py tests/test_b.py tests/test_a.py > files.txt
  export BUILDKITE_TEST_ENGINE_FILES=files.txt
  run_jobs
  for j in $(seq 0 $((JOBS - 1))); do
    "$SERVER_PY" -c 'import json,sys; a,b=(json.load(open(p))["tests"] for p in sys.argv[1:]); assert a == b, (a, b)' \
      "slice-$j.first" "$BATS_TEST_TMPDIR/state-$j/slice.json"
  done
}

@test "pytest cannot be asked at plan time: the run phase settles the split, every test exactly once" {
  printf 'def test_zz_new():\n    pass\n' >> tests/test_slow.py
  local j
  for j in $(seq 0 $((JOBS - 1))); do
    job_env "$j" "$JOBS"
    TMPDIR=/nonexistent/tmp "$TEP_BIN" plan > "plan-$j.log" 2>&1 || { cat "plan-$j.log"; return 1; }
    "$TEP_BIN" run > "run-$j.log" 2>&1 || { cat "run-$j.log"; return 1; }
  done
  run cat plan-*.log
  assert_output --partial "split by example: the collection plugin: cannot make a private directory for a pytest plugin in /nonexistent/tmp"
  assert_output --partial "this job's share of the split files is settled when the step's command runs, in its environment"
  run cat run-*.log
  assert_output --partial "split by example: this job's share of 1 split file"
  refute_output --partial "run twice"
  diff <(collected) <(ran_counts)
  grep -q "^1 tests/test_slow.py::test_zz_new$" <(ran_counts)
}

@test "pytest cannot be asked at plan time nor at run time: the rest runs the whole file, says so, and no test is lost" {
  printf 'def test_zz_new():\n    pass\n' >> tests/test_slow.py
  local j
  for j in $(seq 0 $((JOBS - 1))); do
    job_env "$j" "$JOBS"
    TMPDIR=/nonexistent/tmp "$TEP_BIN" plan > "plan-$j.log" 2>&1 || { cat "plan-$j.log"; return 1; }
    TMPDIR=/nonexistent/tmp "$TEP_BIN" run > "run-$j.log" 2>&1 || { cat "run-$j.log"; return 1; }
  done
  run cat run-*.log
  assert_output --regexp "tests/test_slow.py: pytest collected no test ids from it, so this job runs the whole file; its tests given to other jobs run twice"
  # at least once each (those given to other jobs twice): never lost
  "$SERVER_PY" - <(ran_counts) <(collected) <<'PY'
import sys
ran = {l.split(" ", 1)[1].strip(): int(l.split(" ", 1)[0]) for l in open(sys.argv[1])}
want = [l.split(" ", 1)[1].strip() for l in open(sys.argv[2])]
missing = [t for t in want if t not in ran]
assert not missing, missing
assert ran["tests/test_slow.py::test_zz_new"] == 1
PY
}

@test "a file at or under total/jobs is not split, and one job plans without collecting anything" {
  export BUILDKITE_PARALLEL_JOB_COUNT=1
  job_env 0 1
  run "$TEP_BIN" plan
  assert_success
  refute_output --partial "split "
  refute_output --partial "asking pytest"
  assert_output --partial "test-level bound 32.0s"
}
