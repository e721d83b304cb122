#!/usr/bin/env bats
# Plays Buildkite end to end through the real-agent job runner
# (tests/support/simulate_build.sh, the demo): the stand-in Test Engine over
# HTTPS, the strict buildkite-agent stub, parallel jobs each running the
# plugin's hooks around the step's own command, then the automatic retry.
# What is checked is what Buildkite and Test Engine received, as a user sees
# it: the job's state is gone after pre-exit.

load '../support/helpers'

# simulate [ENV=VALUE...]: one build, kept in W.
simulate() {
  W="$BATS_TEST_TMPDIR/build"
  env KEEP_WORK="$W" DEMO_BINARY="$TEP_BIN" "$@" \
    "$TEP_SOURCE_DIR/tests/support/simulate_build.sh" > "$BATS_TEST_TMPDIR/build.log" 2>&1
}

# py SCRIPT: Python over the kept build directory W, with helpers.
py() {
  /usr/bin/python3 - "$W" "$@"
}

PYLIB='
import collections, glob, json, os, sys
W = sys.argv[1]
def exit_of(job, attempt):
    return int(open(f"{W}/logs/job-{job}-try-{attempt}.exit").read())
def job_id(job, attempt):
    return open(f"{W}/logs/job-{job}-try-{attempt}.id").read().strip()
def requests():
    return [json.loads(l) for l in open(f"{W}/server/requests.jsonl")]
def uploaded(jid=None):
    """Records uploaded, per job id: (scope, name, result)."""
    out = collections.defaultdict(list)
    for r in requests():
        if r["path"] == "/v1/uploads":
            for rec in json.loads(r["body"]["data"]["text"]):
                out[r["body"]["fields"]["run_env[job_id]"]].append((rec["scope"], rec["name"], rec["result"]))
    return out[jid] if jid else out
def summary(job, attempt):
    return json.load(open(f"{W}/logs/job-{job}-try-{attempt}.summary.json"))
'

@test "3 jobs, OIDC only, a --debug agent, a setup line in the step command: disjoint slices, one upload per result, smart retry" {
  simulate DEBUG_AGENT=1
  run py <<PY
$PYLIB
# 1. First attempts: every one of the 12 tests ran exactly once across the 3 jobs.
first = [t for j in range(3) for t in uploaded(job_id(j, 0))]
names = [(s, n) for s, n, _ in first]
assert len(names) == len(set(names)) == 12, names
# 2. Exactly one job hit the flaky test and exited 1; its retry ran only that test and passed.
failing = [j for j in range(3) if exit_of(j, 0) == 1]
assert len(failing) == 1 and all(exit_of(j, 0) == 0 for j in range(3) if j not in failing), failing
retry = uploaded(job_id(failing[0], 1))
assert retry == [("tests/test_payments.py", "test_gateway_flaky", "passed")], retry
assert exit_of(failing[0], 1) == 0
# 3. No stored token: every plan and upload request carried a token the agent minted.
auth = collections.Counter(r["headers"].get("Authorization", "") for r in requests())
assert set(auth) == {"Bearer oidc-minted-by-the-agent", 'Token token="oidc-minted-by-the-agent"'}, auth
# 4. Nothing left behind: no state folder in any checkout, no process of any job.
assert glob.glob(f"{W}/checkouts/*/.test-engine-pytest") == []
assert all(summary(j, a)["survivors"] == [] for j, a in [(0, 0), (1, 0), (2, 0), (failing[0], 1)])
print("ok")
PY
  assert_output ok
  grep -q "running only the 1 test that failed on the previous attempt" "$W/logs/"job-*-try-1.log
  # The agent ran with --debug (its CLI wrote debug lines on stderr to every call
  # above, OIDC included) and no value we read was spoiled by them.
  grep -q "oidc request-token --audience" "$W/agent/calls"
  # The demo's closing sections: the plan explained, every job's estimate
  # against its time, and the step's table with a row per job (the failing
  # job's row is its first attempt's, its retry's outcome beside it)
  log="$BATS_TEST_TMPDIR/build.log"
  grep -A20 "the plan, explained" "$log" | grep -q "^  Job 1 of 3: [0-9]* entr"
  [ "$(grep -c "^  | [1-3] of 3" "$log")" -eq 3 ]
  grep -q "(3 of 3 jobs reported)" "$log"
  [ "$(grep -c "^  | [1-3] of 3 | Test Engine | [0-9.]*m\?s | [0-9.]*m\?s | [-+][0-9]*% | " "$log")" -eq 3 ]
  grep -q "^  | [1-3] of 3 | Test Engine | .* | [0-9]*, 1 failed; retry 1: passed ([0-9.]*m\?s) |$" "$log"
  # The plugin was checked out once per agent worker and built... not at all: DEMO_BINARY pins it.
  [ -d "$W/plugins/agent-1" ] && [ -d "$W/plugins/agent-2" ]
}

@test "a file that cannot be imported: 65, no retry, no selectors, in the annotation" {
  simulate BROKEN=1
  run py <<PY
$PYLIB
codes = [exit_of(j, 0) for j in range(3)]
assert codes.count(65) == 1, codes
print(codes.index(65))
PY
  assert_success
  broken=$output
  [ ! -f "$W/logs/job-$broken-try-1.exit" ]
  run grep -c "meta-data set test-engine-pytest:retry-selectors:.*:$broken" "$W/agent/calls"
  assert_output 0
  grep -rq "tests/test_import_error.py" "$W/agent/annotations/"
  grep -q "job $((broken + 1)) exited 65: not retried" "$BATS_TEST_TMPDIR/build.log"
}

@test "a job retry after 1,250 failures (selectors in an artifact) runs exactly those 1,250" {
  simulate JOBS=1 PROJECT="$TEP_SOURCE_DIR/fixtures/many_failures" DEMO_PLUGIN_CONFIG='{"selectors-metadata-limit": 4096}'
  run py <<PY
$PYLIB
assert exit_of(0, 0) == 1 and exit_of(0, 1) == 0, (exit_of(0, 0), exit_of(0, 1))
first = uploaded(job_id(0, 0))
assert sum(1 for *_, r in first if r == "failed") == 1250, len(first)
retry = uploaded(job_id(0, 1))
assert len(retry) == 1250 and {r for *_, r in retry} == {"passed"}, len(retry)
assert sorted(n for _, n, _ in retry) == sorted(n for _, n, r in first if r == "failed")
print("ok")
PY
  assert_output ok
  grep -q "^artifact upload retry-selectors-" "$W/agent/calls"
  grep -q "^artifact download retry-selectors-.* --step .* --include-retried-jobs" "$W/agent/calls"
  grep -q "running only the 1250 tests that failed on the previous attempt" "$W/logs/job-0-try-1.log"
}

@test "a cancelled job whose test ignores SIGTERM ends within the grace period and leaves no process" {
  simulate JOBS=1 PROJECT="$TEP_SOURCE_DIR/fixtures/cancel" DEMO_ENV="TEP_CANCEL_READY=$BATS_TEST_TMPDIR/ready" \
    DEMO_RUNNER_ARGS="--cancel-when-file $BATS_TEST_TMPDIR/ready --grace-period 6"
  run py <<PY
$PYLIB
s = summary(0, 0)
assert s["cancelled"], s
cmd = [p for p in s["phases"] if p["phase"] == "command"][0]
print(cmd)
assert cmd.get("sigterm_sent") and not cmd.get("sigkill_sent"), cmd  # it ended before the agent's SIGKILL
assert cmd["sigterm_to_end_seconds"] < 6, cmd
assert s["survivors"] == [], s["survivors"]
print("ok")
PY
  assert_output --partial ok
}

@test "under the agent's PTY a test that calls tcsetattr on the terminal passes" {
  simulate JOBS=1 PROJECT="$TEP_SOURCE_DIR/fixtures/terminal" DEMO_RUNNER_ARGS="--pty --timeout 120"
  run py <<PY
$PYLIB
assert exit_of(0, 0) == 0, open(f"{W}/logs/job-0-try-0.log").read()[-3000:]
assert uploaded(job_id(0, 0)) == [("test_terminal.py", "test_sets_terminal_attributes", "passed")]
print("ok")
PY
  assert_output ok
}

@test "the command phase in a container that mounts only the checkout, with only the job's original environment" {
  simulate JOBS=2 DEMO_COMMAND="$TEP_SOURCE_DIR/tests/support/container_run.sh --image-bin $(dirname "$TEP_BIN") test-engine-pytest run" \
    DEMO_PLUGIN_CONFIG='{"test-cmd": "/usr/bin/python3 -m pytest -p tep_collector -p no:cacheprovider {{testExamples}} --json={{resultPath}}"}'
  run py <<PY
$PYLIB
first = [t for j in range(2) for t in uploaded(job_id(j, 0))]
names = [(s, n) for s, n, _ in first]
assert len(names) == len(set(names)) == 12, names
assert glob.glob(f"{W}/checkouts/*/.test-engine-pytest") == []
print("ok")
PY
  assert_output ok
  # Inside the container (the checkout mounted elsewhere) the command phase
  # found the slice under the job's id: it ran there and did not plan again.
  grep -q "rootdir: /tmp/tep-container-[^/]*/workdir" "$W/logs/job-0-try-0.log"
  assert_equal "$(grep -c "Plan source: " "$W/logs/job-0-try-0.log")" 1
}
