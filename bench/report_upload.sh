#!/usr/bin/env bash
# `report` against the upload it does: 100,000 results, JUnit XML and
# collector JSON, uploaded over HTTPS to the stand-in (tests/support/
# te_server.py), side by side with curl posting the very same requests
# (bench/pair.py: A B A B ..., whole processes).
#
# The real `run` (with a stand-in for pytest that copies the prepared result
# file to --junit-xml=/--json=) writes run.json and the attempt's result
# file; then `report` reads them, publishes selectors (buildkite-agent is
# `true`), writes the durations artifact and the annotation, and uploads
# every record in batches. curl's requests are the ones the stand-in saw
# from our first report: each batch's form fields and data, sent again with
# one connection (--next), as ours does.
#
# Target: report's CPU <= 1.2x curl's for JUnit (the format whose testcases
# are read back from the file into each batch); JSON's figure is printed, and
# JUnit's with every test passed (junit-passed: no failures to publish as
# retry selectors, annotate or read back from run.json: a green build's
# report; "junit" has a tenth of its tests failed).
# Usage: bench/report_upload.sh [binary]   RECORDS=100000 RUNS=5 FORMATS="junit junit-passed json"
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/test-engine-pytest}
records=${RECORDS:-100000} runs=${RUNS:-5} formats=${FORMATS:-junit junit-passed json}
conf="$root/fixtures/conformance/pytest-7.2.1-collector-1.8.0"
[ -x "$bin" ] || { echo "build first: cmake --build build (or give a binary)" >&2; exit 2; }
command -v curl >/dev/null || { echo "needs curl" >&2; exit 2; }
work=$(mktemp -d /tmp/tep-bench-report-XXXXXX)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT && echo "work: $work"
"$root/tests/support/make_certs.sh" "$work/certs" >/dev/null
mkdir -p "$work/server" "$work/project/tests"
/usr/bin/python3 "$root/tests/support/te_server.py" --dir "$work/server" --cert "$work/certs/server.pem" \
  --key "$work/certs/server.key" >"$work/server/log" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do [ -f "$work/server/port" ] && break; sleep 0.05; done
[ -f "$work/server/port" ] || { cat "$work/server/log" >&2; exit 1; }
base="https://127.0.0.1:$(cat "$work/server/port")"
printf 'def test_bench():\n    pass\n' >"$work/project/tests/test_bench.py"
cat >"$work/emit" <<'SH'
#!/bin/sh
# Stands in for pytest: the prepared result file goes where pytest would write it.
for a in "$@"; do
  case $a in --json=*) exec /bin/cp "$BENCH_RESULTS" "${a#--json=}" ;; --junit-xml=*) exec /bin/cp "$BENCH_RESULTS" "${a#--junit-xml=}" ;; esac
done
echo "emit: no result option" >&2
exit 3
SH
chmod +x "$work/emit"
export BUILDKITE_ANALYTICS_TOKEN=bench-token BUILDKITE_BUILD_ID=bench-build BUILDKITE_JOB_ID=bench-job
export BUILDKITE_TEST_ENGINE_UPLOAD_BASE_URL="$base" BUILDKITE_TEST_ENGINE_CA_BUNDLE="$work/certs/ca.pem"
export BUILDKITE_TEST_ENGINE_AGENT_CMD=true NO_COLOR=1 BUILDKITE_TEST_ENGINE_STATE_DIR="$work/state"
failed=0

# junit_file OUT N FAILED: N testcases as pytest writes them (a tenth failed
# when FAILED is 1, a twentieth skipped), in modules of 100.
junit_file() {
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import sys
out, n, failing = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
with open(out, "w") as f:
    f.write('<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" '
            'failures="%d" skipped="%d" tests="%d" time="12.3">' % (n // 10 if failing else 0, n // 20, n))
    for i in range(n):
        f.write('<testcase classname="tests.test_mod%04d" name="test_case_%d[param-%d]" time="0.%03d">'
                % (i // 100, i, i % 7, i % 997))
        if failing and i % 10 == 3:
            f.write('<failure message="assert 1 == 2">def test():\n&gt;       assert 1 == 2\nE       assert 1 == 2\n'
                    'tests/test_mod.py:3: AssertionError</failure>')
        elif i % 20 == 7:
            f.write('<skipped type="pytest.skip" message="not on this platform">tests/test_mod.py:9: '
                    'not on this platform</skipped>')
        f.write('</testcase>')
    f.write('</testsuite></testsuites>')
PY
}

# replay OUT: a script that sends, with curl, the uploads the stand-in saw.
replay() {
  /usr/bin/python3 - "$work/server/requests.jsonl" "$work" "$1" "$base" "$work/certs/ca.pem" <<'PY'
import json, os, shlex, sys
reqs, work, out, base, ca = sys.argv[1:6]
ups = [json.loads(l) for l in open(reqs)]
ups = [r for r in ups if r["path"] == "/v1/uploads"]
args = []
for k, r in enumerate(ups):
    data = r["body"]["data"]
    part = os.path.join(work, "part-%d" % k)
    with open(part, "w", encoding="utf-8") as f:
        f.write(data["text"])
    one = ["-sS", "--fail", "-o", "/dev/null", "--cacert", ca,
           "-H", "Authorization: " + r["headers"]["Authorization"]]
    for name, value in r["body"]["fields"].items():
        one += ["--form-string", "%s=%s" % (name, value)]
    one += ["-F", "data=@%s;filename=%s;type=%s" % (part, data["filename"], data["content_type"]),
            base + "/v1/uploads"]
    args += (["--next"] if args else []) + one
with open(out, "w") as f:
    f.write("#!/bin/sh\nexec curl " + " ".join(shlex.quote(a) for a in args) + "\n")
os.chmod(out, 0o755)
print(len(ups))
PY
}

for format in $formats; do
  results="$work/results.$format"
  if [ "$format" = junit ] || [ "$format" = junit-passed ]; then
    junit_file "$results" "$records" "$([ "$format" = junit ] && echo 1 || echo 0)"
    export BUILDKITE_TEST_ENGINE_TEST_CMD="$work/emit {{testExamples}} --junit-xml={{resultPath}}"
  else
    /usr/bin/python3 "$root/bench/gen_records.py" "$conf" "$results" "$records" all
    export BUILDKITE_TEST_ENGINE_TEST_CMD="$work/emit {{testExamples}} --json={{resultPath}}"
  fi
  export BENCH_RESULTS="$results"
  rm -rf "$work/state"
  cd "$work/project"
  "$bin" run >"$work/run.log" 2>&1 || true # failures in the results: exit 1 is expected
  [ -f "$work/state/run.json" ] || { tail -20 "$work/run.log" >&2; exit 1; }
  : >"$work/server/requests.jsonl"
  "$bin" report >"$work/report.log" 2>&1 || { tail -20 "$work/report.log" >&2; exit 1; }
  batches=$(replay "$work/replay")
  echo "== $format: $records results, $(stat -c %s "$results") bytes, $batches upload requests =="
  limit=()
  [ "$format" = junit ] && limit=(--cpu-limit 1.2)
  /usr/bin/python3 "$root/bench/pair.py" -n "$runs" --label "test-engine-pytest report" \
    --baseline "curl, the same requests" "${limit[@]}" -- "$bin" report --vs "$work/replay" || failed=1
done
exit "$failed"
