#!/usr/bin/env bats
# The hooks with a stubbed test-engine-pytest and buildkite-agent: the calls
# they make, the environment they pass, and the exit statuses they give.

load '../support/helpers'

setup() {
  STUBS="$BATS_TEST_TMPDIR/stubs"
  mkdir -p "$STUBS"
  # The stub binary logs its subcommand and state dir, and exits as told.
  cat > "$STUBS/test-engine-pytest" <<'SH'
#!/usr/bin/env bash
printf '%s state=%s\n' "$1" "${BUILDKITE_TEST_ENGINE_STATE_DIR:-}" >> "$STUB_LOG"
exit "${STUB_EXIT:-0}"
SH
  chmod +x "$STUBS/test-engine-pytest"
  export STUB_LOG="$BATS_TEST_TMPDIR/calls" PATH="$STUBS:$PATH" BUILDKITE_JOB_ID=job-42 TMPDIR="$BATS_TEST_TMPDIR"
  unset BUILDKITE_TEST_ENGINE_STATE_DIR BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_BINARY
  HOOKS="$TEP_SOURCE_DIR/hooks"
}

@test "pre-command runs plan and exports one state directory for the later hooks" {
  run bash -c "source '$HOOKS/pre-command' && echo \"exported=\$BUILDKITE_TEST_ENGINE_STATE_DIR\""
  assert_success
  assert_output --partial "exported=$BATS_TEST_TMPDIR/test-engine-pytest-job-42"
  assert_equal "$(cat "$STUB_LOG")" "plan state=$BATS_TEST_TMPDIR/test-engine-pytest-job-42"
}

@test "pre-command fails the job with the binary's status (78 configuration, 65 terminal)" {
  for s in 78 65; do
    STUB_EXIT=$s run "$HOOKS/pre-command"
    assert_failure "$s"
  done
}

@test "command passes the run status through unchanged" {
  for s in 0 1 4 65 143; do
    STUB_EXIT=$s run "$HOOKS/command"
    [ "$status" -eq "$s" ]
  done
  assert_equal "$(grep -c '^run ' "$STUB_LOG")" 5
}

@test "post-command runs report and exits 0 even when report fails" {
  STUB_EXIT=3 run "$HOOKS/post-command"
  assert_success
  assert_output --partial "report exited 3; the job's exit status is unchanged"
  assert_equal "$(cat "$STUB_LOG")" "report state=$BATS_TEST_TMPDIR/test-engine-pytest-job-42"
}

@test "an explicit state-dir survives all hooks" {
  export BUILDKITE_TEST_ENGINE_STATE_DIR="$BATS_TEST_TMPDIR/mine"
  "$HOOKS/pre-command"
  "$HOOKS/command"
  "$HOOKS/post-command"
  assert_equal "$(cut -d' ' -f2 "$STUB_LOG" | sort -u)" "state=$BATS_TEST_TMPDIR/mine"
}

@test "the binary option wins over PATH; a bad one fails clearly" {
  mkdir -p "$BATS_TEST_TMPDIR/other"
  printf '#!/usr/bin/env bash\necho "option-$1" >> "$STUB_LOG"\n' > "$BATS_TEST_TMPDIR/other/tep"
  chmod +x "$BATS_TEST_TMPDIR/other/tep"
  export BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_BINARY="$BATS_TEST_TMPDIR/other/tep"
  run "$HOOKS/command"
  assert_success
  grep -q '^option-run' "$STUB_LOG"
  export BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_BINARY=/nonexistent/tep
  run "$HOOKS/command"
  assert_failure 78
  assert_output --partial "option 'binary': /nonexistent/tep is not an executable file"
  run "$HOOKS/post-command"
  assert_success
  assert_output --partial "nothing reported"
}

@test "without a binary the plugin builds one from its source, once, under a lock" {
  # A copy of the plugin with a stub cmake that records builds and takes time.
  plugin="$BATS_TEST_TMPDIR/plugin"
  mkdir -p "$plugin"
  cp -a "$TEP_SOURCE_DIR/hooks" "$TEP_SOURCE_DIR/lib" "$TEP_SOURCE_DIR/CMakeLists.txt" "$plugin/"
  cat > "$STUBS/cmake" <<'SH'
#!/usr/bin/env bash
if [ "$1" = -S ]; then echo configure >> "$CMAKE_LOG"; sleep 1; exit 0; fi
out=$2
echo build >> "$CMAKE_LOG"
printf '#!/usr/bin/env bash\nprintf "%%s built\\n" "$1" >> "$STUB_LOG"\n' > "$out/test-engine-pytest"
chmod +x "$out/test-engine-pytest"
SH
  chmod +x "$STUBS/cmake"
  rm "$STUBS/test-engine-pytest"
  export CMAKE_LOG="$BATS_TEST_TMPDIR/cmake.log"
  mkdir -p "$plugin/.build-$(sed -n 's/^project(test_engine_pytest VERSION \([0-9.]*\).*/\1/p' "$plugin/CMakeLists.txt")"
  # Two jobs on one host start at the same time.
  "$plugin/hooks/command" & a=$!
  "$plugin/hooks/command" & b=$!
  wait $a
  wait $b
  assert_equal "$(grep -c configure "$CMAKE_LOG")" 1
  assert_equal "$(grep -c build "$CMAKE_LOG")" 1
  assert_equal "$(grep -c '^run built' "$STUB_LOG")" 2
  "$plugin/hooks/post-command"
  assert_equal "$(grep -c configure "$CMAKE_LOG")" 1
}

@test "the hooks are shellcheck clean" {
  run shellcheck -x "$HOOKS/pre-command" "$HOOKS/command" "$HOOKS/post-command" "$TEP_SOURCE_DIR/lib/plugin.bash"
  assert_success
}
