#!/usr/bin/env bats
# promise-failure: `buildkite-agent job promise-failure` once when test
# failures remain after in-job retries; never otherwise; the exit status never
# changes (real pytest, the strict agent stub).

load '../support/helpers'

setup() {
  pytest_job agent
  export BUILDKITE_TEST_ENGINE_PROMISE_FAILURE=true
}

teardown() { stop_server; }

promises() { cat "$AGENT_DIR/promised-failures.jsonl" 2>/dev/null; }
promise_calls() {
  local n=0
  if [ -f "$AGENT_DIR/calls" ]; then n=$(grep -c "^job promise-failure" "$AGENT_DIR/calls" || true); fi
  echo "${n:-0}"
}

@test "failures remain after the in-job retry: promised exactly once, exit status unchanged" {
  copy_fixture failing
  export BUILDKITE_TEST_ENGINE_RETRY_COUNT=1
  run "$TEP_BIN" run
  assert_failure 1
  assert_output --partial "Declaring early failure: 1 hard test failure remains after retries"
  assert_equal "$(promise_calls)" 1
  assert_equal "$(promises)" '{"exit_status": 1, "job_id": "job-0", "reason": "test_failure (1 failed after retries)"}'
  # bktec's arguments: the status, then --reason.
  assert_equal "$(grep '^job promise-failure' "$AGENT_DIR/calls")" "job promise-failure 1 --reason test_failure (1 failed after retries)"
}

@test "the promised status is the configured failure status" {
  copy_fixture failing
  export BUILDKITE_TEST_ENGINE_FAILURE_EXIT_STATUS=3
  run "$TEP_BIN" run
  assert_failure 3
  assert_equal "$(promises)" '{"exit_status": 3, "job_id": "job-0", "reason": "test_failure (1 failed after retries)"}'
}

@test "off by default: a failing run promises nothing" {
  copy_fixture failing
  unset BUILDKITE_TEST_ENGINE_PROMISE_FAILURE
  run "$TEP_BIN" run
  assert_failure 1
  assert_equal "$(promise_calls)" 0
}

@test "a passing run promises nothing" {
  copy_fixture passing
  run "$TEP_BIN" run
  assert_success
  assert_equal "$(promise_calls)" 0
  refute_output --partial "Declaring early failure"
}

@test "failures fixed by the in-job retry (flaky): exit 0, nothing promised" {
  copy_fixture many_failures
  export BUILDKITE_TEST_ENGINE_RETRY_COUNT=1
  run "$TEP_BIN" run
  assert_success
  assert_equal "$(promise_calls)" 0
}

@test "only muted failures: exit 0, nothing promised" {
  copy_fixture failing
  server_config '{"muted_tests": [{"scope": "test_fail.py", "name": "test_really_broken"}]}'
  run "$TEP_BIN" run
  assert_success
  assert_equal "$(promise_calls)" 0
}

@test "a collection error (terminal, 65) promises nothing, unlike bktec's promise of 1" {
  copy_fixture collection_errors
  run "$TEP_BIN" run
  assert_failure 65
  assert_equal "$(promise_calls)" 0
}

@test "the plugin option set in the plan phase reaches the run phase" {
  copy_fixture failing
  unset BUILDKITE_TEST_ENGINE_PROMISE_FAILURE
  BUILDKITE_PLUGIN_CONFIGURATION='{"promise-failure": true}' run "$TEP_BIN" plan
  assert_success
  run "$TEP_BIN" run
  assert_failure 1
  assert_equal "$(promise_calls)" 1
}

@test "the agent fails: one warning line, exit status unchanged" {
  copy_fixture failing
  printf '#!/bin/sh\necho "buildkite-agent: fatal: promise-failure is not available" >&2\nexit 3\n' >"$BATS_TEST_TMPDIR/agent-fails"
  chmod +x "$BATS_TEST_TMPDIR/agent-fails"
  export BUILDKITE_TEST_ENGINE_AGENT_CMD="$BATS_TEST_TMPDIR/agent-fails"
  run "$TEP_BIN" run
  assert_failure 1
  assert_output --partial "warning: promise-failure: buildkite-agent job promise-failure exited 3; the job's exit status is unchanged"
}

@test "the agent hangs: stopped after 5 s, exit status unchanged" {
  copy_fixture failing
  printf '#!/bin/sh\nexec sleep 60\n' >"$BATS_TEST_TMPDIR/agent-hangs"
  chmod +x "$BATS_TEST_TMPDIR/agent-hangs"
  export BUILDKITE_TEST_ENGINE_AGENT_CMD="$BATS_TEST_TMPDIR/agent-hangs"
  start=$(date +%s)
  run "$TEP_BIN" run
  took=$(($(date +%s) - start))
  assert_failure 1
  assert_output --partial "did not finish within 5 s and was stopped"
  # sleep dies at the 5 s SIGTERM; pytest itself takes about a second.
  [ "$took" -lt 30 ] || { echo "took ${took}s" >&2; false; }
}
