#!/usr/bin/env bats
# The run and report phases in memory that follows the failures, not the
# suite: run.json lists the failed tests and counts the rest; report streams
# the result files into the upload and this job's durations artifact
# (pytest-split's format); uploads carry run_env[cwd]. Real binary, real
# pytest where the behaviour is pytest's, the strict agent stub, HTTPS to the
# stand-in.

load '../support/helpers'

setup() {
  pytest_job agent upload
  export BUILDKITE_TEST_ENGINE_UPLOAD_RETRY_BUDGET=3
}

teardown() { stop_server; }

state() { echo "$BATS_TEST_TMPDIR/state-0"; }
name() { echo "test-engine-pytest-durations-$BUILDKITE_JOB_ID.json"; }

# artifact_py: runs Python over the durations artifact the stub stored (bound
# to d) and its index record (bound to a).
artifact_py() {
  /usr/bin/python3 - "$AGENT_DIR/artifacts" "$(name)" <<PY
import json, os, sys
index = [json.loads(l) for l in open(os.path.join(sys.argv[1], "index.jsonl"))]
mine = [a for a in index if a["path"] == sys.argv[2]]
assert len(mine) == 1, index
a = mine[0]
d = json.load(open(os.path.join(sys.argv[1], a["stored"])))
$(cat)
PY
}

# fake_pytest FILE [OPTION]: a test command that copies FILE to where OPTION
# (--json, or --junit-xml) says, and exits 1 (failures, as pytest would).
fake_pytest() {
  local opt=${2:---json}
  cat >fake_pytest.sh <<SH
#!/bin/bash
for a in "\$@"; do case \$a in $opt=*) /bin/cp "$1" "\${a#$opt=}"; exit 1 ;; esac; done
exit 3
SH
  chmod +x fake_pytest.sh
  export BUILDKITE_TEST_ENGINE_TEST_CMD="./fake_pytest.sh {{testExamples}} $opt={{resultPath}}"
}

@test "durations artifact: every test's time in pytest-split's format, a retried test once, uploaded from the state dir" {
  copy_fixture shop
  export BUILDKITE_TEST_ENGINE_RETRY_COUNT=1
  run "$TEP_BIN" run
  assert_success
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "Durations: 12 tests uploaded as artifact $(name)"
  grep -q "^artifact upload $(name)\$" "$AGENT_DIR/calls"
  run artifact_py <<'PY'
assert a["job_id"] == "job-0", a
ids = sorted(d)
assert len(ids) == 12 and "tests/test_payments.py::test_gateway_flaky" in ids, ids
assert all(isinstance(v, float) and 0 <= v < 60 for v in d.values()), d
# the flaky test ran twice (failed, then passed): its entry is its latest run's
assert open(sys.argv[1] + "/" + a["stored"]).read().count("test_gateway_flaky") == 1
print("ok")
PY
  assert_output ok
  # the uploaded results still hold both runs of the flaky test
  assert_equal "$(requests_to /v1/uploads)" 1
}

@test "durations artifact in JUnit mode: node ids rebuilt from classnames; a collection error is not a test" {
  copy_fixture collection_errors
  export BUILDKITE_TEST_ENGINE_TEST_CMD="$JUNIT_CMD --continue-on-collection-errors"
  run "$TEP_BIN" run
  assert_failure 65
  run "$TEP_BIN" report
  assert_success
  run artifact_py <<'PY'
print(sorted(d))
PY
  assert_output "['test_fine.py::test_fails_too', 'test_fine.py::test_fine']"
}

@test "the upload off: the durations are still recorded" {
  copy_fixture passing
  run "$TEP_BIN" run
  export BUILDKITE_TEST_ENGINE_UPLOAD_RESULTS=false
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "Upload: off"
  assert_output --partial "Durations: 2 tests uploaded as artifact $(name)"
  assert_equal "$(requests_to /v1/uploads)" 0
}

@test "a durations artifact that cannot be uploaded is a warning; report exits 0 and everything else is done" {
  copy_fixture failing
  cat >agent.sh <<SH
#!/bin/bash
if [ "\$1 \$2" = "artifact upload" ]; then echo "buildkite-agent: fatal: failed to upload artifacts: connection refused" >&2; exit 1; fi
exec "$SUPPORT/buildkite-agent-stub" "\$@"
SH
  chmod +x agent.sh
  run "$TEP_BIN" run
  assert_failure 1
  export BUILDKITE_TEST_ENGINE_AGENT_CMD="$PWD/agent.sh"
  run "$TEP_BIN" report
  assert_success
  assert_output --regexp "warning: Durations: 2 tests recorded, but the artifact $(name) could not be uploaded: buildkite-agent artifact upload exited 1: .*connection refused"
  assert_output --partial "Upload: 2 results in 1 request"
  assert_output --partial "Retry selectors: 1 failed test"
  [ -f "$(state)/$(name)" ]
}

@test "not a Buildkite job: the durations stay in the state dir, said so" {
  copy_fixture passing
  run "$TEP_BIN" run
  unset BUILDKITE_JOB_ID
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "Durations: 2 tests in $(state)/test-engine-pytest-durations-local.json (not a Buildkite job: no artifact uploaded)"
  [ -f "$(state)/test-engine-pytest-durations-local.json" ]
}

@test "uploads carry run_env[cwd], the checkout's absolute path, on Buildkite only (as bktec)" {
  copy_fixture passing
  run "$TEP_BIN" run
  run "$TEP_BIN" report
  assert_success
  unset BUILDKITE_BUILD_ID
  run "$TEP_BIN" report
  assert_success
  run /usr/bin/python3 - "$SERVER_DIR/requests.jsonl" "$PWD" <<'PY'
import json, sys
ups = [json.loads(l) for l in open(sys.argv[1])]
ups = [u for u in ups if u["path"] == "/v1/uploads"]
print([u["body"]["fields"].get("run_env[cwd]") == sys.argv[2] for u in ups], sys.argv[2].startswith("/"))
PY
  assert_output "[True, False] True"
}

@test "run.json lists the failed tests only: 3,000 passing tests are counted, not listed; report still sends them all" {
  copy_fixture passing
  /usr/bin/python3 - "$BATS_TEST_TMPDIR/big.json" <<'PY'
import json, sys
recs = [{"scope": "test_ok.py", "name": "test_%d" % i, "result": "passed", "history": {"duration": 0.001}} for i in range(3000)]
recs += [{"scope": "test_ok.py", "name": "test_bad_%d" % i, "result": "failed", "failure_reason": "AssertionError: no %d" % i} for i in range(2)]
json.dump(recs, open(sys.argv[1], "w"))
PY
  fake_pytest "$BATS_TEST_TMPDIR/big.json"
  run "$TEP_BIN" run
  assert_failure 1
  run /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d[0]["version"], d[0]["counts"]["total"], d[0]["counts"]["failed"], d[0]["failures"], [(t["node_id"], t["cause"]) for t in d[1:]])' "$(state)/run.json"
  assert_output "4 3002 2 2 [('test_ok.py::test_bad_0', 'AssertionError: no 0'), ('test_ok.py::test_bad_1', 'AssertionError: no 1')]"
  [ "$(stat -c %s "$(state)/run.json")" -lt 2000 ]
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "Upload: 3002 results in 1 request"
  assert_output --partial "Durations: 3000 tests uploaded"
  grep -q "2 failed · 3000 passed" "$AGENT_DIR"/annotations/*.md
}

@test "JUnit that breaks off: a file cut into documents sends the testcases before the break; a small one goes up whole" {
  copy_fixture passing
  {
    printf '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">'
    for i in 1 2 3 4 5; do printf '<testcase classname="test_ok" name="test_%s" time="0.5"/>' "$i"; done
    printf '<testcase classname="test_ok" name="test_6"><failure message="no">x</failure></testcase><testcase classname='
  } >"$BATS_TEST_TMPDIR/broken.xml"
  fake_pytest "$BATS_TEST_TMPDIR/broken.xml" --junit-xml
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=2
  run "$TEP_BIN" run
  assert_failure 65 # unreadable results are never a pass
  run "$TEP_BIN" report
  assert_success
  assert_output --regexp "warning: upload: .*attempt-0.xml: .* at line 1; only the 6 testcases before the problem can be sent"
  assert_output --partial "Upload: 6 results in 3 requests"
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=100
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "Upload: 0 results in 1 request" # unreadable: the server may read more than we do
  run /usr/bin/python3 - "$SERVER_DIR/requests.jsonl" "$BATS_TEST_TMPDIR/broken.xml" <<'PY'
import json, sys
ups = [json.loads(l) for l in open(sys.argv[1])]
ups = [u["body"]["data"]["text"] for u in ups if u["path"] == "/v1/uploads"]
print([u.count("<testcase ") for u in ups], ups[-1] == open(sys.argv[2]).read())
PY
  assert_output "[2, 2, 2, 7] True"
}

@test "a run.json from another version of the tool is named, nothing is reported, exit 0" {
  copy_fixture passing
  run "$TEP_BIN" run
  /usr/bin/python3 -c 'import json,sys; json.dump({"version": 1, "mode": "json", "tests": []}, open(sys.argv[1], "w"))' "$(state)/run.json"
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "run.json has format version 1, this test-engine-pytest reads version 4; run the command phase with the same test-engine-pytest as the report phase; nothing to report"
  assert_equal "$(requests_to /v1/uploads)" 0
  printf '[{"version": 4, "failures": 1}' >"$(state)/run.json"
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "run.json is damaged ("
}

@test "a run.json naming a result file that is not one of the run's (outside the state folder, or none) is not read: said, the rest uploaded, exit 0" {
  copy_fixture passing
  run "$TEP_BIN" run
  assert_success
  # Two more attempts: one whose result file leads outside the state folder
  # (it holds a test report must never upload), one that names none (report
  # crashed on it).
  /usr/bin/python3 - "$(state)/run.json" "$BATS_TEST_TMPDIR" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
ext = "json" if d[0]["mode"] == "json" else "xml"
d[0]["attempts"] += [{"index": 1, "result_file": "../outside." + ext}, {"index": 2}]
json.dump(d, open(sys.argv[1], "w"))
secret = os.path.join(sys.argv[2], "outside." + ext)
if ext == "json":
    json.dump([{"id": "1", "scope": "outside", "name": "outside_secret", "location": "x.py:1",
                "file_name": "x.py", "result": "passed", "history": {"section": "top"}}], open(secret, "w"))
else:
    open(secret, "w").write('<testsuites><testsuite><testcase classname="x" name="outside_secret"/>'
                            '</testsuite></testsuites>')
PY
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "run.json names no result file of this run for attempt 1; its results are not reported (run the command phase again)"
  assert_output --partial "run.json names no result file of this run for attempt 2;"
  [ "$(requests_to /v1/uploads)" -ge 1 ]
  ! grep -q outside_secret "$SERVER_DIR/requests.jsonl" || false
}

# peak_kib LOG CMD...: runs CMD (its output to LOG) and prints its peak RSS in
# KiB: wait4's rusage, the largest process of its tree (the Python that
# starts it is not measured).
peak_kib() {
  /usr/bin/python3 -c '
import os, subprocess, sys
with open(sys.argv[1], "w") as log:
    p = subprocess.Popen(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(p.pid, 0)
print(usage.ru_maxrss)' "$@"
}

@test "peak memory: run and report of 200,000 results stay under half the result file (was 3x)" {
  if grep -qa __asan_init "$TEP_BIN"; then
    skip "peak RSS says nothing about an AddressSanitizer build"
  fi
  copy_fixture passing
  /usr/bin/python3 - "$BATS_TEST_TMPDIR/big.json" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    f.write("[")
    for i in range(200000):
        r = {"id": "%032x" % i, "scope": "tests/test_module_%d.py" % (i % 500), "name": "test_case_%d" % i,
             "location": "tests/test_module_%d.py:%d" % (i % 500, i), "file_name": "tests/test_module_%d.py" % (i % 500),
             "history": {"section": "top", "children": [], "start_at": i * 0.001, "end_at": i * 0.001 + 0.0005, "duration": 0.0005},
             "result": "failed" if i % 100 == 0 else "passed"}
        if i % 100 == 0:
            r["failure_reason"] = "AssertionError: assert %d == %d" % (i, i + 1)
        f.write((", " if i else "") + json.dumps(r))
    f.write("]")
PY
  fake_pytest "$BATS_TEST_TMPDIR/big.json"
  # The peak is the largest process of the tree: the agent stub (Python,
  # which hashes whole artifacts in memory) would be measured, not us.
  export BUILDKITE_TEST_ENGINE_AGENT_CMD=true
  size=$(stat -c %s "$BATS_TEST_TMPDIR/big.json")
  run_kib=$(peak_kib run.log "$TEP_BIN" run)
  grep -q "2000 tests failed after 1 attempt" run.log || { cat run.log; false; }
  report_kib=$(peak_kib report.log "$TEP_BIN" report)
  grep -q "Upload: 200000 results in 40 requests" report.log || { cat report.log; false; }
  grep -q "Durations: 200000 tests uploaded" report.log
  echo "file $size bytes; run $run_kib KiB; report $report_kib KiB" >&3
  [ $((run_kib * 1024 * 2)) -le "$size" ]
  [ $((report_kib * 1024 * 2)) -le "$size" ]
}

# syscalls NAME LOG CMD...: runs CMD under strace and prints how many NAME
# system calls it made itself (its children, such as the agent stub, a Python
# program, are not counted; its output goes to LOG).
syscalls() {
  local name=$1 log=$2
  shift 2
  strace -qq -c -U name,calls -e trace="$name" -o "$BATS_TEST_TMPDIR/strace.$name" "$@" >"$log" 2>&1 || true
  awk -v n="$name" '$1 == n { print $2; found = 1 } END { if (!found) print 0 }' "$BATS_TEST_TMPDIR/strace.$name"
}

@test "report reads result files without a system call per record (12,000 JUnit testcases, 3 documents; and JSON)" {
  command -v strace >/dev/null || skip "needs strace (Debian package strace; scripts/test installs it)"
  strace -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace here (no ptrace)"
  copy_fixture passing
  /usr/bin/python3 - "$BATS_TEST_TMPDIR/big.xml" "$BATS_TEST_TMPDIR/big.json" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    f.write('<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" tests="12000">')
    for i in range(12000):
        f.write('<testcase classname="tests.test_m%d" name="test_%d" time="0.01"/>\n' % (i % 50, i))
    f.write('</testsuite></testsuites>')
with open(sys.argv[2], "w") as f:
    f.write("[" + ", ".join(json.dumps({"id": "%032x" % i, "scope": "tests/test_m.py", "name": "test_%d" % i,
        "location": "tests/test_m.py:1", "file_name": "tests/test_m.py", "result": "passed",
        "history": {"section": "top", "children": [], "start_at": 0, "end_at": 0.01, "duration": 0.01}})
        for i in range(12000)) + "]")
PY
  fake_pytest "$BATS_TEST_TMPDIR/big.xml" --junit-xml
  run "$TEP_BIN" run
  assert_failure 1 # fake_pytest exits 1; every testcase passed: run says so
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=5000
  lseeks=$(syscalls lseek "$BATS_TEST_TMPDIR/report.log" "$TEP_BIN" report)
  run cat "$BATS_TEST_TMPDIR/report.log"
  assert_output --partial "Upload: 12000 results in 3 requests"
  [ "$lseeks" -lt 100 ] || { echo "report made $lseeks lseek calls for 12,000 testcases" >&2; return 1; }
  reads=$(syscalls read "$BATS_TEST_TMPDIR/report.log" "$TEP_BIN" report)
  [ "$reads" -lt 1000 ] || { echo "report made $reads read calls for 12,000 testcases" >&2; return 1; }
  fake_pytest "$BATS_TEST_TMPDIR/big.json"
  run "$TEP_BIN" run
  lseeks=$(syscalls lseek "$BATS_TEST_TMPDIR/report.log" "$TEP_BIN" report)
  reads=$(syscalls read "$BATS_TEST_TMPDIR/report.log" "$TEP_BIN" report)
  run cat "$BATS_TEST_TMPDIR/report.log"
  assert_output --partial "Upload: 12000 results in 3 requests"
  [ "$lseeks" -lt 100 ] && [ "$reads" -lt 1000 ] || { echo "JSON: $lseeks lseek, $reads read calls" >&2; return 1; }
}
