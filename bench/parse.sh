#!/usr/bin/env bash
# Parse benchmark: a 100,000-record collector JSON file, built by repeating the
# real conformance records with new names (bench/gen_records.py), parsed and
# classified by us (the parser and the run model alone, in bench-parse), side
# by side with Python's json.load on the same file. Median of 5 runs each.
# Targets: at least 3x faster than Python; peak RSS under 3x the file size.
# bench/stream.sh measures the real `run` and `report` processes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/bench-parse"
[ -x "$bin" ] || { echo "build first: cmake --build build" >&2; exit 2; }
conf="$root/fixtures/conformance/pytest-7.2.1-collector-1.8.0"
[ -d "$conf" ] || { echo "needs fixtures/conformance in the checkout" >&2; exit 2; }
RECORDS=${RECORDS:-100000}
file=$(mktemp /tmp/tep-bench-parse-XXXXXX.json)
trap 'rm -f "$file"' EXIT
/usr/bin/python3 "$root/bench/gen_records.py" "$conf" "$file" "$RECORDS" all
size=$(stat -c %s "$file")
ours=() py=() rss=0
for _ in 1 2 3 4 5; do
  t0=$(date +%s%N); out=$("$bin" "$file"); t1=$(date +%s%N)
  read -r n _ peak _ <<< "$out"
  [ "$n" = "$RECORDS" ] || { echo "parsed $n records, expected $RECORDS" >&2; exit 1; }
  ours+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (b - a) / 1e9 }')"); rss=$peak
  t0=$(date +%s%N); /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$file"; t1=$(date +%s%N)
  py+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (b - a) / 1e9 }')")
done
median() { printf '%s\n' "$@" | sort -g | sed -n 3p; }
mo=$(median "${ours[@]}") mp=$(median "${py[@]}")
echo "file:                  $RECORDS records, $size bytes"
echo "test-engine-pytest:    ${mo}s parse + classify (median of 5, whole process)"
echo "python3 json.load:     ${mp}s (median of 5, whole process)"
awk -v a="$mo" -v b="$mp" 'BEGIN { printf "speed-up:              %.1fx (target >= 3x)\n", b / a }'
awk -v r="$rss" -v s="$size" 'BEGIN { printf "peak RSS:              %.1f MiB = %.2fx the file size (target < 3x)\n", r / 1048576, r / s }'
