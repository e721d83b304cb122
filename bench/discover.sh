#!/usr/bin/env bash
# Discovery benchmark: a generated tree of 20,000 files in 2,000 directories,
# our discovery side by side with find(1) on the same tree, warm cache, median
# of 9 alternating runs of each (whole processes, start-up included).
# Prints both medians and the ratio; the target is ours/find <= 1.5.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/bench-discover"
[ -x "$bin" ] || { echo "build first: cmake --build build" >&2; exit 2; }
tree=$(mktemp -d /tmp/tep-bench-discover-XXXXXX)
trap 'rm -rf "$tree"' EXIT
/usr/bin/python3 - "$tree" <<'PY'
import os, sys
root = sys.argv[1]
n = 0
for a in range(200):
    for b in range(10):
        d = os.path.join(root, f"pkg{a:03d}", f"mod{b}")
        os.makedirs(d)
        for f in range(10):
            name = ("test_%d.py", "%d_test.py", "helper_%d.py", "data_%d.txt")[f % 4] % f
            open(os.path.join(d, name), "w").close()
            n += 1
print(f"generated {n} files in 2000 directories", file=sys.stderr)
PY
now() { date +%s%N; }
ours=() theirs=()
expected=$(cd "$tree" && find . -name 'test_*.py' -o -name '*_test.py' | wc -l)
for i in $(seq 1 9); do
  t0=$(now); got=$("$bin" "$tree" | cut -d' ' -f1); t1=$(now)
  (cd "$tree" && find . -name 'test_*.py' -o -name '*_test.py' >/dev/null); t2=$(now)
  [ "$got" = "$expected" ] || { echo "discovery found $got files, find found $expected" >&2; exit 1; }
  ours+=($(( (t1 - t0) / 1000 ))) theirs+=($(( (t2 - t1) / 1000 )))
done
median() { printf '%s\n' "$@" | sort -n | sed -n 5p; }
mo=$(median "${ours[@]}") mt=$(median "${theirs[@]}")
echo "files matched:          $expected"
echo "test-engine-pytest:     ${mo} us (median of 9)"
echo "find -name ... -o ...:  ${mt} us (median of 9)"
awk -v a="$mo" -v b="$mt" 'BEGIN { printf "ratio ours/find:        %.2f (target <= 1.50)\n", a / b }'
