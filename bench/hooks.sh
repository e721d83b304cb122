#!/usr/bin/env bash
# Hook cost benchmark: each hook's own work, as the job runner (and the agent)
# runs it: a wrapper script that dumps the environment, SOURCES the hook, dumps
# it again. Side by side with a baseline wrapper that sources an empty hook and
# runs the same subcommand, so the difference is the hook's own work alone
# (finding the binary, checking the cache, options, PATH) and not plan, report
# or cleanup. The binary is a tiny C stand-in that answers --version and
# exits 0, placed in a private cache the way a first job leaves it: once as a
# build from this checkout's source ("source build" rows), once as the
# verified release archive this checkout carries a checksum for ("release"
# rows, the path every job of a released version takes).
#
#   bench/hooks.sh [PLUGIN_DIR] [RUNS]   (default: this checkout, 21 runs)
#
# Prints, per hook, min / median / max milliseconds of the hook's wrapper, of
# the baseline's, and of their difference pair by pair; the target is a median
# difference <= 30 ms per hook (issue 18).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
plugin_src=$(cd "${1:-$root}" && pwd)
runs=${2:-21}
work=$(mktemp -d /tmp/tep-bench-hooks-XXXXXX)
# TEP_BENCH_KEEP=1 keeps the folder (wrappers a-<hook>, b-<hook> for other timers).
if [ "${TEP_BENCH_KEEP:-0}" = 1 ]; then echo "work folder: $work"; else trap 'rm -rf "$work"' EXIT; fi
version=$(sed -n 's/^project(test_engine_pytest VERSION \([0-9.]*\).*/\1/p' "$plugin_src/CMakeLists.txt")

# The plugin as the agent checks it out.
mkdir -p "$work/plugin" "$work/checkout" "$work/fake-cmake" "$work/home"
cp -a "$plugin_src/hooks" "$plugin_src/lib" "$plugin_src/src" "$plugin_src/CMakeLists.txt" "$work/plugin/"
chmod 700 "$work/home"

# The stand-in binary: --version like the real one, anything else exits 0.
cat > "$work/stub.c" <<C
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--version") == 0) puts("test-engine-pytest $version");
    return 0;
}
C
cc -O2 -o "$work/stub" "$work/stub.c"

# Prime the cache the way the first job on a host does, with a cmake that
# "builds" by copying the stand-in (so any version of the hooks can be primed).
cat > "$work/fake-cmake/cmake" <<SH
#!/bin/sh
case "\$1" in
  --build) cp "$work/stub" "\$2/test-engine-pytest" ;;
  -S) mkdir -p "\$4" ;;
esac
SH
chmod +x "$work/fake-cmake/cmake"
export HOME="$work/home" BUILDKITE_PLUGIN_NAME=TEST_ENGINE_PYTEST BUILDKITE_JOB_ID=bench-job
export BUILDKITE_PLUGIN_CONFIGURATION='{"suite-slug":"shop"}' BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_SUITE_SLUG=shop
export BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_RELEASE_URL=none
unset TEP_CACHE_DIR XDG_CACHE_HOME BUILDKITE_TEST_ENGINE_STATE_DIR
(cd "$work/checkout" && PATH="$work/fake-cmake:$PATH" bash "$work/plugin/hooks/pre-command") >"$work/prime.log" 2>&1 || {
  cat "$work/prime.log" >&2
  echo "priming the cache failed" >&2
  exit 1
}

# wrapper NAME HOOK [LINE]: the agent's hook wrapper around HOOK (LINE runs after it).
wrapper() {
  # shellcheck disable=SC2016 # the $? and $BUILDKITE_HOOK_EXIT_STATUS are the wrapper's own
  printf '#!/usr/bin/env bash\n/usr/bin/env -0 > %q\n. %q\n%s\nexport BUILDKITE_HOOK_EXIT_STATUS=$?\n/usr/bin/env -0 > %q\nexit $BUILDKITE_HOOK_EXIT_STATUS\n' \
    "$work/before" "$2" "${3:-}" "$work/after" > "$work/$1"
  chmod +x "$work/$1"
}
: > "$work/empty"
ms() { # ms START END: microsecond stamps (EPOCHREALTIME) to milliseconds
  local a=${1/./} b=${2/./}
  echo $(((10#$b - 10#$a) / 1000)).$((((10#$b - 10#$a) % 1000) / 100))
}
stats() { # stats VALUES...: min median max
  sort -n | awk '{ v[NR] = $1 } END { printf "%7.1f %7.1f %7.1f", v[1], v[int((NR + 1) / 2)], v[NR] }'
}
# The same plugin as a released checkout: SHA256SUMS names the archive, whose
# binary the cache holds (as a verified download leaves it).
cp -a "$work/plugin" "$work/plugin-release"
case ${HOSTTYPE:-} in aarch64 | arm64) arch=aarch64 ;; *) arch=x86_64 ;; esac
sum=$(printf 'bench' | sha256sum | cut -d' ' -f1)
printf '%s  test-engine-pytest-%s-linux-%s.tar.gz\n' "$sum" "$version" "$arch" > "$work/plugin-release/SHA256SUMS"
release="$work/home/.cache/test-engine-pytest/$version-linux-$arch"
mkdir -p "$release/bin"
cp "$work/stub" "$release/bin/test-engine-pytest"
echo "$sum" > "$release/archive.sha256"

printf '%-28s %23s   %23s   %23s\n' "" "hook (ms)" "baseline (ms)" "hook - baseline (ms)"
printf '%-28s %23s   %23s   %23s\n' "" "min  median     max" "min  median     max" "min  median     max"
cd "$work/checkout"
for kind in "source build" release; do
  plugin=$work/plugin
  [ "$kind" = release ] && plugin=$work/plugin-release
  for hook in pre-command post-command pre-exit; do
    case $hook in pre-command) sub=plan ;; post-command) sub=report ;; *) sub=cleanup ;; esac
    wrapper "a-$hook" "$plugin/hooks/$hook"
    [ "$kind" = release ] || wrapper "a-$hook-source" "$plugin/hooks/$hook"
    wrapper "b-$hook" "$work/empty" "$work/stub $sub"
    a=() b=() d=()
    "$work/a-$hook" >/dev/null 2>&1 || { echo "$hook failed:" >&2; "$work/a-$hook"; exit 1; }
    for _ in $(seq 1 "$runs"); do
      t0=$EPOCHREALTIME
      "$work/a-$hook" >/dev/null 2>&1
      t1=$EPOCHREALTIME
      "$work/b-$hook" >/dev/null 2>&1
      t2=$EPOCHREALTIME
      a+=("$(ms "$t0" "$t1")") b+=("$(ms "$t1" "$t2")")
      d+=("$(awk -v x="${a[-1]}" -v y="${b[-1]}" 'BEGIN { print x - y }')")
    done
    printf '%-28s %s   %s   %s\n' "$hook ($kind)" "$(printf '%s\n' "${a[@]}" | stats)" \
      "$(printf '%s\n' "${b[@]}" | stats)" "$(printf '%s\n' "${d[@]}" | stats)"
  done
done
echo "($runs runs each, alternating; target: median difference <= 30 ms per hook)"
