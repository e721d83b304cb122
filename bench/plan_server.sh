#!/usr/bin/env bash
# Plan-phase benchmark against the API: a checkout of 100,000 test files
# (1,000 folders of 100) split over 16 jobs by the stand-in Test Engine
# (tests/support/te_server.py over HTTPS on loopback), so this job keeps
# 6,250 of the 100,000 entries. Whole processes, side by side (bench/pair.py:
# A B A B ..., the ratio taken pair by pair):
#
#   cached  `test-engine-pytest plan` (discovery walks the checkout, the
#           cached plan is fetched, read, this job's entries checked, slice.json
#           written) vs `curl` fetching the same answer (8.3 MB) from the same
#           server. Target: <= 1.5x curl's wall time.
#   new     the same with no cached plan (the stand-in's "always_new": every
#           GET answers 404 and every POST makes a new plan): GET, filter_tests
#           with 100,000 files, POST of 100,000 selectors, the 8.3 MB answer;
#           vs `curl` replaying those very requests (bodies captured from our
#           own run). Target: <= 1.5x the replay's wall time.
#
# Usage: bench/plan_server.sh [binary]   (default build/test-engine-pytest)
#        FILES=100000 JOBS=16 RUNS=5 to change the sizes; exits 1 when a
#        target is missed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/test-engine-pytest}
files=${FILES:-100000} jobs=${JOBS:-16} runs=${RUNS:-5}
[ -x "$bin" ] || { echo "build first: cmake --build build (or give a binary)" >&2; exit 2; }
command -v curl >/dev/null || { echo "needs curl" >&2; exit 2; }
work=$(mktemp -d /tmp/tep-bench-plan-XXXXXX)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
"$root/tests/support/make_certs.sh" "$work/certs" >/dev/null
mkdir -p "$work/server" "$work/checkout"
ident=bench-build/bench-step
/usr/bin/python3 - "$work" "$files" "$jobs" "$ident" <<'PY'
import json, os, sys
work, n, jobs, ident = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
paths = [f"tests/pkg{i // 100:04d}/test_mod{i % 100:02d}.py" for i in range(n)]
for p in paths:
    full = os.path.join(work, "checkout", p)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write("def test_x():\n    pass\n")
tasks = {str(j): {"node_number": j, "tests": []} for j in range(jobs)}
for i, p in enumerate(sorted(paths, reverse=True)):
    tasks[str(i % jobs)]["tests"].append({"path": p, "format": "file", "estimated_duration": 1000 + i % 997})
plan = {"identifier": ident, "parallelism": jobs, "tasks": tasks, "muted_tests": [], "skipped_tests": []}
with open(f"{work}/server/config.json", "w") as f:
    json.dump({"plans": {ident: plan}}, f)
PY
/usr/bin/python3 "$root/tests/support/te_server.py" --dir "$work/server" --cert "$work/certs/server.pem" \
  --key "$work/certs/server.key" >"$work/server/log" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do [ -f "$work/server/port" ] && break; sleep 0.05; done
[ -f "$work/server/port" ] || { cat "$work/server/log" >&2; exit 1; }
base="https://127.0.0.1:$(cat "$work/server/port")"
export BUILDKITE_TEST_ENGINE_BASE_URL="$base"
export BUILDKITE_TEST_ENGINE_CA_BUNDLE="$work/certs/ca.pem"
export BUILDKITE_ORGANIZATION_SLUG=acme BUILDKITE_TEST_ENGINE_SUITE_SLUG=bench
export BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN=bench-token BUILDKITE_BUILD_ID=bench-build
export BUILDKITE_STEP_ID=bench-step BUILDKITE_JOB_ID=bench-job BUILDKITE_BRANCH=main
export BUILDKITE_PARALLEL_JOB=3 BUILDKITE_PARALLEL_JOB_COUNT="$jobs" BUILDKITE_RETRY_COUNT=0
export BUILDKITE_TEST_ENGINE_TEST_CMD='true {{testExamples}}' BUILDKITE_TEST_ENGINE_API_TIMEOUT=120
export BUILDKITE_TEST_ENGINE_STATE_DIR="$work/state" NO_COLOR=1
suite="$base/v2/analytics/organizations/acme/suites/bench"
curl_args=(-sS --fail --cacert "$work/certs/ca.pem" -H "Authorization: Bearer bench-token"
  -H "Content-Type: application/json" -o /dev/null)
cd "$work/checkout"

# check_plan SOURCE: one run of ours, checked (the right source, this job's entries).
check_plan() {
  "$bin" plan >"$work/plan.log" 2>&1 || { tail -5 "$work/plan.log" >&2; exit 1; }
  grep -q "Plan source: server ($1)" "$work/plan.log" || { grep -m3 -e "Plan source" -e warning -e error "$work/plan.log" >&2; exit 1; }
  grep -q "entries on this job: $((files / jobs))" "$work/plan.log" || { grep -m1 "entries on this job" "$work/plan.log" >&2; exit 1; }
}

failed=0
echo "== cached plan: $files files, $jobs jobs (this job keeps $((files / jobs))) =="
check_plan "cached plan"
size=$(curl "${curl_args[@]}" -w '%{size_download}' "$suite/test_plan?identifier=$ident&job_retry_count=0")
echo "answer: $size bytes"
/usr/bin/python3 "$root/bench/pair.py" -n "$runs" --label "test-engine-pytest plan" --baseline "curl GET" \
  --limit 1.5 -- "$bin" plan \
  --vs curl "${curl_args[@]}" "$suite/test_plan?identifier=$ident&job_retry_count=0" || failed=1

echo "== new plan: $files files, $jobs jobs (GET 404, filter_tests, POST) =="
echo '{"always_new": true}' >"$work/server/config.json"
: >"$work/server/requests.jsonl"
check_plan "new plan"
# The very bodies we sent, for curl to send again.
/usr/bin/python3 - "$work/server/requests.jsonl" "$work" <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
posts = [r for r in reqs if r["method"] == "POST"]
assert [r["path"].rsplit("/", 1)[-1] for r in posts] == ["filter_tests", "test_plan"], [r["path"] for r in reqs]
for r in posts:
    with open(f"{sys.argv[2]}/{r['path'].rsplit('/', 1)[-1]}.body", "w") as f:
        json.dump(r["body"], f, separators=(",", ":"))
PY
# The requests of one new plan on one connection, as ours makes them (the
# first GET is a 404, as ours sees it: no --fail there).
q=$(printf ' %q' "${curl_args[@]}")
{
  echo '#!/bin/sh'
  echo "exec curl${q/ --fail/} $(printf %q "$suite/test_plan?identifier=$ident&job_retry_count=0") \\"
  echo "  --next${q} --data-binary @$work/filter_tests.body $suite/test_plan/filter_tests \\"
  echo "  --next${q} --data-binary @$work/test_plan.body $suite/test_plan"
} >"$work/replay"
chmod +x "$work/replay"
/usr/bin/python3 "$root/bench/pair.py" -n "$runs" --label "test-engine-pytest plan" --baseline "curl replay" \
  --limit 1.5 -- "$bin" plan --vs "$work/replay" || failed=1
exit "$failed"
