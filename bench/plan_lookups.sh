#!/usr/bin/env bash
# Plan-phase lookups benchmark: 100,000 test files of which Test Engine's
# filter_tests names 10,000 as slow (the case where "is this file slow?" was
# asked with a linear scan per file). The stand-in serves the API on
# loopback; collection is a no-op launcher (`true`), so the slow files run
# whole and the time measured is the plan phase's own bookkeeping.
#
# Prints the plan process's CPU seconds (user + sys; the median of 3 runs).
# Usage: bench/plan_lookups.sh [binary]   (default: build/test-engine-pytest)
#        FILES=100000 SLOW=10000 to change the sizes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/test-engine-pytest}
files=${FILES:-100000} slow=${SLOW:-10000}
[ -x "$bin" ] || { echo "build first: cmake --build build (or give a binary)" >&2; exit 2; }
work=$(mktemp -d /tmp/tep-bench-lookups-XXXXXX)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
"$root/tests/support/make_certs.sh" "$work/certs" >/dev/null
mkdir -p "$work/server" "$work/checkout"
/usr/bin/python3 - "$work" "$files" "$slow" <<'PY'
import json, sys
work, n, slow = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
paths = [f"tests/pkg{i // 100:04d}/test_mod{i % 100:02d}.py" for i in range(n)]
with open(f"{work}/checkout/files.txt", "w") as f:
    f.write("\n".join(paths) + "\n")
step = max(1, n // slow)
with open(f"{work}/server/config.json", "w") as f:
    json.dump({"filter_tests": paths[::step][:slow]}, f)
PY
/usr/bin/python3 "$root/tests/support/te_server.py" --dir "$work/server" --cert "$work/certs/server.pem" \
  --key "$work/certs/server.key" >"$work/server/log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do [ -f "$work/server/port" ] && break; sleep 0.05; done
[ -f "$work/server/port" ] || { cat "$work/server/log" >&2; exit 1; }
export BUILDKITE_TEST_ENGINE_BASE_URL="https://127.0.0.1:$(cat "$work/server/port")"
export BUILDKITE_TEST_ENGINE_CA_BUNDLE="$work/certs/ca.pem"
export BUILDKITE_ORGANIZATION_SLUG=acme BUILDKITE_TEST_ENGINE_SUITE_SLUG=bench
export BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN=bench-token BUILDKITE_BUILD_ID=b1 BUILDKITE_STEP_ID=s1
export BUILDKITE_PARALLEL_JOB=0 BUILDKITE_PARALLEL_JOB_COUNT=16 BUILDKITE_RETRY_COUNT=0 BUILDKITE_BRANCH=main
export BUILDKITE_TEST_ENGINE_FILES=files.txt BUILDKITE_TEST_ENGINE_TEST_CMD='true {{testExamples}}'
export BUILDKITE_TEST_ENGINE_API_TIMEOUT=120 NO_COLOR=1
cd "$work/checkout"
cpu=()
for i in 1 2 3; do
  export BUILDKITE_JOB_ID="bench-$i" BUILDKITE_BUILD_ID="bench-build-$i" BUILDKITE_TEST_ENGINE_STATE_DIR="$work/state-$i"
  /usr/bin/time -f '%U %S' -o "$work/time" "$bin" plan >"$work/plan.log" 2>&1 || { tail -5 "$work/plan.log" >&2; exit 1; }
  grep -q "Plan source: server (new plan)" "$work/plan.log" || { grep -m3 -e "Plan source" -e warning -e error "$work/plan.log" >&2; exit 1; }
  cpu+=("$(awk '{ printf "%.2f", $1 + $2 }' "$work/time")")
done
median=$(printf '%s\n' "${cpu[@]}" | sort -n | sed -n 2p)
echo "files: $files, slow (filter_tests): $slow"
echo "plan CPU (user+sys, our process and its no-op collector): ${median}s (median of ${cpu[*]})"
