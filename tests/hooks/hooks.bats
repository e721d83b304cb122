#!/usr/bin/env bats
# The hooks as the agent runs them (sourced, options named after the plugin's
# repository), with a stubbed test-engine-pytest: the calls they make, what
# they export, the exit statuses they give, and the build cache.

load '../support/helpers'

setup() {
  STUBS="$BATS_TEST_TMPDIR/stubs"
  mkdir -p "$STUBS"
  VERSION=$(sed -n 's/^project(test_engine_pytest VERSION \([0-9.]*\).*/\1/p' "$TEP_SOURCE_DIR/CMakeLists.txt")
  # The stub binary answers --version like the real one, logs its subcommand
  # and state dir, and exits as told.
  cat > "$STUBS/test-engine-pytest" <<SH
#!/usr/bin/env bash
if [ "\$1" = --version ]; then echo "test-engine-pytest \${STUB_VERSION:-$VERSION}"; exit 0; fi
printf '%s state=%s\n' "\$1" "\${BUILDKITE_TEST_ENGINE_STATE_DIR:-}" >> "\$STUB_LOG"
v="STUB_EXIT_\$1"; exit "\${!v:-\${STUB_EXIT:-0}}"
SH
  chmod +x "$STUBS/test-engine-pytest"
  export STUB_LOG="$BATS_TEST_TMPDIR/calls" PATH="$STUBS:$PATH" BUILDKITE_JOB_ID=job-42
  export TEP_CACHE_DIR="$BATS_TEST_TMPDIR/cache" BUILDKITE_PLUGIN_NAME=TEST_ENGINE_PYTEST
  unset BUILDKITE_TEST_ENGINE_STATE_DIR BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_BINARY BUILDKITE_PLUGIN_CONFIGURATION
  HOOKS="$TEP_SOURCE_DIR/hooks"
}

@test "pre-command, sourced as the agent does, plans with this version's binary from PATH (already first there)" {
  run bash -c "set -o | sort > '$BATS_TEST_TMPDIR/before'; source '$HOOKS/pre-command'; echo status=\$?
    set -o | sort > '$BATS_TEST_TMPDIR/after'
    echo \"first=\$(command -v test-engine-pytest)\"; echo \"state=\${BUILDKITE_TEST_ENGINE_STATE_DIR:-unset}\""
  assert_success
  assert_output --partial "status=0"
  assert_output --partial "first=$STUBS/test-engine-pytest"
  assert_output --partial "state=unset"
  assert_equal "$(cat "$STUB_LOG")" "plan state="
  # Sourcing leaves the agent's wrapper shell options as they were (no leaked set -e).
  assert_equal "$(cat "$BATS_TEST_TMPDIR/before")" "$(cat "$BATS_TEST_TMPDIR/after")"
}

@test "pre-command fails the job with the binary's status (78 configuration, 65 terminal), sourced or run" {
  for s in 78 65; do
    STUB_EXIT=$s run "$HOOKS/pre-command"
    assert_failure "$s"
    STUB_EXIT=$s run bash -c "source '$HOOKS/pre-command'; echo sourced-status=\$?"
    assert_output --partial "sourced-status=$s"
  done
}

@test "post-command runs report and succeeds even when report fails" {
  STUB_EXIT=3 run "$HOOKS/post-command"
  assert_success
  assert_output --partial "report exited 3; the job's exit status is unchanged"
  assert_equal "$(cat "$STUB_LOG")" "report state="
  STUB_EXIT=3 run bash -c "source '$HOOKS/post-command'; echo sourced-status=\$?"
  assert_output --partial "sourced-status=0"
}

# source_hook OPTIONS HOOK: sources HOOK in a shell with OPTIONS set first (e.g.
# "set -euo pipefail"), as a plain statement, the way the agent's wrapper does;
# prints the hook's status, then at exit the shell's status and the traps left.
source_hook() {
  bash -c "trap 'echo \"shell-exit=\$?\"; echo \"traps=[\$(trap -p TERM INT HUP)]\"' EXIT
    $1
    source '$HOOKS/$2'
    echo \"after-hook=\$?\""
}

@test "every hook behaves the same with and without set -euo pipefail in the sourcing shell" {
  for options in ":" "set -euo pipefail" "set -e" "set -u"; do
    # post-command: a failing report is said, the hook succeeds and removes its trap.
    : > "$STUB_LOG"
    STUB_EXIT=3 run source_hook "$options" post-command
    assert_output --partial "report exited 3; the job's exit status is unchanged"
    assert_output --partial "after-hook=0"
    assert_output --partial "shell-exit=0"
    assert_output --partial "traps=[]"
    assert_equal "$(cat "$STUB_LOG")" "report state="
    # pre-exit: a failing cleanup never fails the job.
    : > "$STUB_LOG"
    STUB_EXIT=9 run source_hook "$options" pre-exit
    assert_output --partial "after-hook=0"
    assert_equal "$(cat "$STUB_LOG")" "cleanup state="
    # pre-command: success goes on; failure gives plan's status either way.
    : > "$STUB_LOG"
    run source_hook "$options" pre-command
    assert_output --partial "after-hook=0"
    assert_output --partial "traps=[]"
    # (sourced without errexit the shell goes on with the hook's status; with
    # errexit it stops there with it: either way the job fails with 65)
    STUB_EXIT=65 run source_hook "$options" pre-command
    assert_output --regexp "(after-hook|shell-exit)=65"
    refute_output --partial "after-hook=0"
    # No binary at all: pre-command fails with 78, the others say so and succeed.
    export BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_BINARY=/nonexistent/tep
    run source_hook "$options" pre-command
    assert_output --regexp "(after-hook|shell-exit)=78"
    assert_output --partial "option 'binary': /nonexistent/tep is not an executable file"
    for hook in post-command pre-exit; do
      run source_hook "$options" "$hook"
      assert_output --partial "after-hook=0"
    done
    unset BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_BINARY
  done
}

@test "a job through the real-agent job runner ends the same with and without errexit in the hooks' shell" {
  mkdir -p "$BATS_TEST_TMPDIR/checkout"
  for mode in --pty --hook-errexit; do
    : > "$STUB_LOG"
    # plan passes, the command's run fails with 1, report with 3, cleanup with 9.
    run /usr/bin/python3 "$SUPPORT/job_runner.py" --checkout "$BATS_TEST_TMPDIR/checkout" \
      --command 'test-engine-pytest run' --plugin "$TEP_SOURCE_DIR=test-engine-pytest-buildkite-plugin" \
      --summary "$BATS_TEST_TMPDIR/summary-$mode.json" --env "STUB_LOG=$STUB_LOG" --env "PATH=$STUBS:/usr/bin:/bin" \
      --env STUB_EXIT_run=1 --env STUB_EXIT_report=3 --env STUB_EXIT_cleanup=9 \
      --env "TEP_CACHE_DIR=$TEP_CACHE_DIR" --env "BUILDKITE_JOB_ID=job-errexit-$$$mode" "$mode"
    assert_equal "$status" 1
    assert_output --partial "report exited 3; the job's exit status is unchanged"
    assert_equal "$(cut -d' ' -f1 "$STUB_LOG" | tr '\n' ' ')" "plan run report cleanup "
    run /usr/bin/python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
print(" ".join("%s=%s" % (p["phase"], p.get("exit_status")) for p in s["phases"]))' "$BATS_TEST_TMPDIR/summary-$mode.json"
    assert_output "pre-command=0 command=1 post-command=0 pre-exit=0"
  done
}

@test "post-command outlives a cancellation's SIGTERM to its process group, so report can finish" {
  cat > "$STUBS/test-engine-pytest" <<SH
#!/usr/bin/env bash
[ "\$1" = --version ] && { echo "test-engine-pytest $VERSION"; exit 0; }
trap 'echo "report got SIGTERM, finishing" >> "\$STUB_LOG"' TERM
echo started >> "\$STUB_LOG"
for _ in 1 2 3 4 5 6 7 8 9 10; do sleep 0.1; done
echo "report finished" >> "\$STUB_LOG"
SH
  setsid bash -c "source '$HOOKS/post-command'; echo hook-status=\$? >> '$STUB_LOG'" &
  pid=$!
  for _ in $(seq 1 50); do grep -q started "$STUB_LOG" 2>/dev/null && break; sleep 0.05; done
  kill -TERM -- "-$pid"
  wait "$pid" || true
  run cat "$STUB_LOG"
  assert_output --partial "report got SIGTERM, finishing"
  assert_output --partial "report finished"
  assert_output --partial "hook-status=0"
}

@test "pre-exit runs cleanup and never fails the job" {
  STUB_EXIT=9 run "$HOOKS/pre-exit"
  assert_success
  assert_equal "$(cat "$STUB_LOG")" "cleanup state="
}

@test "the state-dir option reaches every phase, whatever the repository is called" {
  # acme/test-engine-pytest.git as a full URL: the agent names the options ..._GIT_
  export BUILDKITE_PLUGIN_NAME=TEST_ENGINE_PYTEST_GIT
  export BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_GIT_STATE_DIR="$BATS_TEST_TMPDIR/mine"
  bash -c "source '$HOOKS/pre-command' && test-engine-pytest run && source '$HOOKS/post-command' && source '$HOOKS/pre-exit'"
  assert_equal "$(cut -d' ' -f1 "$STUB_LOG" | tr '\n' ' ')" "plan run report cleanup "
  assert_equal "$(cut -d' ' -f2 "$STUB_LOG" | sort -u)" "state=$BATS_TEST_TMPDIR/mine"
}

@test "options are read from BUILDKITE_PLUGIN_CONFIGURATION when the variables are missing" {
  export BUILDKITE_PLUGIN_CONFIGURATION="{\"suite-slug\":\"x\",\"state-dir\":\"$BATS_TEST_TMPDIR/with \\\"quotes\\\"\"}"
  "$HOOKS/pre-command"
  assert_equal "$(cat "$STUB_LOG")" "plan state=$BATS_TEST_TMPDIR/with \"quotes\""
}

@test "the binary option wins over PATH; a bad one fails clearly; another version is used with a warning" {
  mkdir -p "$BATS_TEST_TMPDIR/other"
  printf '#!/usr/bin/env bash\n[ "$1" = --version ] && { echo "test-engine-pytest 9.9.9"; exit 0; }\necho "option-$1" >> "$STUB_LOG"\n' > "$BATS_TEST_TMPDIR/other/tep"
  chmod +x "$BATS_TEST_TMPDIR/other/tep"
  export BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_BINARY="$BATS_TEST_TMPDIR/other/tep"
  run "$HOOKS/pre-command"
  assert_success
  assert_output --partial "is version 9.9.9, this plugin is $VERSION; using it as you asked"
  grep -q '^option-plan' "$STUB_LOG"
  # The step's command finds the option's binary first, through a folder of its own.
  run bash -c "source '$HOOKS/pre-command' && command -v test-engine-pytest && test-engine-pytest --version"
  assert_output --partial "$TEP_CACHE_DIR/path/"
  assert_output --partial "test-engine-pytest 9.9.9"
  export BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_BINARY=/nonexistent/tep
  run "$HOOKS/pre-command"
  assert_failure 78
  assert_output --partial "option 'binary': /nonexistent/tep is not an executable file"
  run "$HOOKS/post-command"
  assert_success
  assert_output --partial "nothing reported"
}

@test "a test-engine-pytest of another version on PATH is refused in favour of the plugin's own build" {
  export STUB_VERSION=0.0.1
  # No build tools: the refusal is said, and the missing tools are named.
  run env PATH="$STUBS:/usr/bin:/bin" TEP_TEST_NO_CMAKE=1 bash -c "
    cmake() { return 127; }
    command() { if [ \"\$2\" = cmake ]; then return 1; fi; builtin command \"\$@\"; }
    source '$HOOKS/pre-command'"
  assert_failure 78
  assert_output --partial "ignoring $STUBS/test-engine-pytest (version 0.0.1): this plugin is version $VERSION"
  assert_output --partial "cannot build test-engine-pytest: cmake not installed"
  assert_equal "$(cat "$STUB_LOG" 2>/dev/null)" ""
}

@test "two plugin checkouts on one host build once (real cmake), quietly; pre-exit never builds" {
  rm "$STUBS/test-engine-pytest"
  for n in 1 2; do
    mkdir -p "$BATS_TEST_TMPDIR/plugins/agent-$n/plugin"
    cp -a "$TEP_SOURCE_DIR/hooks" "$TEP_SOURCE_DIR/lib" "$TEP_SOURCE_DIR/src" "$TEP_SOURCE_DIR/cmake" "$TEP_SOURCE_DIR/CMakeLists.txt" \
      "$TEP_SOURCE_DIR/LICENSE" "$TEP_SOURCE_DIR/README.md" "$BATS_TEST_TMPDIR/plugins/agent-$n/plugin/"
    mkdir -p "$BATS_TEST_TMPDIR/checkout-$n"
    printf 'def test_ok():\n    pass\n' > "$BATS_TEST_TMPDIR/checkout-$n/test_a.py"
  done
  # pre-exit before any build: nothing to clean, nothing built.
  (cd "$BATS_TEST_TMPDIR/checkout-1" && "$BATS_TEST_TMPDIR/plugins/agent-1/plugin/hooks/pre-exit")
  [ ! -d "$TEP_CACHE_DIR" ] || [ -z "$(ls "$TEP_CACHE_DIR")" ]
  # Two jobs start at once on two workers' checkouts; the real plan runs offline.
  for n in 1 2; do
    (cd "$BATS_TEST_TMPDIR/checkout-$n" && BUILDKITE_JOB_ID="job-$n" \
      "$BATS_TEST_TMPDIR/plugins/agent-$n/plugin/hooks/pre-command" > "$BATS_TEST_TMPDIR/job-$n.log" 2>&1) &
  done
  wait
  cat "$BATS_TEST_TMPDIR"/job-*.log
  assert_equal "$(cat "$BATS_TEST_TMPDIR"/job-*.log | grep -c 'built test-engine-pytest')" 1
  # A successful build prints no build log (no cmake or compiler output).
  ! grep -qiE -- '-- (Configuring|Build files)|Building C object|\[ *[0-9]+%\]' "$BATS_TEST_TMPDIR"/job-*.log || false
  for n in 1 2; do grep -q "Plan source: fallback" "$BATS_TEST_TMPDIR/job-$n.log"; done
  assert_equal "$(ls "$TEP_CACHE_DIR" | grep -c -- "^$VERSION-[0-9a-f]*$")" 1
  # pre-exit removes each job's state and leaves the checkout as it was.
  for n in 1 2; do
    (cd "$BATS_TEST_TMPDIR/checkout-$n" && BUILDKITE_JOB_ID="job-$n" "$BATS_TEST_TMPDIR/plugins/agent-$n/plugin/hooks/pre-exit")
    assert_equal "$(ls -A "$BATS_TEST_TMPDIR/checkout-$n")" "test_a.py"
  done
}

@test "the checkout stamp gets a fresh name: a link planted at a predictable one is never written through" {
  # The stamp was written to "<stamp>.tmp.<pid>" then renamed: anyone who can
  # guess a pid could plant a link there and have the hook write through it.
  victim="$BATS_TEST_TMPDIR/victim"
  echo mine > "$victim"
  run bash -c 'source "$1/lib/plugin.bash"
    tep_cache=$2
    mkdir -p -m 700 "$tep_cache/checkouts"
    tep_stamp=$tep_cache/checkouts/stamp tep_stamp_text=key
    ln -s "$3" "$tep_stamp.tmp.$$"
    tep_save_stamp
    cat "$tep_cache/checkouts/stamp"' _ "$TEP_SOURCE_DIR" "$BATS_TEST_TMPDIR/cache" "$victim"
  assert_success
  assert_output key
  assert_equal "$(cat "$victim")" mine
  [ ! -L "$BATS_TEST_TMPDIR/cache/checkouts/stamp" ] || false
}

@test "a failing build shows its log and fails the job with 78" {
  rm "$STUBS/test-engine-pytest"
  plugin="$BATS_TEST_TMPDIR/plugin"
  mkdir -p "$plugin"
  cp -a "$TEP_SOURCE_DIR/hooks" "$TEP_SOURCE_DIR/lib" "$TEP_SOURCE_DIR/src" "$TEP_SOURCE_DIR/cmake" "$TEP_SOURCE_DIR/CMakeLists.txt" "$plugin/"
  echo "this is not C" >> "$plugin/src/cmd/main.c"
  run "$plugin/hooks/pre-command"
  assert_failure 78
  assert_output --partial "this is not C"
  assert_output --partial "building test-engine-pytest failed; the full log is $TEP_CACHE_DIR/"
}

@test "the hooks, the release scripts and their benchmarks are shellcheck clean" {
  run shellcheck -x "$HOOKS/pre-command" "$HOOKS/post-command" "$HOOKS/pre-exit" "$TEP_SOURCE_DIR/lib/plugin.bash" \
    "$TEP_SOURCE_DIR/scripts/release" "$TEP_SOURCE_DIR/scripts/release-check" "$TEP_SOURCE_DIR/bench/hooks.sh" \
    "$TEP_SOURCE_DIR/bench/cold_host.sh"
  assert_success
}

@test "no test asserts with a bare '! command' (bats does not fail on it, SC2314/SC2315)" {
  run shellcheck -s bash --include=SC2314,SC2315 "$TEP_SOURCE_DIR"/tests/*/*.bats
  assert_success
}
