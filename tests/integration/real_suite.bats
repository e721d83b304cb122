#!/usr/bin/env bats
# A real suite: networkx's flow and connectivity tests (Debian's
# python3-networkx ships them), about 230 tests and 25-30 s. One recorded run
# gives per-test durations (collector JSON -> pytest-split JSON -> durations
# merge); then a test is added to a slow file and a new test file appears,
# and 8 jobs plan with the API unreachable and run their slices. Every test
# runs exactly once across the jobs, the new ones included, and the plan's
# makespan is within 10% of the test-level bound, max(total/jobs, longest
# test). Measured per-job times are printed (shared machines make them noisy,
# so only the plan's estimate is held to the goal).

load '../support/helpers'

NX=/usr/lib/python3/dist-packages/networkx
JOBS=8
PATTERN='networkx/algorithms/{flow,connectivity}/tests/test_*.py'

setup_file() {
  [ -d "$NX/algorithms/flow/tests" ] || {
    echo "python3-networkx with its tests is not installed: apt-get install python3-networkx (scripts/test does)" >&2
    return 1
  }
}

setup() {
  work_dir
  cp -a "$NX" "$WORK/networkx"
  find "$WORK" -name __pycache__ -prune -exec rm -rf {} +
  export PYTHONPATH="$SUPPORT" PYTHONDONTWRITEBYTECODE=1 NO_COLOR=1
}

# durations_from_collector JSON OUT: the collector's records as pytest-split
# JSON (node id -> seconds), then through `durations merge`.
durations_from_collector() {
  "$SERVER_PY" - "$1" > recorded-raw.json <<'PY'
import json, sys
records = json.load(open(sys.argv[1]))
print(json.dumps({r["scope"] + "::" + r["name"]: r["history"]["duration"] for r in records}))
PY
  "$TEP_BIN" durations merge recorded-raw.json > "$2"
}

# ran_counts: "count node_id" of every test the jobs ran, sorted.
ran_counts() { ran_in_first_attempts "$JOBS"; }

@test "networkx flow+connectivity, 8 jobs, API down: every test once, makespan within 10% of the test-level bound" {
  # 1. One real run records per-test durations.
  files=$(printf '%s\n' networkx/algorithms/{flow,connectivity}/tests/test_*.py)
  # shellcheck disable=SC2086
  /usr/bin/python3 -m pytest -q -p tep_collector -p no:cacheprovider --json=recorded.json $files > record.log 2>&1 ||
    { tail -20 record.log; return 1; }
  durations_from_collector recorded.json .test_durations
  recorded=$(grep -c '::' .test_durations)
  [ "$recorded" -ge 200 ]

  # 2. The suite moves on: a test in a slow file, and a new test file.
  printf '\n\ndef test_added_after_recording():\n    G = nx.path_graph(3)\n    nx.set_edge_attributes(G, 1, "capacity")\n    assert nx.gomory_hu_tree(G).number_of_nodes() == 3\n' \
    >> networkx/algorithms/flow/tests/test_gomory_hu.py
  printf 'import networkx as nx\n\n\ndef test_new_file():\n    assert nx.is_connected(nx.path_graph(4))\n' \
    > networkx/algorithms/flow/tests/test_new_after_recording.py

  # 3. Eight jobs, the API unreachable: plan (pre-command), then run (the step's command).
  export BUILDKITE_TEST_ENGINE_BASE_URL="https://127.0.0.1:9" BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=0
  export BUILDKITE_TEST_ENGINE_TEST_FILE_PATTERN="$PATTERN" BUILDKITE_TEST_ENGINE_DURATIONS_FILE=.test_durations
  export BUILDKITE_TEST_ENGINE_TEST_CMD="$JSON_CMD"
  for j in $(seq 0 $((JOBS - 1))); do
    job_env "$j" "$JOBS"
    "$TEP_BIN" plan > "plan-$j.log" 2>&1 || { cat "plan-$j.log"; return 1; }
    start=$(date +%s.%N)
    "$TEP_BIN" run > "run-$j.log" 2>&1 || { tail -30 "run-$j.log"; return 1; }
    echo "$j $start $(date +%s.%N)" >> wall.txt
  done

  # 4. Every collected test ran exactly once, the two new ones included.
  /usr/bin/python3 -m pytest --collect-only -q -p no:cacheprovider $files \
    networkx/algorithms/flow/tests/test_new_after_recording.py | grep '::' | sort | sed 's/^/1 /' > want.txt
  ran_counts > ran.txt
  diff want.txt ran.txt
  grep -q "test_gomory_hu.py::test_added_after_recording" ran.txt
  grep -q "test_new_after_recording.py::test_new_file" ran.txt

  # 5. The plan against both bounds, and what the jobs measured.
  grep -E "split |makespan|job [0-9]+:" plan-0.log | sed 's/^ */# plan: /' >&3
  ratio=$(sed -n 's/.*against the test-level bound .*: ratio \([0-9.]*\)$/\1/p' plan-0.log)
  "$SERVER_PY" - "$BATS_TEST_TMPDIR" "$JOBS" .test_durations "$ratio" >&3 <<'PY'
import json, sys
tmp, jobs, durations, ratio = sys.argv[1], int(sys.argv[2]), json.load(open(sys.argv[3])), float(sys.argv[4])
per_job = []
for j in range(jobs):
    records = json.load(open(f"{tmp}/state-{j}/results/attempt-0.json"))
    per_job.append(sum(r["history"]["duration"] for r in records))
total = sum(per_job)
bound = max(total / jobs, max(durations.values()))
print(f"# plan: estimated makespan / test-level bound = {ratio:.3f}")
print("# measured per job (s): " + " ".join(f"{s:.1f}" for s in per_job))
print(f"# measured makespan {max(per_job):.1f}s, total {total:.1f}s, test-level bound {bound:.1f}s: "
      f"ratio {max(per_job) / bound:.3f} (noisy on a shared machine)")
PY
  "$SERVER_PY" -c 'import sys; r = float(sys.argv[1]); sys.exit(0 if r <= 1.10 else 1)' "$ratio" ||
    { echo "estimated makespan is ${ratio}x the test-level bound (goal <= 1.10)"; return 1; }
  # Which files are slow enough to split depends on the timings just recorded
  # (a shared machine varies); that at least one was split does not.
  grep -qE "split networkx/.*\.py \([0-9.]+s\) into [0-9]+ known tests" plan-0.log
}
