#!/usr/bin/env bats
# Cancellation as the agent does it, against tests that resist: SIGTERM to
# the job's process group (or to us alone), SIGKILL after the grace period.
# Nothing of the test run may survive, and the run must end before the
# agent's own SIGKILL (BUILDKITE_CANCEL_GRACE_PERIOD).

load '../support/helpers'

setup() {
  copy_fixture cancel
  MARK="tep-cancel-$$-$RANDOM"
  export TEP_CANCEL_READY="$BATS_TEST_TMPDIR/ready" NO_COLOR=1
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest -p no:cacheprovider {{testExamples}} --junitxml={{resultPath}}"
  export BUILDKITE_JOB_ID="job-cancel"
}

teardown() {
  # Whatever a failed test left behind must not outlive it.
  for pid in $(survivors); do kill -KILL "$pid" 2>/dev/null || true; done
}

# survivors: pids of processes carrying this test's mark in their environment
# (only the run gets it, so the test's own shells and greps do not count).
survivors() {
  grep -lsa "TEP_CANCEL_MARK=$MARK" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3 || true
}

wait_ready() {
  for _ in $(seq 1 300); do [ -f "$TEP_CANCEL_READY" ] && return 0; sleep 0.1; done
  echo "the test never started" >&2
  return 1
}

# wait_bounded PID: waits, but never longer than 30 s (a regression must fail,
# not hang the suite); returns the process's status.
wait_bounded() {
  ( exec >/dev/null 2>&1 3>&-; sleep 30; kill -KILL -- "-$1" ) &
  local guard=$! status=0
  wait "$1" || status=$?
  kill "$guard" 2>/dev/null || true
  return "$status"
}

# start_run: the run phase in its own process group, as the agent's command phase is.
start_run() {
  TEP_CANCEL_MARK="$MARK" setsid "$TEP_BIN" run > "$BATS_TEST_TMPDIR/run.log" 2>&1 &
  RUN_PID=$!
  wait_ready
}

@test "SIGTERM to the job's process group: tests that ignore it are killed before the agent's grace period ends" {
  export BUILDKITE_CANCEL_GRACE_PERIOD=5
  start_run
  [ -n "$(survivors)" ] # pytest and the stubborn grandchild are running
  start=$(date +%s%N)
  kill -TERM -- "-$RUN_PID"
  wait_bounded "$RUN_PID" || status=$?
  elapsed_ms=$((($(date +%s%N) - start) / 1000000))
  cat "$BATS_TEST_TMPDIR/run.log"
  echo "ended ${elapsed_ms} ms after SIGTERM, status ${status:-0}"
  [ "$elapsed_ms" -lt 5000 ]      # before the agent would SIGKILL us
  [ "$elapsed_ms" -ge 2500 ]      # the tests got their grace (5 - 2 s) first
  [ "${status:-0}" -ne 0 ]
  assert_equal "$(survivors)" ""  # the grandchild that called setsid() too
}

@test "SIGTERM to the run alone is forwarded; the run still ends and leaves nothing" {
  export BUILDKITE_CANCEL_GRACE_PERIOD=3
  start_run
  kill -TERM "$RUN_PID"
  wait_bounded "$RUN_PID" || status=$?
  [ "${status:-0}" -ne 0 ]
  assert_equal "$(survivors)" ""
}

@test "SIGKILL to the whole process group (the agent's last resort) leaves nothing" {
  start_run
  kill -KILL -- "-$RUN_PID"
  wait_bounded "$RUN_PID" || true
  # Everything that stayed in the job's process group (pytest and what it
  # started) is gone. (A grandchild that called setsid() left the group; only
  # the SIGTERM path above can reach it: the agent SIGKILLs after the grace
  # period, and we kill such processes before that.)
  for _ in $(seq 1 50); do pgrep -g "$RUN_PID" >/dev/null || break; sleep 0.1; done
  run pgrep -g "$RUN_PID"
  assert_failure
}

@test "SIGKILL to the run alone: pytest dies with it (parent-death signal)" {
  start_run
  pytest_pid=$(pgrep -P "$RUN_PID" | head -1)
  [ -n "$pytest_pid" ]
  kill -KILL "$RUN_PID"
  wait_bounded "$RUN_PID" || true
  for _ in $(seq 1 50); do kill -0 "$pytest_pid" 2>/dev/null || break; sleep 0.1; done
  run kill -0 "$pytest_pid"
  assert_failure
}

@test "an inherited ignored SIGCHLD does not make the run wait for ever or lose the status" {
  unset TEP_CANCEL_READY
  printf 'def test_ok():\n    pass\n' > test_plain.py
  run timeout 60 bash -c "trap '' CHLD; exec '$TEP_BIN' run"
  assert_success
  assert_output --partial "1 passed"
}
