#!/usr/bin/env bats
# Plays Buildkite end to end (tests/support/simulate_build.sh, the demo): the
# stand-in Test Engine over HTTPS, a buildkite-agent stub, 3 parallel jobs each
# running pre-command, command and post-command on fixtures/shop, then the
# automatic retry of the failing job.

load '../support/helpers'

simulate() {
  W="$BATS_TEST_TMPDIR/build"
  KEEP_WORK="$W" DEMO_API_TOKEN="$API_TOKEN" DEMO_UPLOAD_TOKEN="$UPLOAD_TOKEN" \
    "$TEP_SOURCE_DIR/tests/support/simulate_build.sh" > "$BATS_TEST_TMPDIR/build.log" 2>&1
}

# py SCRIPT: Python over the kept build directory W.
py() { /usr/bin/python3 - "$W" "$@"; }

@test "a 3-job build: disjoint slices, every result uploaded once per attempt, smart retry, no leaked token" {
  simulate
  # Job exit statuses: exactly one job hit the flaky test and exited 1; its retry passed.
  run bash -c "cd '$W/logs' && for f in job-*.exit; do echo \"\$f=\$(cat \$f)\"; done"
  assert_output --partial "try-1.exit=0"
  assert_equal "$(grep -l '^1$' "$W"/logs/job-*-try-0.exit | wc -l)" 1
  assert_equal "$(ls "$W"/logs/job-*-try-1.exit | wc -l)" 1

  run py <<'PY'
import collections, glob, json, os, sys
W = sys.argv[1]
def state(job, attempt):
    return f"{W}/tmp-{job}-{attempt}/test-engine-pytest-job-{job}-try-{attempt}"

# 1. First attempts: disjoint slices covering every file, and every test ran exactly once.
slices = [json.load(open(state(j, 0) + "/slice.json"))["tests"] for j in range(3)]
files = [f for s in slices for f in s]
assert len(files) == len(set(files)) == 6, slices
ran = [t["node_id"] for j in range(3) for t in json.load(open(state(j, 0) + "/run.json"))["tests"]]
assert len(ran) == len(set(ran)) == 12, ran

# 2. Every result pytest produced reached the stand-in exactly once per attempt.
produced = collections.Counter()
for path in glob.glob(f"{W}/tmp-*/test-engine-pytest-*/results/attempt-*.json"):
    job_id = path.split("test-engine-pytest-")[1].split("/")[0]
    for r in json.load(open(path)):
        produced[(job_id, r["scope"], r["name"], r["id"])] += 1
uploaded = collections.Counter()
for line in open(f"{W}/server/requests.jsonl"):
    r = json.loads(line)
    if r["path"] == "/v1/uploads":
        for rec in json.loads(r["body"]["data"]["text"]):
            uploaded[(r["body"]["fields"]["run_env[job_id]"], rec["scope"], rec["name"], rec["id"])] += 1
assert produced == uploaded and sum(uploaded.values()) == 13, (produced - uploaded, uploaded - produced)

# 3. The failing job published its selector; its retry ran only that and passed.
failing = [j for j in range(3) if open(f"{W}/logs/job-{j}-try-0.exit").read().strip() == "1"][0]
retry = json.load(open(state(failing, 1) + "/run.json"))
assert [t["node_id"] for t in retry["tests"]] == ["tests/test_payments.py::test_gateway_flaky"], retry["tests"]
assert retry["exit_status"] == 0 and retry["plan_source"] == "retry selectors"
calls = open(f"{W}/agent/calls").read()
assert f"meta-data set test-engine-pytest:retry-selectors:step-tests:{failing}" in calls
print("ok")
PY
  assert_output ok
  grep -q "running only the 1 test that failed on the previous attempt" "$W/logs/"job-*-try-1.log
  # 4. No token in any output, annotation, meta-data, agent call or argv shown in the logs.
  assert_no_secret "$BATS_TEST_TMPDIR/build.log" "$W/logs" "$W/agent"
  run grep -h '^\$ ' "$W"/logs/*.log
  assert_success
  refute_output --partial "SECRET"
}

@test "a build with a file that cannot be imported: 65, no retry, no selectors, in the annotation" {
  export BROKEN=1
  simulate
  run py <<'PY'
import json, sys
W = sys.argv[1]
codes = [int(open(f"{W}/logs/job-{j}-try-0.exit").read()) for j in range(3)]
broken = codes.index(65)
run = json.load(open(f"{W}/tmp-{broken}-0/test-engine-pytest-job-{broken}-try-0/run.json"))
assert run["terminal"] and "tests/test_import_error.py" in run["why"], run["why"]
print(broken)
PY
  assert_success
  broken=$output
  [ ! -f "$W/logs/job-$broken-try-1.exit" ]
  run grep -c "meta-data set test-engine-pytest:retry-selectors:step-tests:$broken" "$W/agent/calls"
  assert_output 0
  grep -q "tests/test_import_error.py</code>: ImportError while importing test module" "$W/agent/annotations/test-engine-pytest-step-tests-$broken.md"
  grep -q "Terminal, not retried" "$W/agent/annotations/test-engine-pytest-step-tests-$broken.md"
  grep -q "job $broken exited 65: not retried" "$BATS_TEST_TMPDIR/build.log"
  assert_no_secret "$BATS_TEST_TMPDIR/build.log" "$W/logs" "$W/agent"
}
