#!/usr/bin/env bats
# `test-engine-pytest durations merge FILE...`: one pytest-split JSON on
# stdout from files in either format; later files win; bad input is named
# and nothing is written; 65 for unreadable input, 78 for usage.

load '../support/helpers'

setup() {
  work_dir
  export NO_COLOR=1
}

# as_python FILE: the merged JSON as Python's json reads it, keys sorted.
as_python() {
  "$SERVER_PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sorted(d.items()))' "$1"
}

@test "merges JSON and 'seconds path' files; later files win; keys sorted; Python reads it" {
  cat > job1.json <<'JSON'
{"tests/test_b.py::test_one": 1.25, "tests/test_a.py::test_x[1]": 0.5, "tests/test_c.py::test_k": 9}
JSON
  printf '{\n  "tests/test_b.py::test_one": 2.5,\n  "tests/test_d.py::t": 1e-05\n}\n' > job2.json
  printf '# seconds path\n4 tests/test_c.py\n0.125 tests/test_e.py\n' > older.txt
  run --separate-stderr "$TEP_BIN" durations merge job1.json job2.json older.txt
  assert_success
  # job2 wins for test_one; older.txt's whole-file entry for test_c.py replaces job1's test of it.
  assert_equal "$output" "$(printf '%s\n' '{' \
    '    "tests/test_a.py::test_x[1]": 0.5,' \
    '    "tests/test_b.py::test_one": 2.5,' \
    '    "tests/test_c.py": 4,' \
    '    "tests/test_d.py::t": 1e-05,' \
    '    "tests/test_e.py": 0.125' '}')"
  [[ "$stderr" == *"durations merge: 3 files, 7 entries read, 5 written"* ]]
  printf '%s\n' "$output" > merged.json
  run as_python merged.json
  assert_output "[('tests/test_a.py::test_x[1]', 0.5), ('tests/test_b.py::test_one', 2.5), ('tests/test_c.py', 4), ('tests/test_d.py::t', 1e-05), ('tests/test_e.py', 0.125)]"
}

@test "the merged file is what plan reads: merging it again changes nothing" {
  printf '{"a.py::t": 0.1, "b.py::u[x y]": 3.14159, "c\\u00e9.py::v": 2}' > in.json
  "$TEP_BIN" durations merge in.json > once.json
  "$TEP_BIN" durations merge once.json > twice.json
  cmp once.json twice.json
  grep -q '"cé.py::v": 2' once.json
}

@test "a bad entry is named with its file and key, and nothing is written (65)" {
  printf '{"a.py::t": 1, "b.py::t": NaN, "c.py::t": -2}' > bad.json
  printf '{"d.py::t": 1}' > good.json
  run --separate-stderr "$TEP_BIN" durations merge good.json bad.json
  assert_failure 65
  assert_equal "$output" ""
  [[ "$stderr" == *"error: durations merge 'bad.json' key 'b.py::t': value is not a finite number"* ]]
  [[ "$stderr" == *"error: durations merge 'bad.json' key 'c.py::t': value is negative"* ]]
  [[ "$stderr" == *"durations merge 'bad.json': 2 bad entries (named above); fix or remove them"* ]]
  [[ "$stderr" == *"nothing written"* ]]
  printf '1 a.py\nabc b.py\n' > bad.txt
  run --separate-stderr "$TEP_BIN" durations merge bad.txt
  assert_failure 65
  [[ "$stderr" == *"durations merge 'bad.txt' line 2: expected '<seconds> <path>'"* ]]
}

@test "unreadable or broken input is 65, naming every file that failed" {
  printf '{"a.py": 1}\n{"b.py": 2}\n' > concatenated.json
  run --separate-stderr "$TEP_BIN" durations merge missing.json concatenated.json
  assert_failure 65
  assert_equal "$output" ""
  [[ "$stderr" == *"durations merge 'missing.json': cannot read it (No such file or directory)"* ]]
  [[ "$stderr" == *"durations merge 'concatenated.json' line 2: more text after the JSON object's closing '}'"* ]]
  mkdir adir
  run "$TEP_BIN" durations merge adir
  assert_failure 65
  assert_output --partial "durations merge 'adir': cannot read it"
}

@test "usage errors are 78 and say what to do; -- lets a file start with '-'" {
  run "$TEP_BIN" durations merge
  assert_failure 78
  assert_output --partial "durations: merge: give one or more durations files"
  run "$TEP_BIN" durations
  assert_failure 78
  assert_output --partial "a subcommand is required: durations merge FILE..."
  run "$TEP_BIN" durations split x.json
  assert_failure 78
  assert_output --partial "unknown subcommand 'split'; the one there is: merge"
  printf '{"a.py::t": 1}' > ./-odd.json
  run "$TEP_BIN" durations merge -odd.json
  assert_failure 78
  assert_output --partial "unknown option '-odd.json' (for a file named so, put '--' before it)"
  run --separate-stderr "$TEP_BIN" durations merge -- -odd.json
  assert_success
  assert_output --partial '"a.py::t": 1'
  run "$TEP_BIN" durations merge --help
  assert_success
  assert_output --partial "usage: test-engine-pytest durations merge FILE..."
  run "$TEP_BIN" --help
  assert_output --partial "durations merge FILE..."
}

@test "stdout that cannot be written is 74, not a silent success" {
  printf '{"a.py::t": 1}' > in.json
  run bash -c '"$0" durations merge in.json > /dev/full' "$TEP_BIN"
  assert_failure 74
  assert_output --partial "cannot write the merged durations to standard output"
}

@test "README recipe: download a build's durations artifacts, merge, commit as .test_durations" {
  install_agent_stub
  export BUILDKITE_BUILD_ID=build-77 BUILDKITE_STEP_ID=step-tests BUILDKITE_STEP_KEY=tests
  mkdir -p jobs
  for i in 0 1 2; do
    printf '{"tests/test_%s.py::test_a": %s.5}' "$i" "$i" > "jobs/test-engine-pytest-durations-job-$i.json"
    (cd jobs && BUILDKITE_JOB_ID="job-$i" BUILDKITE_PARALLEL_JOB=$i BUILDKITE_RETRY_COUNT=0 \
      buildkite-agent artifact upload "test-engine-pytest-durations-job-$i.json")
  done
  mkdir later-step && cd later-step
  export BUILDKITE_JOB_ID=job-merge BUILDKITE_STEP_ID=step-merge BUILDKITE_STEP_KEY=merge
  buildkite-agent artifact download "test-engine-pytest-durations-*.json" .
  "$TEP_BIN" durations merge test-engine-pytest-durations-*.json > .test_durations.new
  mv .test_durations.new .test_durations
  run as_python .test_durations
  assert_output "[('tests/test_0.py::test_a', 0.5), ('tests/test_1.py::test_a', 1.5), ('tests/test_2.py::test_a', 2.5)]"
}
