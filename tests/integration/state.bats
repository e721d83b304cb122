#!/usr/bin/env bats
# Where the phases keep their state: in the checkout, under the job's own
# identity, so local parallel runs never share a slice, another project never
# picks one up, a folder someone else can write is refused, and nothing shows
# in git status or stays after cleanup.

load '../support/helpers'

setup() {
  copy_fixture shop
  pytest_env
  export NO_COLOR=1 BUILDKITE_TEST_ENGINE_TEST_CMD="$JSON_CMD"
  export BUILDKITE_TEST_ENGINE_RETRY_COUNT=1 # the shop has one flaky test
  unset BUILDKITE_JOB_ID BUILDKITE_TEST_ENGINE_STATE_DIR
}

# ran_files LOG: the test files a run's pytest command line named.
ran_files() { grep '^\$ .*attempt-0' "$1" | grep -o 'tests/[^ ]*\.py' | sort; }

@test "three local parallel runs at once, no Buildkite job id: each runs its own slice, every file once" {
  for j in 0 1 2; do
    BUILDKITE_PARALLEL_JOB=$j BUILDKITE_PARALLEL_JOB_COUNT=3 "$TEP_BIN" run > "$BATS_TEST_TMPDIR/run-$j.log" 2>&1 &
  done
  wait || true
  cat "$BATS_TEST_TMPDIR"/run-*.log | grep -E "Plan source|local plan|^\\$" || true
  all=$(for j in 0 1 2; do ran_files "$BATS_TEST_TMPDIR/run-$j.log"; done | sort)
  assert_equal "$(echo "$all" | wc -l)" 6
  assert_equal "$(echo "$all" | sort -u | wc -l)" 6
  grep -q "no Test Engine suite or token configured: planning locally" "$BATS_TEST_TMPDIR/run-0.log"
  [ -d .test-engine-pytest/local-1-of-3 ] && [ -d .test-engine-pytest/local-3-of-3 ]
}

@test "a slice made for another job count, suite or project is never run" {
  export BUILDKITE_JOB_ID=job-1 BUILDKITE_BUILD_ID=b BUILDKITE_STEP_ID=s BUILDKITE_PARALLEL_JOB=0
  BUILDKITE_PARALLEL_JOB_COUNT=2 run "$TEP_BIN" plan
  assert_success
  # The same job id, but now 3 jobs: the old slice is refused and a new one made.
  BUILDKITE_PARALLEL_JOB_COUNT=3 run "$TEP_BIN" run
  assert_output --partial "was made for job 1 of 2, not job 1 of 3; planning again"
  # Another checkout (another project) has no state at all: it plans its own.
  mkdir "$BATS_TEST_TMPDIR/other" && cd "$BATS_TEST_TMPDIR/other"
  printf 'def test_x():\n    pass\n' > test_other.py
  BUILDKITE_PARALLEL_JOB_COUNT=2 run "$TEP_BIN" run
  assert_success
  assert_output --partial "test_other.py"
  refute_output --partial "tests/test_cart.py"
}

@test "a state folder another user could write is refused" {
  export BUILDKITE_JOB_ID=job-9
  mkdir -p .test-engine-pytest/job-9
  chmod 777 .test-engine-pytest/job-9
  run "$TEP_BIN" run
  assert_failure 78
  assert_output --partial "state directory '.test-engine-pytest/job-9' is writable by other users"
  rm -rf .test-engine-pytest && mkdir -p elsewhere .test-engine-pytest && ln -s ../elsewhere .test-engine-pytest/job-9
  run "$TEP_BIN" run
  assert_failure 78
  assert_output --partial "is not a directory (a link or a file)"
  # Nothing was made in the link's target before the check refused it.
  [ ! -e elsewhere/results ] && [ ! -e elsewhere/.test-engine-pytest-state ]
  rm -rf .test-engine-pytest && ln -s elsewhere .test-engine-pytest
  run "$TEP_BIN" run
  assert_failure 78
  [ ! -e elsewhere/job-9 ]
}

@test "two runs of the same job at once: the second is refused, not mixed in" {
  export BUILDKITE_JOB_ID=job-5 TEP_CANCEL_READY="$BATS_TEST_TMPDIR/ready"
  cp "$TEP_SOURCE_DIR/fixtures/cancel/test_cancel.py" tests/
  TEP_CANCEL_MARK=1 "$TEP_BIN" run > "$BATS_TEST_TMPDIR/first.log" 2>&1 &
  first=$!
  wait_for_file "$TEP_CANCEL_READY" 30
  run "$TEP_BIN" run
  kill -TERM "$first"; wait "$first" || true
  assert_failure 78
  assert_output --partial "another test-engine-pytest run is using .test-engine-pytest/job-5"
}

@test "run started in a subdirectory finds the slice at the checkout's top and runs from there" {
  export BUILDKITE_JOB_ID=job-7 BUILDKITE_BUILD_ID=b BUILDKITE_STEP_ID=s
  run "$TEP_BIN" plan
  assert_success
  cd tests/unit
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "Running from $WORK, where the plan phase wrote this job's slice"
  refute_output --partial "planning again"
}

@test "the state never shows in git status, and cleanup leaves the checkout as it was" {
  git init -q . && git add -A && git -c user.email=t@t -c user.name=t commit -qm fixture
  export BUILDKITE_JOB_ID=job-3
  run "$TEP_BIN" run
  assert_success
  [ -f .test-engine-pytest/job-3/run.json ]
  assert_equal "$(git status --porcelain)" ""
  run "$TEP_BIN" cleanup
  assert_success
  [ ! -e .test-engine-pytest ]
  assert_equal "$(git status --porcelain)" ""
}

@test "cleanup removes only a folder the tool made" {
  mkdir mine && echo precious > mine/file
  BUILDKITE_TEST_ENGINE_STATE_DIR="$PWD/mine" run "$TEP_BIN" cleanup
  assert_success
  assert_equal "$(cat mine/file)" precious
}

# --- the tool removes only what it created (issue 17) --------------------------

@test "a state-dir holding a user's notes.txt and sub/ is refused by run; cleanup leaves it whole" {
  mkdir -p mine/sub && echo notes > mine/notes.txt && echo deep > mine/sub/deep.txt
  export BUILDKITE_TEST_ENGINE_STATE_DIR="$PWD/mine"
  run "$TEP_BIN" run
  assert_failure 78
  assert_output --partial "state directory '$PWD/mine' already holds files this tool did not write"
  [ ! -e mine/.test-engine-pytest-state ] && [ ! -e mine/results ]
  run "$TEP_BIN" cleanup
  assert_success
  assert_equal "$(cat mine/notes.txt mine/sub/deep.txt)" "$(printf 'notes\ndeep')"
}

@test "files a user adds to the tool's own state folder survive cleanup, said in one line" {
  export BUILDKITE_JOB_ID=job-4
  run "$TEP_BIN" run
  assert_success
  echo notes > .test-engine-pytest/job-4/notes.txt && mkdir .test-engine-pytest/job-4/sub
  run "$TEP_BIN" cleanup
  assert_success
  assert_output "cleanup: kept .test-engine-pytest/job-4: it holds what this tool did not write (notes.txt, sub/); only this tool's own files were removed"
  [ -f .test-engine-pytest/job-4/notes.txt ] && [ -d .test-engine-pytest/job-4/sub ]
  [ ! -e .test-engine-pytest/job-4/run.json ] && [ ! -e .test-engine-pytest/job-4/results ]
}

@test "state-dir: . never puts the checkout in the tool's hands: refused, and cleanup deletes nothing" {
  git init -q . && git add -A && git -c user.email=t@t -c user.name=t commit -qm fixture
  before=$(find . | sort)
  export BUILDKITE_PLUGIN_CONFIGURATION='{"state-dir": "."}'
  run "$TEP_BIN" plan
  assert_failure 78
  assert_output --partial "state directory '.' is the checkout or a folder above it"
  run "$TEP_BIN" run
  assert_failure 78
  run "$TEP_BIN" cleanup
  assert_success
  assert_equal "$(find . | sort)" "$before"
  assert_equal "$(git status --porcelain)" ""
}

@test "the checkout's parent, \$HOME and / are refused as state folders; nothing is written there" {
  export HOME="$BATS_TEST_TMPDIR/home"
  mkdir -p "$HOME"
  for dir in .. "$BATS_TEST_TMPDIR" "$HOME" /; do
    BUILDKITE_TEST_ENGINE_STATE_DIR=$dir run "$TEP_BIN" run
    assert_failure 78
    assert_output --regexp "state directory '$dir' is (the checkout or a folder above it|the home folder|the root folder)"
    [ ! -e "$dir/.test-engine-pytest-state" ] && [ ! -e "$dir/results" ] && [ ! -e "$dir/slice.json" ]
    BUILDKITE_TEST_ENGINE_STATE_DIR=$dir run "$TEP_BIN" cleanup
    assert_success
  done
  [ -d "$WORK/tests" ] && [ -d "$HOME" ]
}

@test "a BUILDKITE_JOB_ID that is no plain name is a configuration error; nothing made or removed outside" {
  # What a previous, legitimate run left where ../../outside points.
  outside="$BATS_TEST_TMPDIR/outside"
  mkdir -p "$outside/results" && touch "$outside/.test-engine-pytest-state" "$outside/slice.json" "$outside/results/attempt-0.json"
  for id in ../../outside a/b .. $'job\e[31m' 'job 1'; do
    BUILDKITE_JOB_ID=$id run "$TEP_BIN" plan
    assert_failure 78
    assert_output --partial "BUILDKITE_JOB_ID: '"
    assert_output --partial "' is not a job id"
    BUILDKITE_JOB_ID=$id run "$TEP_BIN" run
    assert_failure 78
    assert_output --partial "is not a job id"
    BUILDKITE_JOB_ID=$id run "$TEP_BIN" cleanup
    assert_success
    assert_output --partial "is not a job id"
  done
  # Set but empty inside a Buildkite build is refused the same way.
  BUILDKITE_JOB_ID= BUILDKITE_BUILD_ID=b run "$TEP_BIN" run
  assert_failure 78
  assert_output --partial "BUILDKITE_JOB_ID: '' is not a job id"
  [ -f "$outside/slice.json" ] && [ -f "$outside/results/attempt-0.json" ]
  [ ! -e "$BATS_TEST_TMPDIR/a" ] && [ ! -e .test-engine-pytest ]
}
