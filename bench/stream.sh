#!/usr/bin/env bash
# timed() sets <name>_secs, _cpu, _rss, _rc with printf -v; the checks read small_*/large_* by name.
# shellcheck disable=SC2154,SC2034
# Streaming benchmark: the real `run` and `report`, whole processes, side by
# side with Python's json.load of the same result file.
#
# N collector records (bench/gen_records.py: the real conformance records,
# cycled with new names) are what "pytest" writes: the test command is a tiny
# stand-in (a bash script that copies the prepared file to --json=PATH, no
# Python), so the real run phase plans, starts it, parses, classifies and
# writes run.json. Then the real report phase reads run.json and the result
# file, publishes selectors, annotates, writes the durations artifact and
# uploads every record over HTTPS to the local stand-in (tests/support/
# te_server.py), which counts what it received. buildkite-agent is `true`.
#
# Peak RSS and CPU (user + system) come from GNU time (wait4's rusage: the
# process and every child it waited for). Python's figure is the same for
# `python3 -c 'import json,sys; json.load(open(sys.argv[1]))'`.
#
# Targets (the script exits 1 when one is missed):
#   at RECORDS (100,000, every conformance record: a third of them failures)
#     run    peak RSS <= 0.5x the result file, CPU >= 2x faster than json.load
#     report peak RSS <= 0.5x the result file
#   SMALL (30,000) vs LARGE (300,000) passing records, run and report each:
#     peak RSS at LARGE <= 1.5x peak RSS at SMALL + 8 MiB
# MILLION=1 also measures 1,000,000 records (figures only, about a minute).
#
# Usage: bench/stream.sh            (build/test-engine-pytest)
#        TEP_BENCH_BIN=/path/to/test-engine-pytest bench/stream.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${TEP_BENCH_BIN:-$root/build/test-engine-pytest}
conf="$root/fixtures/conformance/pytest-7.2.1-collector-1.8.0"
[ -x "$bin" ] && [ -d "$conf" ] || { echo "needs $bin (build first) and fixtures/conformance" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time, Debian package 'time')" >&2; exit 2; }
RECORDS=${RECORDS:-100000}
SMALL=${SMALL:-30000}
LARGE=${LARGE:-300000}
MILLION=${MILLION:-0}

work=$(mktemp -d /tmp/tep-bench-stream-XXXXXX)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$root/tests/support/make_certs.sh" "$work/certs" >/dev/null
mkdir -p "$work/server"
/usr/bin/python3 "$root/tests/support/te_server.py" --dir "$work/server" --cert "$work/certs/server.pem" \
  --key "$work/certs/server.key" >"$work/server/log" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do [ -f "$work/server/port" ] && break; sleep 0.05; done
[ -f "$work/server/port" ] || { cat "$work/server/log"; exit 2; }

# The project: one test file to plan, and the stand-in for pytest.
mkdir -p "$work/project/tests"
printf 'def test_bench():\n    pass\n' >"$work/project/tests/test_bench.py"
cat >"$work/emit" <<'SH'
#!/bin/bash
# Stands in for pytest: the prepared result file goes where --json= says.
for a in "$@"; do case $a in --json=*) exec /bin/cp "$BENCH_RESULTS" "${a#--json=}" ;; esac; done
echo "emit: no --json= argument" >&2
exit 3
SH
chmod +x "$work/emit"

export BUILDKITE_ANALYTICS_TOKEN=bench-token BUILDKITE_BUILD_ID=bench-build BUILDKITE_JOB_ID=bench-job
port=$(cat "$work/server/port")
export BUILDKITE_TEST_ENGINE_UPLOAD_BASE_URL="https://127.0.0.1:$port"
export BUILDKITE_TEST_ENGINE_CA_BUNDLE="$work/certs/ca.pem" BUILDKITE_TEST_ENGINE_AGENT_CMD=true NO_COLOR=1
export BUILDKITE_TEST_ENGINE_TEST_CMD="$work/emit {{testExamples}} --json={{resultPath}}"

# timed NAME CMD...: runs CMD under GNU time; sets <NAME>_secs, _cpu, _rss (bytes), _rc.
timed() {
  local name=$1 rc=0 wall user sys kib
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >"$work/$name.log" 2>&1 || rc=$?
  # GNU time puts "Command exited with non-zero status N" first: the figures are the last line.
  read -r wall user sys kib < <(tail -n 1 "$work/time")
  printf -v "${name}_secs" '%s' "$wall"
  printf -v "${name}_cpu" '%s' "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')"
  printf -v "${name}_rss" '%s' "$((kib * 1024))"
  printf -v "${name}_rc" '%s' "$rc"
}

mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# measure LABEL N MIX: generates the file, runs run, report and json.load.
# Sets size, run_*, report_*, py_*, uploaded.
measure() {
  local label=$1 n=$2 mix=$3 file="$work/results-$2-$3.json"
  /usr/bin/python3 "$root/bench/gen_records.py" "$conf" "$file" "$n" "$mix"
  size=$(stat -c %s "$file")
  rm -rf "$work/state" "$work/server/requests.jsonl"
  export BUILDKITE_TEST_ENGINE_STATE_DIR="$work/state" BENCH_RESULTS="$file"
  cd "$work/project"
  timed run "$bin" run
  [ -f "$work/state/run.json" ] || { echo "run wrote no run.json:" >&2; cat "$work/run.log" >&2; exit 1; }
  grep -q "Results: collector JSON mode" "$work/run.log" || { cat "$work/run.log" >&2; exit 1; }
  timed report "$bin" report
  cd "$root"
  [ "$report_rc" = 0 ] || { echo "report exited $report_rc:" >&2; cat "$work/report.log" >&2; exit 1; }
  timed py /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$file"
  uploaded=$(/usr/bin/python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] == "/v1/uploads":
        n += len(json.loads(r["body"]["data"]["text"]))
print(n)' "$work/server/requests.jsonl")
  [ "$uploaded" = "$n" ] || { echo "$label: the server received $uploaded of $n records" >&2; cat "$work/report.log" >&2; exit 1; }
  printf '%-28s %9s %11s | run %6ss %6ss cpu %11s (exit %s) | report %6ss %6ss cpu %11s | json.load %6ss cpu %11s\n' \
    "$label" "$n" "$(mib "$size")" "$run_secs" "$run_cpu" "$(mib "$run_rss")" "$run_rc" \
    "$report_secs" "$report_cpu" "$(mib "$report_rss")" "$py_cpu" "$(mib "$py_rss")"
  rm -f "$file"
}

failed=0
# check WHAT VALUE OP LIMIT: prints the figure against its target.
check() {
  local ok
  ok=$(awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN { print (op == "<=" ? v <= l : v >= l) ? 1 : 0 }')
  printf '  %-58s %8.2f (target %s %s) %s\n' "$1" "$2" "$3" "$4" "$([ "$ok" = 1 ] && echo ok || echo MISSED)"
  [ "$ok" = 1 ] || failed=1
}

echo "binary: $bin"
echo "records: label, count, file size | wall, CPU, peak RSS per process"
measure "all conformance records" "$RECORDS" all
main_size=$size main_run_rss=$run_rss main_run_cpu=$run_cpu main_report_rss=$report_rss main_py_cpu=$py_cpu
measure "passing records (small)" "$SMALL" passing
small_run=$run_rss small_report=$report_rss
measure "passing records (large)" "$LARGE" passing
large_run=$run_rss large_report=$report_rss
if [ "$MILLION" = 1 ]; then
  measure "all conformance records" 1000000 all
fi

echo "targets:"
check "run peak RSS / result file ($RECORDS records)" "$(awk -v a="$main_run_rss" -v b="$main_size" 'BEGIN { print a / b }')" "<=" 0.5
check "json.load CPU / run CPU ($RECORDS records)" "$(awk -v a="$main_py_cpu" -v b="$main_run_cpu" 'BEGIN { print (b > 0 ? a / b : 999) }')" ">=" 2
check "report peak RSS / result file ($RECORDS records)" "$(awk -v a="$main_report_rss" -v b="$main_size" 'BEGIN { print a / b }')" "<=" 0.5
for phase in run report; do
  s_var="small_$phase" l_var="large_$phase"
  limit=$(awk -v s="${!s_var}" 'BEGIN { print (1.5 * s + 8 * 1048576) / 1048576 }')
  check "$phase peak RSS at $LARGE passing records (MiB)" "$(awk -v l="${!l_var}" 'BEGIN { print l / 1048576 }')" "<=" "$limit"
done
exit "$failed"
