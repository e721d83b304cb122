#!/usr/bin/env bash
# Peak memory of loading a pytest-split durations file: 100,000 node ids
# (about 8 MB of JSON) in 1,000 files. Runs `plan` offline with one job (so
# nothing is split and nothing is collected) with and without the durations
# file, and prints both peak RSS values and the difference, the cost of the
# load. With a binary that has it, also times `durations merge` of the file.
# Usage: bench/durations_rss.sh [binary]   (default: build/test-engine-pytest)
#        ENTRIES=100000 to change the size.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/test-engine-pytest}
entries=${ENTRIES:-100000}
[ -x "$bin" ] || { echo "build first: cmake --build build (or give a binary)" >&2; exit 2; }
work=$(mktemp -d /tmp/tep-bench-rss-XXXXXX)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 - "$work" "$entries" <<'PY'
import json, random, sys
work, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
files = [f"tests/pkg{i // 50:03d}/test_module_{i:04d}.py" for i in range(1000)]
durations = {}
for i in range(n):
    f = files[i % len(files)]
    durations[f"{f}::TestGroup{i % 7}::test_case_{i:06d}[param-{i % 13}]"] = round(rng.expovariate(10), 6)
with open(f"{work}/durations.json", "w") as out:
    json.dump(durations, out, indent=4, sort_keys=True)
with open(f"{work}/files.txt", "w") as out:
    out.write("\n".join(files) + "\n")
PY
cd "$work"
unset BUILDKITE_TEST_ENGINE_SUITE_SLUG BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN BUILDKITE_ORGANIZATION_SLUG
export BUILDKITE_TEST_ENGINE_FILES=files.txt BUILDKITE_PARALLEL_JOB=0 BUILDKITE_PARALLEL_JOB_COUNT=1 NO_COLOR=1
peak() { # peak RSS in KiB of `plan` with the given durations file ('' = none)
  local best=
  for i in 1 2 3; do
    BUILDKITE_TEST_ENGINE_DURATIONS_FILE=$1 BUILDKITE_TEST_ENGINE_STATE_DIR="$work/state" \
      /usr/bin/time -f '%M' -o "$work/rss" "$bin" plan >"$work/plan.log" 2>&1 || { tail -3 "$work/plan.log" >&2; exit 1; }
    local kb; kb=$(cat "$work/rss")
    if [ -z "$best" ] || [ "$kb" -lt "$best" ]; then best=$kb; fi
  done
  echo "$best"
}
without=$(peak '')
with=$(peak durations.json)
grep -q "makespan" "$work/plan.log" || { echo "the plan did not use the durations file" >&2; tail -5 "$work/plan.log" >&2; exit 1; }
size=$(stat -c %s durations.json)
echo "durations file: $entries entries, $((size / 1024)) KiB"
echo "plan peak RSS without durations: ${without} KiB"
echo "plan peak RSS with durations:    ${with} KiB"
awk -v a="$with" -v b="$without" -v s="$size" \
  'BEGIN { printf "cost of the load:                %d KiB (%.1fx the file)\n", a - b, (a - b) * 1024 / s }'
if "$bin" durations merge durations.json >/dev/null 2>&1; then
  /usr/bin/time -f '%e %M' -o "$work/merge" "$bin" durations merge durations.json >merged.json 2>/dev/null
  read -r secs kb <"$work/merge"
  echo "durations merge of the file:     ${secs}s, peak RSS ${kb} KiB"
fi
