#!/usr/bin/env bats
# The step's annotation as a team reads it: every parallel job appends to one
# box per step (failures: error; notes from passing jobs: warning; each job's
# time: info), green jobs add only their time, a Buildkite retry adds to the
# earlier attempt, hostile test names render verbatim (checked in the HTML of
# cmark-gfm, close to what Buildkite renders), the reproduce command really
# reproduces, and 50 failing jobs stay under the agent's 1 MiB. Real binary,
# real pytest, the HTTPS stand-in and the strict stub agent. The page itself
# (sections apart whatever the agent does with whitespace, step-wide notes
# once, a look in a real browser) is annotation_page.bats.

load '../support/helpers'

LAUNCHER='/usr/bin/python3 -m pytest -p tep_collector -p no:cacheprovider'
JSON_CMD="$LAUNCHER {{testExamples}} --json={{resultPath}}"
BOX=test-engine-pytest-step-abcd

setup() {
  start_server
  install_agent_stub
  pytest_env
  export BUILDKITE_TEST_ENGINE_TEST_CMD="$JSON_CMD" BUILDKITE_LABEL=':pytest: Unit tests'
  export BUILDKITE_BUILD_URL=https://buildkite.localhost/acme/shop/builds/7
  work_dir
}

teardown() { stop_server; }

html() { cmark-gfm --unsafe -e table "$1"; }

# job N COUNT: plan, run and report parallel job N of COUNT (zero-based N).
job() {
  job_env "$1" "$2"
  run "$TEP_BIN" run
  run "$TEP_BIN" report
  assert_success
}

# plan_for COUNT JOB0-FILES JOB1-FILES ...: a server plan giving each job its files.
plan_for() {
  local count=$1 tasks="" i=0
  shift
  for files in "$@"; do
    local tests="" f
    for f in $files; do tests="$tests${tests:+,}{\"path\": \"$f\", \"format\": \"file\"}"; done
    tasks="$tasks${tasks:+,}\"$i\": {\"node_number\": $i, \"tests\": [$tests]}"
    i=$((i + 1))
  done
  server_config "{\"plans\": {\"build-1234/step-abcd\": {\"parallelism\": $count, \"tasks\": {$tasks}}}}"
}

write_tests() {
  cat > test_md.py <<'PY'
import os, pathlib
import pytest

@pytest.mark.parametrize("x", [1], ids=["*star*"])
def test_md(x):
    assert x == 2, "*not* __bold__ <i>x</i>"

def test___dunder__():
    assert False, "dunder"

@pytest.mark.parametrize("x", [1], ids=["`x`"])
def test_tick(x):
    assert False

@pytest.mark.parametrize("x", [1], ids=["<b>x</b>"])
def test_html(x):
    assert False

@pytest.mark.parametrize("x", [1], ids=["&amp;"])
def test_amp(x):
    assert False

def test_flaky():
    marker = pathlib.Path(os.environ["TEP_FLAKY_DIR"]) / "md_flaky"
    if not marker.exists():
        marker.write_text("x")
        assert False, "first run fails"
PY
  cat > test_green.py <<'PY'
def test_ok():
    assert True
PY
  cat > test_flaky_only.py <<'PY'
import os, pathlib
def test_ok():
    assert True
def test_sometimes():
    marker = pathlib.Path(os.environ["TEP_FLAKY_DIR"]) / "only_flaky"
    if not marker.exists():
        marker.write_text("x")
        assert False, "first run fails"
PY
  cat > test_broken.py <<'PY'
import module_that_does_not_exist_anywhere
def test_never():
    pass
PY
}

HOSTILE=(
  'test_md.py::test_md[*star*]'
  'test_md.py::test___dunder__'
  'test_md.py::test_tick[`x`]'
  'test_md.py::test_html[<b>x</b>]'
  'test_md.py::test_amp[&amp;]'
)

@test "a 4-job step: one error box for the failing jobs, hostile names verbatim, a note from the passing job, only its time from a green one" {
  write_tests
  export BUILDKITE_TEST_ENGINE_RETRY_COUNT=1
  plan_for 4 test_md.py test_broken.py test_flaky_only.py test_green.py
  for n in 0 1 2 3; do job "$n" 4; done
  # four boxes for the step, none per job
  run ls "$AGENT_DIR/annotations"
  assert_output "$(printf '%s\n' "$BOX-jobs.md" "$BOX-jobs.priority" "$BOX-jobs.style" "$BOX-notes.md" "$BOX-notes.priority" "$BOX-notes.style" "$BOX-time.md" "$BOX-time.priority" "$BOX-time.style" "$BOX.md" "$BOX.priority" "$BOX.style")"
  assert_equal "$(cat "$AGENT_DIR/annotations/$BOX.style")" error
  assert_equal "$(cat "$AGENT_DIR/annotations/$BOX-notes.style")" warning
  assert_equal "$(cat "$AGENT_DIR/annotations/$BOX-time.style")" info
  # every call appended: jobs 1 and 2 (failing: the section, their time, then
  # the Test Engine run after the upload), job 3 (flaky: a note, its time); job 4 its time
  run grep -c "^annotate " "$AGENT_DIR/calls"
  assert_output 13 # and each job wrote the step's table of jobs whole
  run grep -c "^annotate --style info --context $BOX-jobs --priority 1$" "$AGENT_DIR/calls"
  assert_output 4
  run grep -c "^annotate --append" "$AGENT_DIR/calls"
  assert_output 9
  run grep -c -- "--context $BOX-time --priority 1$" "$AGENT_DIR/calls"
  assert_output 4
  ! grep -q "job-3" "$AGENT_DIR/annotations/$BOX.md" "$AGENT_DIR/annotations/$BOX-notes.md" || false
  f="$AGENT_DIR/annotations/$BOX.md"
  cat "$f"
  grep -q '^\*\*:x: :pytest: Unit tests\*\* · \[job 1 of 4\](https://buildkite.localhost/acme/shop/builds/7#job-0): failed (exit status 1)$' "$f"
  grep -q '^\*\*:x: :pytest: Unit tests\*\* · \[job 2 of 4\](https://buildkite.localhost/acme/shop/builds/7#job-1): failed (exit status 65)$' "$f"
  ! grep -q "job 3 of 4\|job 4 of 4" "$f" || false
  grep -q "job 3 of 4.*: passed" "$AGENT_DIR/annotations/$BOX-notes.md"
  grep -q "test_flaky_only.py::test_sometimes" "$AGENT_DIR/annotations/$BOX-notes.md"
  ! grep -q "job 4 of 4" "$AGENT_DIR/annotations/$BOX-notes.md" || false

  run html "$f"
  h=$output
  echo "$h"
  for id in "${HOSTILE[@]}"; do
    esc=$(/usr/bin/python3 -c 'import html,sys; print(html.escape(sys.argv[1], quote=False))' "$id")
    [[ "$h" == *"<code>$esc</code>"* ]] || { echo "not verbatim: $id"; return 1; }
  done
  [[ "$h" != *"<em>"* && "$h" != *"<b>"* && "$h" != *"<i>"* && "$h" != *"<del>"* ]]
  # <strong> only in the job headings and the terminal note
  run grep -o "<strong>[^<]*</strong>" <<<"$h"
  assert_output "$(printf '%s\n' "<strong>:x: :pytest: Unit tests</strong>" "<strong>:link: :pytest: Unit tests</strong>" \
    "<strong>:x: :pytest: Unit tests</strong>" "<strong>Not retried:</strong>" "<strong>:link: :pytest: Unit tests</strong>")"
  grep -q "^\*\*:link: :pytest: Unit tests\*\* · \[job 1 of 4\](https://buildkite.localhost/acme/shop/builds/7#job-0): results in \[Test Engine\](https://buildkite.localhost/test-engine/runs/1)$" "$f"
  # the real cause of the collection error, the first line of each reason, the flaky test
  [[ "$h" == *"<code>test_broken.py</code>: ModuleNotFoundError: No module named 'module_that_does_not_exist_anywhere'"* ]]
  [[ "$h" == *"AssertionError: *not* __bold__ &lt;i&gt;x&lt;/i&gt;"* ]]
  [[ "$h" == *"Flaky tests (failed, then passed on an in-job retry) (1):"* ]]
  [[ "$h" == *"<code>test_md.py::test_flaky</code>"* ]]
}

@test "the reproduce command, pasted into a shell, runs exactly the failed tests" {
  write_tests
  plan_for 1 test_md.py
  job 0 1
  cmd=$(/usr/bin/python3 - "$AGENT_DIR/annotations/$BOX.md" <<'PY'
import html, re, subprocess, sys
out = subprocess.run(["cmark-gfm", "--unsafe", "-e", "table", sys.argv[1]], capture_output=True, text=True).stdout
print(html.unescape(re.search(r"Reproduce locally: <code>(.*?)</code>", out).group(1)))
PY
)
  echo "$cmd"
  [[ "$cmd" == "$LAUNCHER "* ]]
  run bash -c "$cmd -q -rf"
  assert_failure 1
  for id in "${HOSTILE[@]}"; do assert_output --partial "FAILED $id"; done
  refute_output --partial "test_flaky"
  assert_output --partial "5 failed in"
}

@test "a Buildkite retry adds its outcome under the first attempt's failures; the box stays red" {
  cp "$TEP_SOURCE_DIR/fixtures/names/test_names.py" .
  export TEP_NAMES_FLAKY=1
  job 0 2
  f="$AGENT_DIR/annotations/$BOX.md"
  grep -q "Failed tests (6):" "$f"
  first=$(cat "$f")
  export BUILDKITE_RETRY_COUNT=1
  job_env 0 2
  export BUILDKITE_JOB_ID=job-0-retry BUILDKITE_TEST_ENGINE_STATE_DIR="$BATS_TEST_TMPDIR/retry-state"
  run "$TEP_BIN" run
  assert_success
  assert_output --partial "running only the 6 tests that failed"
  run "$TEP_BIN" report
  assert_success
  cat "$f"
  # the first attempt is kept, byte for byte, and the retry's outcome follows
  [[ "$(cat "$f")" == "$first"* ]]
  grep -q "\*\* · \[job 1 of 2\](https://buildkite.localhost/acme/shop/builds/7#job-0-retry) · attempt 2 (retry 1): failed on the previous attempt, passed on retry$" "$f"
  assert_equal "$(cat "$AGENT_DIR/annotations/$BOX.style")" error
  [ ! -e "$AGENT_DIR/annotations/$BOX-notes.md" ]
}

@test "an all-green step writes no failures or notes box: only each job's time and the step's table, in info boxes" {
  write_tests
  plan_for 2 test_green.py test_green.py
  job 0 2
  assert_output --partial "Annotation: no failures or notes from this job"
  job 1 2
  run ls "$AGENT_DIR/annotations"
  assert_output "$(printf '%s\n' "$BOX-jobs.md" "$BOX-jobs.priority" "$BOX-jobs.style" "$BOX-time.md" "$BOX-time.priority" "$BOX-time.style")"
  assert_equal "$(cat "$AGENT_DIR/annotations/$BOX-jobs.style")" info
  run grep -c "^annotate --append --style info --context $BOX-time --priority 1$" "$AGENT_DIR/calls"
  assert_output 2
  run grep -c "^annotate --style info --context $BOX-jobs --priority 1$" "$AGENT_DIR/calls"
  assert_output 2
  run grep -c "^annotate" "$AGENT_DIR/calls"
  assert_output 4
}

@test "a full box: the refused section becomes one line saying so" {
  write_tests
  plan_for 1 test_md.py
  mkdir -p "$AGENT_DIR/annotations"
  /usr/bin/python3 -c 'import sys; open(sys.argv[1], "w").write("x" * (1024 * 1024 - 400))' "$AGENT_DIR/annotations/$BOX.md"
  echo error > "$AGENT_DIR/annotations/$BOX.style"
  job 0 1
  assert_output --partial "Annotation: the box is full; one line appended instead"
  assert_output --partial "could not write the annotation:"
  run tail -c 400 "$AGENT_DIR/annotations/$BOX.md"
  assert_output --partial "failed (6 failed · 0 passed); the annotation is full, details are in the job log"
  [ "$(stat -c %s "$AGENT_DIR/annotations/$BOX.md")" -le 1048576 ]
}

@test "50 failing jobs with 200 failures each: every job appends its bounded section, the box stays under 1 MiB" {
  cat > many.sh <<'SH'
#!/usr/bin/env bash
for a in "$@"; do case "$a" in --json=*) out=${a#--json=};; esac; done
/usr/bin/python3 -c '
import json, sys
reason = "AssertionError: assert {\"a\": 1, \"b\": [1, 2, 3]} == {\"a\": 2, \"b\": [1, 2, 4]} (the dicts differ)"
json.dump([{"scope": "tests/test_big.py", "name": "test_case[param-%d]" % i, "result": "failed",
            "failure_reason": reason} for i in range(200)], open(sys.argv[1], "w"))' "$out"
exit 1
SH
  chmod +x many.sh
  touch test_x.py
  plan_for 50 $(for n in $(seq 0 49); do echo test_x.py; done)
  export BUILDKITE_TEST_ENGINE_TEST_CMD="./many.sh {{testExamples}} --json={{resultPath}}"
  export BUILDKITE_TEST_ENGINE_UPLOAD_RESULTS=false
  for n in $(seq 0 49); do
    job_env "$n" 50
    "$TEP_BIN" run >/dev/null 2>&1 || true
    "$TEP_BIN" report > "$BATS_TEST_TMPDIR/report-$n.log" 2>&1
  done
  f="$AGENT_DIR/annotations/$BOX.md"
  size=$(stat -c %s "$f")
  echo "# 50 failing jobs x 200 failures: $size bytes" >&3
  [ "$size" -lt 1048576 ]
  run grep -c "^\*\*:x: :pytest: Unit tests\*\* · \[job [0-9]* of 50\]" "$f"
  assert_output 50
  run grep -c "^Failed tests (200):$" "$f"
  assert_output 50
  run grep -c "more, not shown to keep the annotation small: see the job log$" "$f"
  assert_output 50
  ! grep -q "could not write the annotation\|box is full" "$BATS_TEST_TMPDIR"/report-*.log || false
  # each section is bounded (16 KiB, and the two comment lines that wrap it)
  /usr/bin/python3 - "$f" <<'PY'
import re, sys
body = open(sys.argv[1], encoding="utf-8").read()
sections = re.split(r"(?=<!-- test-engine-pytest: job )", body)
sizes = [len(s.encode()) for s in sections if s.strip()]
assert len(sizes) == 50 and max(sizes) <= 16 * 1024 + 100, (len(sizes), max(sizes))
print("# largest section %d bytes" % max(sizes))
PY
}
