#!/usr/bin/env bats
# `plan --explain` and `plan --plan-out FILE`: the whole plan and why, without
# running it: every job's entries, each estimate and its origin (Test Engine's
# timing with its sample size, its default, the durations file, the mean of
# the known), the entries with no history and the bound; for a server plan
# (the HTTPS stand-in) and the local fallback. Also the per-job estimate and
# sample size in a job's own plan summary, and after the run the estimate
# against the time pytest took, in the log and the step's annotation. Real
# binary, real pytest.

load '../support/helpers'

setup() {
  fixture_job shop 3
}

teardown() { stop_server; }

SHOP_FILES='tests/api/test_users.py tests/test_cart.py tests/test_orders.py tests/test_payments.py tests/unit/tax_test.py tests/unit/test_money.py'

# plan_out_check FILE: prints one line per fact a test asserts, from the JSON.
plan_out_check() {
  "$SERVER_PY" - "$1" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert list(doc)[0] == "explain", list(doc)
e = doc["explain"]
assert e["generator"] == "test-engine-pytest" and e["version"] == 1, e
print("source", e["source"])
print("parallelism", doc["parallelism"], "identifier", doc["identifier"])
seen = []
for key, task in sorted(doc["tasks"].items()):
    assert task["node_number"] == int(key)
    total = 0
    for t in task["tests"]:
        seen.append(t["path"])
        total += t.get("estimated_duration", 0)
        print("job", key, t["path"], t["format"], t.get("estimated_duration", "-"),
              t.get("timing_sample_size", "-"), t["estimate_source"])
    if "estimated_duration" in task:
        assert task["estimated_duration"] == total, (key, task["estimated_duration"], total)
print("entries", len(seen), "unique", len(set(seen)))
print("no_history", " ".join(sorted(e["no_history"])))
b = e["bound"]
print("bound %.1f total %.1f longest %s %.1f makespan %.1f" % (
    b["seconds"], b["total_seconds"], b.get("longest_entry", "-"), b["longest_entry_seconds"],
    b["makespan_seconds"]))
if "timing_metadata" in doc:
    print("timing_metadata", json.dumps(doc["timing_metadata"], sort_keys=True))
PY
}

@test "server plan: every job's entries with Test Engine's estimate, sample size and default, the bound; no slice written, nothing run" {
  server_config '{"durations": {"tests/test_payments.py": 8000, "tests/test_cart.py": 3000, "tests/test_orders.py": 2000, "tests/unit/test_money.py": 500}, "samples": {"tests/test_payments.py": 42}}'
  run "$TEP_BIN" plan --explain --plan-out "$BATS_TEST_TMPDIR/plan.json"
  assert_success
  assert_output --partial "plan explained: 6 entries over 3 jobs (6 discovered)"
  assert_output --partial "Plan source: server (new plan)"
  # four entries Test Engine knows (42 + 3 x 10 samples), two at its default
  assert_output --partial "Estimates: 4 from Test Engine timing (72 samples); 2 from Test Engine default, no history"
  assert_output --partial "Test Engine's default for a selector with no history: 1.000s"
  assert_output --partial "Test Engine knows the timing of 67% of the entries"
  # total 8 + 3 + 2 + 0.5 + 1 + 1 = 15.5 s over 3 jobs: 5.17, but one entry takes 8 s
  assert_output --partial "Bound: 8.0s = max(total 15.5s / 3 jobs, longest entry 8.0s: tests/test_payments.py)"
  assert_output --regexp "8\.000s  tests/test_payments\.py  \[Test Engine timing, 42 samples\]"
  assert_output --regexp "1\.000s  tests/unit/tax_test\.py  \[Test Engine default, no history\]"
  assert_output --partial "Entries with no history (their time is a default or a guess):"
  assert_output --partial "  tests/api/test_users.py (job"
  # it ran nothing and wrote no slice: no state directory, no upload, no pytest
  [ ! -e "$BATS_TEST_TMPDIR/state-0" ]
  assert_equal "$(requests_to /v1/uploads)" 0
  run plan_out_check "$BATS_TEST_TMPDIR/plan.json"
  assert_success
  assert_line "source server_created"
  assert_line "parallelism 3 identifier build-1234/step-abcd"
  assert_line --regexp "^job [012] tests/test_payments.py selector 8000 42 test_engine_timing$"
  assert_line --regexp "^job [012] tests/unit/tax_test.py selector 1000 0 test_engine_default$"
  assert_line "entries 6 unique 6"
  assert_line "no_history tests/api/test_users.py tests/unit/tax_test.py"
  assert_line --regexp "^bound 8\.0 total 15\.5 longest tests/test_payments\.py 8\.0 makespan [0-9.]+$"
  assert_line --partial '"selector": {"default_duration": 1000, "median_duration": 2500}'
}

@test "the explanation is the plan the jobs then run: each job's slice is its task in --plan-out" {
  server_config '{"durations": {"tests/test_payments.py": 8000}}'
  run "$TEP_BIN" plan --plan-out "$BATS_TEST_TMPDIR/plan.json"
  assert_success
  assert_output --partial "Plan for 3 jobs written to $BATS_TEST_TMPDIR/plan.json"
  for j in 0 1 2; do
    job_env "$j" 3
    run "$TEP_BIN" plan
    assert_success
    assert_output --partial "Plan source: server (cached plan)"
    expected=$("$SERVER_PY" -c 'import json,sys; print("\n".join(t["path"] for t in json.load(open(sys.argv[1]))["tasks"][sys.argv[2]]["tests"]))' "$BATS_TEST_TMPDIR/plan.json" "$j")
    assert_equal "$(slice_tests "$j" | sort)" "$(echo "$expected" | sort)"
  done
}

@test "each job's plan summary shows Test Engine's estimate for it and the samples it rests on" {
  server_config '{"durations": {"tests/test_payments.py": 8000, "tests/test_cart.py": 3000}, "samples": {"tests/test_payments.py": 42, "tests/test_cart.py": 7}}'
  out=""
  for j in 0 1 2; do
    job_env "$j" 3
    run "$TEP_BIN" plan
    assert_success
    out="$out$output"
  done
  # the stand-in deals reverse-sorted entries round-robin: payments and cart land on jobs 1 and 3
  [[ "$out" == *"Test Engine estimates this job at 9.0s from 42 timing samples: 1 of its 2 entries has history, the others are at its default"* ]]
  [[ "$out" == *"Test Engine estimates this job at 4.0s from 7 timing samples: 1 of its 2 entries has history, the others are at its default"* ]]
  [[ "$out" == *"Test Engine estimates this job at 2.0s from 0 timing samples: 0 of its 2 entries have history, the others are at its default"* ]]
}

@test "fallback with a durations file: each estimate from the file or the mean of the known, split files' tests, the bound" {
  faults '{"plan_get": [{"status": 503, "forever": true}], "plan_post": [{"status": 503, "forever": true}], "filter_tests": [{"status": 503, "forever": true}]}'
  export BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=1
  cat > durations.json <<'JSON'
{"tests/test_payments.py::test_charge": 6.0, "tests/test_payments.py::test_refund": 4.0,
 "tests/test_cart.py::test_add": 2.0, "tests/test_orders.py::test_list": 1.0}
JSON
  run "$TEP_BIN" plan --explain --durations-path durations.json --plan-out "$BATS_TEST_TMPDIR/plan.json"
  assert_success
  assert_output --partial "Plan source: fallback - "
  assert_output --partial "Durations file: durations.json"
  # test_payments.py (10 s) exceeds the 18.75 / 3 target: split into its two tests
  assert_output --regexp "6\.000s  tests/test_payments\.py::test_charge  \[the durations file, a test of a split file\]"
  assert_output --regexp "2\.000s  tests/test_cart\.py  \[the durations file\]"
  # the job that runs the file itself (less the tests other jobs got) carries its own tests' time
  assert_output --regexp "[0-9.]+s  tests/test_payments\.py  \[the durations file, a split file less its tests on other jobs\]"
  # three files the durations do not know: the mean of the three known files, (10 + 2 + 1) / 3
  assert_output --regexp "4\.333s  tests/unit/tax_test\.py  \[not in the durations file: the mean of the known\]"
  assert_output --partial "not in the durations file, at the mean of the known (4.333s)"
  assert_output --partial "Entries with no history"
  [ ! -e "$BATS_TEST_TMPDIR/state-0" ]
  run plan_out_check "$BATS_TEST_TMPDIR/plan.json"
  assert_success
  assert_line "source fallback"
  assert_line --regexp "^job [012] tests/unit/tax_test.py file 4333 - mean_of_known$"
  assert_line --regexp "^job [012] tests/test_payments.py::test_charge example 6000 - durations_file_test$"
  assert_line "no_history tests/api/test_users.py tests/unit/tax_test.py tests/unit/test_money.py"
  # 13 s known + 3 x 4.333 guessed = 26 s over 3 jobs: 8.67 s, longer than any piece (6 s)
  assert_line --regexp "^bound 8\.7 total 26\.0 longest tests/test_payments\.py::test_charge 6\.0 makespan [0-9.]+$"
}

@test "offline without durations: round-robin by name, no estimates, every file without history" {
  unset BUILDKITE_TEST_ENGINE_SUITE_SLUG BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN BUILDKITE_ORGANIZATION_SLUG
  run "$TEP_BIN" plan --explain --jobs 2
  assert_success
  assert_output --partial "plan explained: 6 entries over 2 jobs (6 discovered)"
  assert_output --partial "no Test Engine suite or token configured: planning locally"
  assert_output --partial "Estimates: 6 with no estimate"
  assert_output --partial "Bound: none (no entry has an estimate; the split is by name, round-robin)"
  assert_output --partial "Job 1 of 2: 3 entries, no estimate"
  assert_output --regexp "-   tests/api/test_users\.py  \[no estimate\]"
  assert_equal "$(cat "$SERVER_DIR/requests.jsonl" 2>/dev/null | wc -l)" 0
}

@test "--plan-out replaces only a plan it wrote; a file of the user's is refused before anything is asked" {
  echo "my notes" > notes.txt
  run "$TEP_BIN" plan --plan-out notes.txt
  assert_failure 78
  assert_output --partial "--plan-out notes.txt: it exists and is not a plan this tool wrote; choose another path or remove it"
  assert_equal "$(cat notes.txt)" "my notes"
  assert_equal "$(requests_to /test_plan)" 0
  mkdir adir
  run "$TEP_BIN" plan --plan-out adir
  assert_failure 78
  assert_output --partial "--plan-out adir: it exists and is not a regular file"
  run "$TEP_BIN" plan --plan-out plan.json
  assert_success
  run "$TEP_BIN" plan --plan-out plan.json
  assert_success
  assert_output --partial "Plan for 3 jobs written to plan.json"
  run "$TEP_BIN" plan --plan-out
  assert_failure 78
  assert_output --partial "--plan-out needs a value"
  run "$TEP_BIN" plan --explain --json
  assert_failure 78
  assert_output --partial "use one or the other"
}

@test "server plan, after the run: each job's estimate against what it took, in its log and the step's time box" {
  install_agent_stub
  pytest_env
  export BUILDKITE_TEST_ENGINE_TEST_CMD="$JSON_CMD" BUILDKITE_LABEL=':pytest: shop'
  export BUILDKITE_BUILD_URL=https://buildkite.localhost/acme/shop/builds/7
  server_config '{"durations": {"tests/test_payments.py": 8000, "tests/test_cart.py": 3000, "tests/test_orders.py": 2000}, "samples": {"tests/test_payments.py": 42}}'
  for j in 0 1 2; do
    job_env "$j" 3
    run "$TEP_BIN" run
    echo "$output" > "$BATS_TEST_TMPDIR/run-$j.log"
    assert_output --regexp "Time: estimated [0-9.]+s by Test Engine \([0-9]+ timing samples?, [0-9] of 2 entries with history\), took [0-9.]+s"
    run "$TEP_BIN" report
    assert_success
  done
  # the job with test_payments.py: Test Engine's 9 s (8 + its 1 s default for the other entry)
  grep -q "Time: estimated 9.0s by Test Engine (42 timing samples, 1 of 2 entries with history), took " "$BATS_TEST_TMPDIR"/run-*.log
  box="$AGENT_DIR/annotations/test-engine-pytest-step-abcd-time.md"
  html=$(cmark-gfm --unsafe "$box")
  echo "$html"
  for n in 1 2 3; do
    [[ "$html" == *">job $n of 3</a>: estimated "*" by Test Engine ("* ]]
  done
  [[ "$html" == *"estimated 9.0s by Test Engine (42 timing samples, 1 of 2 entries with history), took "* ]]
  assert_equal "$(cat "$AGENT_DIR/annotations/test-engine-pytest-step-abcd-time.style")" info
  # the step's table: one row per job, Test Engine's estimate against what it took
  table=$(cmark-gfm --unsafe -e table "$AGENT_DIR/annotations/test-engine-pytest-step-abcd-jobs.md")
  echo "$table"
  [[ "$table" == *"shop · the split, job by job</strong> (3 of 3 jobs reported)"* ]]
  assert_equal "$(grep -c '<td>Test Engine</td>' <<<"$table")" 3
  [[ "$table" =~ \<td\ align=\"right\"\>9.0s\</td\>.\<td\ align=\"right\"\>[0-9.]+m?s\</td\>.\<td\ align=\"right\"\>[-+][0-9]+%\</td\> ]]
  [[ "$table" != *"planned locally"* ]]
  # the meta-data keys it was written from, one per job
  assert_equal "$(grep -c '^test-engine-pytest:time:step-abcd:[0-2]:0:' "$AGENT_DIR/meta-data-keys")" 3
}
