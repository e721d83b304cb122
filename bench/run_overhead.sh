#!/usr/bin/env bash
# What `test-engine-pytest run` costs on top of pytest: whole processes, side
# by side with bare pytest given the very same argv (the slice's files and
# the same --junit-xml), A B A B ... (bench/pair.py).
#
#   small  a 20-file project (120 tests, about 0.3 s of pytest): our start
#          and finish show. Target: run <= 1.05x bare pytest.
#   real   one job's slice (job 4 of 8, planned locally: test_compatibility,
#          test_functions, test_matrices, test_str; about 4 s of pytest) of a
#          real suite, mpmath's own tests from Debian's python3-mpmath. Target:
#          <= 1.02x. (Job 2's slice holds test_elliptic, whose unseeded random
#          inputs fail now and then: a failing run stops the benchmark.)
#
#   ours   our own start and finish alone: the test command is a small
#          Python script that writes the same 120-test JUnit file pytest
#          wrote (a stand-in, no pytest), run by us and bare; A - B is what we
#          add. Target: <= 40 ms (20 ms each way).
#
# Each is measured with the result-mode probe's answer kept from the run
# before (src/pytest/interp_cache.h: any later job on the same machine and Python),
# and the small project also with no cache at all (the first run in a fresh
# container), which asks Python once per run. The machine is shared and
# noisy: quote medians, and the CPU ratio beside the wall one.
#
# Usage: bench/run_overhead.sh [binary]   (default build/test-engine-pytest)
#        RUNS=7 REAL_RUNS=7; SKIP_REAL=1 for the small project alone.
# Needs Debian's python3-pytest and python3-mpmath:
#   apt-get install -y python3-pytest python3-mpmath
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/test-engine-pytest}
runs=${RUNS:-7} real_runs=${REAL_RUNS:-7}
[ -x "$bin" ] || { echo "build first: cmake --build build (or give a binary)" >&2; exit 2; }
/usr/bin/python3 -c 'import pytest' 2>/dev/null || { echo "needs python3-pytest: apt-get install -y python3-pytest" >&2; exit 2; }
mpmath_tests=$(/usr/bin/python3 -c 'import mpmath.tests, os; print(os.path.dirname(mpmath.tests.__file__))' 2>/dev/null || true)
if [ -z "${SKIP_REAL:-}" ] && [ -z "$mpmath_tests" ]; then
  echo "needs python3-mpmath (or SKIP_REAL=1): apt-get install -y python3-mpmath" >&2
  exit 2
fi
work=$(mktemp -d /tmp/tep-bench-run-XXXXXX)
trap 'rm -rf "$work"' EXIT
export PYTHONDONTWRITEBYTECODE=1 NO_COLOR=1 BUILDKITE_JOB_ID=bench-job BUILDKITE_RETRY_COUNT=0
unset BUILDKITE_TEST_ENGINE_SUITE_SLUG BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN BUILDKITE_ORGANIZATION_SLUG
pytest_argv=(/usr/bin/python3 -m pytest -q -p no:cacheprovider)
export BUILDKITE_TEST_ENGINE_TEST_CMD="${pytest_argv[*]} {{testExamples}} --junit-xml={{resultPath}}"
failed=0

# measure NAME DIR JOB JOBS LIMIT N: plans DIR's job JOB of JOBS (offline: the
# local plan), then times run against bare pytest on the slice's entries.
measure() {
  local name=$1 dir=$2 job=$3 jobs=$4 limit=$5 n=$6
  export BUILDKITE_TEST_ENGINE_TEST_CMD="${pytest_argv[*]} {{testExamples}} --junit-xml={{resultPath}}"
  export BUILDKITE_PARALLEL_JOB=$job BUILDKITE_PARALLEL_JOB_COUNT=$jobs
  export BUILDKITE_TEST_ENGINE_STATE_DIR="$work/state-$name"
  cd "$dir"
  "$bin" plan >"$work/plan-$name.log" 2>&1 || { cat "$work/plan-$name.log" >&2; exit 1; }
  mapfile -t entries < <(/usr/bin/python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["tests"]))' \
    "$BUILDKITE_TEST_ENGINE_STATE_DIR/slice.json")
  "$bin" run >"$work/run-$name.log" 2>&1 || { tail -20 "$work/run-$name.log" >&2; exit 1; }
  echo "== $name: ${#entries[@]} files; pytest says: $(grep -E -m1 '^[0-9]+ passed' "$work/run-$name.log") =="
  /usr/bin/python3 "$root/bench/pair.py" -n "$n" --label "test-engine-pytest run" --baseline "bare pytest" \
    --limit "$limit" -- "$bin" run --vs "${pytest_argv[@]}" "${entries[@]}" --junit-xml="$work/bare.xml" || failed=1
}

mkdir -p "$work/small/tests"
for i in $(seq -w 1 20); do
  printf 'import pytest\n\n\ndef test_a():\n    assert 1 + 1 == 2\n\n\n@pytest.mark.parametrize("x", range(5))\ndef test_b(x):\n    assert x >= 0\n' \
    >"$work/small/tests/test_m$i.py"
done
export XDG_CACHE_HOME="$work/cache"
measure small "$work/small" 0 1 1.05 "$runs"
HOME=/dev/null XDG_CACHE_HOME= measure small-uncached "$work/small" 0 1 1.10 "$runs"
# ours: the stand-in writes the JUnit file pytest wrote for the small project.
cp "$work/state-small/results/attempt-0.xml" "$work/junit.xml"
cat >"$work/emit.py" <<'PY'
import shutil, sys
out = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--junit-xml=")][0]
shutil.copyfile(sys.argv[1], out)
PY
export BUILDKITE_PARALLEL_JOB=0 BUILDKITE_PARALLEL_JOB_COUNT=1 BUILDKITE_TEST_ENGINE_STATE_DIR="$work/state-small"
export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 $work/emit.py $work/junit.xml {{testExamples}} --junit-xml={{resultPath}}"
cd "$work/small"
"$bin" run >"$work/run-ours.log" 2>&1 || { tail -20 "$work/run-ours.log" >&2; exit 1; }
echo "== ours: our start and finish around a stand-in that writes the same JUnit file =="
/usr/bin/python3 "$root/bench/pair.py" -n "$((runs * 2))" --label "test-engine-pytest run" --baseline "the stand-in alone" \
  -- "$bin" run --vs /usr/bin/python3 "$work/emit.py" "$work/junit.xml" --junit-xml="$work/bare.xml"
if [ -z "${SKIP_REAL:-}" ]; then
  mkdir -p "$work/mpmath"
  cp -r "$mpmath_tests" "$work/mpmath/tests"
  rm -rf "$work/mpmath/tests/__pycache__"
  measure real-mpmath "$work/mpmath" 3 8 1.02 "$real_runs"
fi
exit "$failed"
