#!/usr/bin/env bats
# Hostile inputs through the real binary: result files that once looped
# forever or took minutes, floods of bad records, huge fields, non-finite
# durations, and plan entries that pytest would misread. Each phase must end
# (bounded by `timeout`), say what is wrong on one line, and tell the truth
# in its exit status.

load '../support/helpers'

setup() {
  start_server
  job_env 0 1
  install_agent_stub
  export BUILDKITE_ANALYTICS_TOKEN="$UPLOAD_TOKEN"
  copy_fixture passing
}

teardown() { stop_server; }

# capped CMD...: like bats' run, but keeps only the first 200 KB of output
# (the rest is cut by a closed pipe), so a regression that floods the log
# fails fast instead of filling the test's memory.
capped() {
  local out="$BATS_TEST_TMPDIR/capped.out"
  set +e
  "$@" 2>&1 | head -c 200000 >"$out"
  status=${PIPESTATUS[0]}
  set -e
  output=$(cat "$out")
  lines=()
  mapfile -t lines <<<"$output"
}

# fake_pytest FILE-CONTENT-COMMAND: a test command that runs the shell
# command to write its result file (path in $1) and exits with $2.
fake_pytest() {
  cat > fake.sh <<SH
#!/usr/bin/env bash
for a in "\$@"; do case "\$a" in --json=*|--junit-xml=*) out="\${a#*=}";; esac; done
$1
exit ${2:-0}
SH
  chmod +x fake.sh
}

@test "a collector file '[}]' is one error line, not an endless log; report ends too" {
  fake_pytest 'printf "[}]" > "$out"'
  export BUILDKITE_TEST_ENGINE_TEST_CMD="./fake.sh {{testExamples}} --json={{resultPath}}"
  capped timeout 60 "$TEP_BIN" run
  assert_failure 65
  assert_output --partial "unexpected '}' at byte 1, expected a test record"
  [ "${#output}" -lt 20000 ] || { echo "run wrote ${#output} bytes"; false; }
  capped timeout 60 "$TEP_BIN" report
  assert_success
  [ "${#output}" -lt 20000 ] || { echo "report wrote ${#output} bytes"; false; }
}

@test "a record followed by a stray '}' keeps the record and names the byte" {
  fake_pytest 'printf "[{\"scope\":\"a.py\",\"name\":\"t\",\"result\":\"failed\"}}]" > "$out"' 1
  export BUILDKITE_TEST_ENGINE_TEST_CMD="./fake.sh {{testExamples}} --json={{resultPath}}"
  capped timeout 60 "$TEP_BIN" run
  assert_failure 65
  assert_output --partial "unexpected '}' at byte 46, expected ',' or ']' after a record"
  assert_output --partial "a.py::t"
}

@test "ten thousand bad records give five warnings and one count" {
  fake_pytest '{ printf "["; for i in $(seq 10000); do printf "42,"; done; printf "{\"scope\":\"a.py\",\"name\":\"t\",\"result\":\"passed\"}]"; } > "$out"'
  export BUILDKITE_TEST_ENGINE_TEST_CMD="./fake.sh {{testExamples}} --json={{resultPath}}"
  capped timeout 60 "$TEP_BIN" run
  assert_equal "$(grep -c 'is not a test record' <<<"$output")" 5
  assert_output --partial "9995 more result records are not test records"
}

@test "a 20 MB failure reason is kept to its first 16 KiB, and says so" {
  fake_pytest '/usr/bin/python3 -c "import json,sys; json.dump([{\"scope\":\"a.py\",\"name\":\"t\",\"result\":\"failed\",\"failure_reason\":\"E\"*(20<<20)}], open(sys.argv[1],\"w\"))" "$out"' 1
  export BUILDKITE_TEST_ENGINE_TEST_CMD="./fake.sh {{testExamples}} --json={{resultPath}}"
  capped timeout 60 "$TEP_BIN" run
  assert_failure 1
  size=$(stat -c %s "$BUILDKITE_TEST_ENGINE_STATE_DIR/run.json")
  [ "$size" -lt 200000 ] || { echo "run.json is $size bytes"; false; }
  # run.json keeps a one-line cause (2 KiB at most) of the reason the parser
  # already cut to 16 KiB, and says it was cut.
  grep -q 'EEEE\.\.\. \[cut: [0-9]* bytes in all\]' "$BUILDKITE_TEST_ENGINE_STATE_DIR/run.json"
}

@test "a JUnit file with a 100 MB attribute is read in seconds, not minutes" {
  fake_pytest '/usr/bin/python3 -c "import sys; open(sys.argv[1],\"w\").write(\"<testsuites><testsuite><testcase classname=\\\"test_ok\\\" name=\\\"test_x\\\"><failure message=\\\"\" + \"m\"*(100<<20) + \"\\\"/></testcase></testsuite></testsuites>\")" "$out"' 1
  export BUILDKITE_TEST_ENGINE_TEST_CMD="./fake.sh {{testExamples}} --junit-xml={{resultPath}}"
  # The old reader took ~90 s on this; 30 s leaves room for a loaded machine.
  capped timeout 30 "$TEP_BIN" run
  assert_failure 1
  assert_output --partial "test_ok.py::test_x"
}

@test "durations with nan, inf and 1e308 are refused by key and the loads stay finite" {
  copy_fixture shop
  job_env 0 2
  faults '{"plan_get": [{"status": 503, "forever": true}]}'
  export BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=0
  printf '8 tests/test_orders.py\nnan tests/test_cart.py\ninf tests/test_payments.py\n1e308 tests/unit/tax_test.py\n' > durations.txt
  export BUILDKITE_TEST_ENGINE_DURATIONS_FILE=durations.txt
  capped timeout 60 "$TEP_BIN" plan
  assert_success
  assert_output --partial "durations.txt' line 2: seconds is not a finite number; entry ignored"
  assert_output --partial "durations.txt' line 3: seconds is not a finite number; entry ignored"
  assert_output --partial "durations.txt' line 4: seconds is longer than a week"
  assert_output --partial "makespan"
  refute_output --partial "inf"
  refute_output --partial "nan"
}

@test "plan entries starting with '@', with control characters or empty parts never reach pytest" {
  mkdir -p tests_integration
  cp test_ok.py tests_integration/test_ok.py
  export BUILDKITE_TEST_ENGINE_LOCATION_PREFIX=tests
  server_config '{"plans": {"build-1234/step-abcd": {"tasks": {"0": {"tests": [
    {"path": "@args.txt", "format": "file"},
    {"format": "selector", "value": "test_ok.py::test_x\u001b[31m"},
    {"format": "selector", "value": "test_ok.py::::t"},
    {"path": "tests_integration/test_ok.py", "format": "file"}]}}}}}'
  capped timeout 60 "$TEP_BIN" plan
  assert_success
  assert_output --partial "'@args.txt' starts with '@'"
  assert_output --partial "contains a control character"
  assert_output --partial "has an empty '::' part"
  # prefix "tests" must not eat the start of "tests_integration/"
  assert_equal "$(slice_tests 0)" "tests_integration/test_ok.py"
}

# measured SECONDS CMD...: runs CMD (killed after SECONDS), then sets status,
# output, and rss_mib (the peak resident memory of CMD, in MiB).
measured() {
  local report="$BATS_TEST_TMPDIR/measured.txt"
  capped "$SERVER_PY" -c '
import resource, subprocess, sys
p = subprocess.Popen(sys.argv[3:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
try:
    out, _ = p.communicate(timeout=float(sys.argv[2]))
except subprocess.TimeoutExpired:
    p.kill()
    out, _ = p.communicate()
sys.stdout.write(out.decode(errors="replace"))
open(sys.argv[1], "w").write("%d %d\n" % (p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024))
' "$report" "$@"
  read -r status rss_mib <"$report"
}

@test "files or durations-file set to /dev/zero: one line, at once, bounded memory (grew ~1 GB in 5 s before)" {
  copy_fixture shop
  faults '{"plan_get": [{"status": 503, "forever": true}]}' # the fallback plan reads the durations
  export BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=0
  BUILDKITE_TEST_ENGINE_FILES=/dev/zero measured 60 "$TEP_BIN" plan
  assert_equal "$status" 78
  assert_output --partial "BUILDKITE_TEST_ENGINE_FILES '/dev/zero': is larger than 64 MiB; give a file listing one test file per line"
  [ "$rss_mib" -lt 300 ] || { echo "peak RSS ${rss_mib} MiB"; false; } # ~75 MiB; sanitizer builds add theirs
  # A durations file that cannot be read is reported, and the plan goes on without it.
  BUILDKITE_TEST_ENGINE_DURATIONS_FILE=/dev/zero measured 60 "$TEP_BIN" plan
  assert_equal "$status" 0
  assert_output --partial "BUILDKITE_TEST_ENGINE_DURATIONS_FILE '/dev/zero' line 1: contains a NUL byte; a durations file is text"
  [ "$rss_mib" -lt 100 ] || { echo "peak RSS ${rss_mib} MiB"; false; }
  # Endless text without a newline, and an endless JSON string, likewise.
  mkfifo endless
  ( "$SERVER_PY" -c 'import sys
try:
    while True: sys.stdout.write("a" * 65536)
except BrokenPipeError: pass' > endless 2>/dev/null & )
  BUILDKITE_TEST_ENGINE_DURATIONS_FILE=endless measured 60 "$TEP_BIN" plan
  assert_equal "$status" 0
  assert_output --partial "line 1: a line longer than 64 KiB; a durations file is text"
  [ "$rss_mib" -lt 100 ] || { echo "peak RSS ${rss_mib} MiB"; false; }
  # Endless short lines (comments: nothing kept) end at the file size limit.
  mkfifo endless-lines
  ( "$SERVER_PY" -c 'import sys
try:
    while True: sys.stdout.write("# a comment\n" * 8192)
except BrokenPipeError: pass' > endless-lines 2>/dev/null & )
  BUILDKITE_TEST_ENGINE_DURATIONS_FILE=endless-lines measured 60 "$TEP_BIN" plan
  assert_equal "$status" 0
  assert_output --partial "the file is larger than 128 MiB; a durations file is far smaller: not read on"
  [ "$rss_mib" -lt 100 ] || { echo "peak RSS ${rss_mib} MiB"; false; }
}
