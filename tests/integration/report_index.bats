#!/usr/bin/env bats
# The result files' index (src/results_index.h): run writes it beside each
# attempt's result file in the pass where it reads the file; report cuts the
# upload's batches and writes the durations artifact from it, parsing nothing.
# Without it (removed), or with one that is stale or damaged (said in one
# warning line), report parses the file as before: the stand-in receives the
# same bytes and the artifact is the same, byte for byte. Real binary, HTTPS
# to the stand-in, the strict agent stub.

load '../support/helpers'

setup() {
  pytest_job agent upload
  export BUILDKITE_TEST_ENGINE_UPLOAD_RETRY_BUDGET=3 BUILDKITE_TEST_ENGINE_DEBUG_ENABLED=true
}

teardown() { stop_server; }

state() { echo "$BATS_TEST_TMPDIR/state-0"; }
durations() { echo "$(state)/test-engine-pytest-durations-$BUILDKITE_JOB_ID.json"; }

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

# report_as NAME: runs report, keeps its output in NAME.log, what the
# stand-in received for /v1/uploads in NAME.uploads (every field and the data
# part of each request, in order) and the durations artifact in
# NAME.durations; the stand-in's record is then emptied.
report_as() {
  run "$TEP_BIN" report
  assert_success
  printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/$1.log"
  "$SERVER_PY" - "$SERVER_DIR/requests.jsonl" >"$BATS_TEST_TMPDIR/$1.uploads" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] == "/v1/uploads":
        print(json.dumps(r["body"], sort_keys=True))
PY
  : >"$SERVER_DIR/requests.jsonl"
  cp "$(durations)" "$BATS_TEST_TMPDIR/$1.durations"
}

# same_as_without_index NAME: report again with every index removed; what
# the stand-in received and the artifact must be those of report_as NAME.
same_as_without_index() {
  rm -f "$(state)"/results/*.index
  report_as parsed
  grep -q "debug: results: [0-9]* files*, 0 read from the run phase's index" "$BATS_TEST_TMPDIR/parsed.log"
  [ -s "$BATS_TEST_TMPDIR/parsed.uploads" ]
  cmp "$BATS_TEST_TMPDIR/$1.uploads" "$BATS_TEST_TMPDIR/parsed.uploads"
  cmp "$BATS_TEST_TMPDIR/$1.durations" "$BATS_TEST_TMPDIR/parsed.durations"
}

# collector_file OUT N: N collector records, some failed, skipped or without
# a time, a node id whose last byte is not UTF-8 (Python's surrogate escape),
# a collection error, an element that is no record; separators vary (", ",
# ",\n", ","), as JSON allows.
collector_file() {
  "$SERVER_PY" - "$1" "$2" <<'PY'
import json, sys
out, n = sys.argv[1], int(sys.argv[2])
recs = []
for i in range(n):
    r = {"id": "%032x" % i, "scope": "tests/test_m%d.py" % (i % 7), "name": "test_%d[é-%d]" % (i, i % 3),
         "file_name": "tests/test_m%d.py" % (i % 7), "result": "passed",
         "history": {"section": "top", "start_at": 0, "end_at": 0.1, "duration": (i % 997) / 1000.0 + 0.0005}}
    if i % 10 == 3:
        r["result"], r["failure_reason"] = "failed", "AssertionError: %d" % i
    if i % 50 == 7:
        del r["history"]["duration"]
    recs.append(json.dumps(r))
recs.append('{"scope": "tests/test_bytes.py", "name": "test_\\udcff", "file_name": "tests/test_bytes.py", '
            '"result": "passed", "history": {"duration": 0.25}}')
recs.append('{"scope": "", "name": "tests/test_broken.py", "file_name": "tests/test_broken.py", "result": "failed", '
            '"tags": {"test.pytest_collection_error": "true"}, "history": {"duration": 0.5}}')
recs.append("42")
seps = [", ", ",\n", ","]
with open(out, "w") as f:
    f.write("[" + "".join((seps[i % 3] if i else "") + r for i, r in enumerate(recs)) + "]\n")
PY
}

# junit_file OUT N: N testcases as pytest writes them, with a failure, a
# skip, escapes in names, and what pytest may put between testcases.
junit_file() {
  "$SERVER_PY" - "$1" "$2" <<'PY'
import sys
out, n = sys.argv[1], int(sys.argv[2])
with open(out, "w", encoding="utf-8") as f:
    f.write('<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="pytest" tests="%d">\n' % n)
    for i in range(n):
        f.write('<testcase classname="tests.test_m%d.TestX" name="test_%d[a&amp;b-&quot;é&quot;]" time="0.%03d">'
                % (i % 5, i, i % 997))
        if i % 10 == 3:
            f.write('<failure message="boom %d">trace &lt;here&gt;</failure>' % i)
        elif i % 20 == 7:
            f.write('<skipped type="pytest.skip" message="not here">skip</skipped>')
        f.write('</testcase>' + ("\n  " if i % 3 else "") + ("<properties/>" if i % 11 == 5 else ""))
    f.write('</testsuite></testsuites>\n')
PY
}

@test "run writes each attempt's index; report reads every record from it, parsing nothing; cleanup removes it" {
  copy_fixture shop
  export BUILDKITE_TEST_ENGINE_RETRY_COUNT=1
  run "$TEP_BIN" run
  assert_success
  assert_equal "$(cd "$(state)/results" && echo *)" \
    "attempt-0.json attempt-0.json.index attempt-1.json attempt-1.json.index"
  report_as indexed
  assert_output --partial "debug: results: 2 files, 2 read from the run phase's index; 0 records parsed"
  refute_output --partial "warning:"
  assert_output --partial "Durations: 12 tests uploaded"
  same_as_without_index indexed
  run "$TEP_BIN" cleanup
  assert_success
  [ ! -e "$(state)" ]
}

@test "JSON: the same uploads and durations artifact with the index and without (retries, batches, odd ids, no-records)" {
  copy_fixture passing
  collector_file "$BATS_TEST_TMPDIR/results.json" 500
  fake_pytest "$BATS_TEST_TMPDIR/results.json"
  export BUILDKITE_TEST_ENGINE_RETRY_COUNT=1 BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=64
  run "$TEP_BIN" run
  assert_failure 65 # the collection error
  [ -f "$(state)/results/attempt-0.json.index" ]
  report_as indexed
  assert_output --partial "debug: results: 1 file, 1 read from the run phase's index; 0 records parsed"
  assert_output --partial "Upload: 502 results in 8 requests"
  # the test whose id is not UTF-8 is in the artifact as Python tools read it
  grep -q '"tests/test_bytes.py::test_\\ufffd": 0.250000' "$BATS_TEST_TMPDIR/indexed.durations"
  same_as_without_index indexed
}

@test "JSON retries: a test retried keeps its latest time once, from the index as from a parse" {
  copy_fixture shop
  export BUILDKITE_TEST_ENGINE_RETRY_COUNT=2 BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=5
  run "$TEP_BIN" run
  report_as indexed
  assert_output --partial "2 read from the run phase's index"
  assert_equal "$(grep -c test_gateway_flaky "$BATS_TEST_TMPDIR/indexed.durations")" 1
  same_as_without_index indexed
}

@test "JUnit: a file cut into documents sends the same bytes with the index and without; a small one goes up whole" {
  copy_fixture passing
  junit_file "$BATS_TEST_TMPDIR/results.xml" 130
  fake_pytest "$BATS_TEST_TMPDIR/results.xml" --junit-xml
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=50
  run "$TEP_BIN" run
  assert_failure 1
  report_as indexed
  assert_output --partial "1 read from the run phase's index; 0 records parsed"
  assert_output --partial "Upload: 130 results in 3 requests"
  # every testcase once, as the file has it
  "$SERVER_PY" - "$BATS_TEST_TMPDIR/indexed.uploads" "$BATS_TEST_TMPDIR/results.xml" <<'PY'
import json, re, sys
docs = [json.loads(l)["data"]["text"] for l in open(sys.argv[1])]
cases = lambda t: re.findall(r"<testcase .*?</testcase>", t, re.S)
assert [len(cases(d)) for d in docs] == [50, 50, 30], [len(cases(d)) for d in docs]
assert sum((cases(d) for d in docs), []) == cases(open(sys.argv[2], encoding="utf-8").read())
PY
  same_as_without_index indexed
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=500
  report_as whole
  "$SERVER_PY" -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline())["data"]; assert d["text"] == open(sys.argv[2], encoding="utf-8").read()' \
    "$BATS_TEST_TMPDIR/whole.uploads" "$BATS_TEST_TMPDIR/results.xml"
}

@test "413 halving works from the index: every testcase gets there once" {
  copy_fixture passing
  junit_file "$BATS_TEST_TMPDIR/results.xml" 24
  fake_pytest "$BATS_TEST_TMPDIR/results.xml" --junit-xml
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=12
  run "$TEP_BIN" run
  faults '{"upload": [{"max_records": 3, "forever": true}]}'
  report_as indexed
  assert_output --partial "1 read from the run phase's index"
  assert_output --regexp "refused a batch as too large \(HTTP 413\): halved [0-9]+ times; batches then held at most 3 results"
  assert_output --partial "Upload: 24 results in"
  refute_output --partial "not sent"
  "$SERVER_PY" - "$BATS_TEST_TMPDIR/indexed.uploads" "$BATS_TEST_TMPDIR/results.xml" <<'PY'
import collections, json, re, sys
cases = lambda t: re.findall(r"<testcase .*?</testcase>", t, re.S)
seen = collections.Counter()
for line in open(sys.argv[1]):
    got = cases(json.loads(line)["data"]["text"])
    if len(got) <= 3:
        seen.update(got)
want = cases(open(sys.argv[2], encoding="utf-8").read())
assert sorted(seen) == sorted(want) and max(seen.values()) == 1, seen
PY
  same_as_without_index indexed
}

@test "a stale index (its result file changed since run) is refused in one warning; the file is read instead" {
  copy_fixture passing
  junit_file "$BATS_TEST_TMPDIR/results.xml" 40
  fake_pytest "$BATS_TEST_TMPDIR/results.xml" --junit-xml
  run "$TEP_BIN" run
  file="$(state)/results/attempt-0.xml"
  # The same file (inode), size and mtime, another byte in its first 4 KiB:
  # a name changed.
  cp -p "$file" "$BATS_TEST_TMPDIR/was.xml"
  "$SERVER_PY" -c 'import sys; f=open(sys.argv[1],"r+b"); t=f.read(); f.seek(t.index(b"name=\"test_0[")); f.write(b"name=\"test_9[")' "$file"
  touch -r "$BATS_TEST_TMPDIR/was.xml" "$file"
  [ "$(stat -c %s "$file")" = "$(stat -c %s "$BATS_TEST_TMPDIR/was.xml")" ]
  report_as stale
  assert_output --partial "warning: results/attempt-0.xml.index is stale: the result file is not the one it describes (its first or last bytes changed); reading results/attempt-0.xml instead"
  assert_equal "$(grep -c warning "$BATS_TEST_TMPDIR/stale.log")" 1
  grep -q 'test_9\[' "$BATS_TEST_TMPDIR/stale.uploads"
  grep -q 'tests/test_m0.py::TestX::test_9\[' "$BATS_TEST_TMPDIR/stale.durations"
  same_as_without_index stale
  # Grown: its size says so.
  run "$TEP_BIN" run
  printf '\n' >>"$file"
  run "$TEP_BIN" report
  assert_output --regexp "results/attempt-0.xml.index is stale: .*its size was [0-9]+ bytes, it is [0-9]+\); reading"
}

@test "a damaged index: the records before the damage come from it, the rest from the file; the same bytes arrive" {
  copy_fixture passing
  collector_file "$BATS_TEST_TMPDIR/results.json" 3000
  fake_pytest "$BATS_TEST_TMPDIR/results.json"
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=700
  run "$TEP_BIN" run
  index="$(state)/results/attempt-0.json.index"
  [ "$(stat -c %s "$index")" -gt 140000 ] # three blocks of 64 KiB
  report_as indexed
  cp "$index" "$BATS_TEST_TMPDIR/good.index"
  # A byte flipped in the second block.
  "$SERVER_PY" -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[100000]^=0x20; open(p,"wb").write(b)' "$index"
  report_as flipped
  assert_output --regexp "warning: results/attempt-0.json.index is damaged: a block's checksum does not match after entry [0-9]+; reading results/attempt-0.json for the records after the first [0-9]+"
  assert_output --regexp "results: 1 file, 0 read from the run phase's index; [0-9]+ records parsed"
  cmp "$BATS_TEST_TMPDIR/indexed.uploads" "$BATS_TEST_TMPDIR/flipped.uploads"
  cmp "$BATS_TEST_TMPDIR/indexed.durations" "$BATS_TEST_TMPDIR/flipped.durations"
  # Cut short.
  head -c 70000 "$BATS_TEST_TMPDIR/good.index" >"$index"
  report_as cut
  assert_output --regexp "results/attempt-0.json.index is damaged: it ends inside a block after entry [0-9]+; reading"
  cmp "$BATS_TEST_TMPDIR/indexed.uploads" "$BATS_TEST_TMPDIR/cut.uploads"
  cmp "$BATS_TEST_TMPDIR/indexed.durations" "$BATS_TEST_TMPDIR/cut.durations"
  # Not an index at all.
  printf 'hello' >"$index"
  report_as junk
  assert_output --partial "results/attempt-0.json.index is damaged: not an index of this version; reading results/attempt-0.json instead"
  cmp "$BATS_TEST_TMPDIR/indexed.uploads" "$BATS_TEST_TMPDIR/junk.uploads"
  same_as_without_index indexed
}

@test "a JUnit testcase whose classname is over 64 KiB: run skips it, report still uploads the file and exits 0 (report crashed)" {
  copy_fixture passing
  "$SERVER_PY" -c '
import sys
long = "a" * 70000
print("<?xml version=\"1.0\"?><testsuites><testsuite name=\"pytest\">"
      "<testcase classname=\"tests.test_a\" name=\"test_ok\" time=\"0.1\"/>"
      "<testcase classname=\"%s\" name=\"test_x\" time=\"0.1\"/></testsuite></testsuites>" % long)' \
    >"$BATS_TEST_TMPDIR/long.xml"
  fake_pytest "$BATS_TEST_TMPDIR/long.xml" --junit-xml
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=1
  run "$TEP_BIN" run
  assert_output --partial "a testcase classname or name is longer than 64 KiB; skipped"
  for index in kept removed; do
    [ "$index" = kept ] || rm -f "$(state)"/results/*.index
    run "$TEP_BIN" report
    assert_success
    assert_output --partial "Upload: 2 results in 2 requests"
    assert_output --partial "Durations: 1 test uploaded"
  done
  # refused as too large alone: named, cut to 200 bytes of each name
  export BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE=5
  faults '{"upload": [{"max_records": 0, "forever": true}]}'
  run "$TEP_BIN" report
  assert_success
  assert_output --partial "upload: the result 'tests.test_a::test_ok' alone is too large"
  assert_output --regexp "upload: the result 'a{200}::test_x' alone is too large"
}
