#!/usr/bin/env bash
# Cold host: the first job's pre-command hook on a host whose cache is empty,
# getting the binary by downloading the release archive (served over HTTPS by
# the local stand-in, checked against SHA256SUMS) side by side with building it
# from source (release-url: none), then planning (offline, the same plan both
# times). Each run starts from an empty cache.
#
#   bench/cold_host.sh DIST [RUNS]   (DIST: scripts/release's output; 3 runs)
#
# Needs the build requirements (for the build side) and curl.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dist=$(cd "${1:?usage: bench/cold_host.sh DIST [RUNS]}" && pwd)
runs=${2:-3}
version=$(sed -n 's/^project(test_engine_pytest VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
case ${HOSTTYPE:-} in aarch64 | arm64) arch=aarch64 ;; *) arch=x86_64 ;; esac
name="test-engine-pytest-$version-linux-$arch.tar.gz"
[ -f "$dist/$name" ] || { echo "no $name in $dist" >&2; exit 2; }
work=$(mktemp -d /tmp/tep-bench-cold-XXXXXX)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$root/tests/support/make_certs.sh" "$work/certs" >/dev/null
mkdir -p "$work/server/files/release" "$work/plugin" "$work/shop"
cp "$dist/$name" "$work/server/files/release/"
/usr/bin/python3 "$root/tests/support/te_server.py" --dir "$work/server" --cert "$work/certs/server.pem" \
  --key "$work/certs/server.key" 2>/dev/null &
server_pid=$!
for _ in $(seq 1 100); do [ -f "$work/server/port" ] && break; sleep 0.05; done
cp -a "$root/hooks" "$root/lib" "$root/src" "$root/CMakeLists.txt" "$work/plugin/"
[ -d "$root/cmake" ] && cp -a "$root/cmake" "$work/plugin/"
(cd "$dist" && sha256sum "$name") >"$work/plugin/SHA256SUMS"
cp -a "$root/fixtures/shop/." "$work/shop/"
export BUILDKITE_PLUGIN_NAME=TEST_ENGINE_PYTEST BUILDKITE_JOB_ID=cold-job BUILDKITE_PARALLEL_JOB=0
export BUILDKITE_PARALLEL_JOB_COUNT=2 BUILDKITE_TEST_ENGINE_STATE_DIR="$work/state" NO_COLOR=1
export BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_CA_BUNDLE="$work/certs/ca.pem" TEP_CACHE_DIR="$work/cache"
unset BUILDKITE_TEST_ENGINE_SUITE_SLUG BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_BINARY
cd "$work/shop"
# cold URL: seconds of one pre-command hook from an empty cache.
cold() {
  rm -rf "$work/cache" "$work/state"
  local t0=$EPOCHREALTIME
  BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_RELEASE_URL=$1 "$work/plugin/hooks/pre-command" >"$work/hook.log" 2>&1 ||
    { cat "$work/hook.log" >&2; exit 1; }
  local t1=$EPOCHREALTIME
  grep -q "${2}" "$work/hook.log" || { echo "expected '$2' in:" >&2; cat "$work/hook.log" >&2; exit 1; }
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
}
url="https://127.0.0.1:$(cat "$work/server/port")/files/release"
down=() build=()
for _ in $(seq 1 "$runs"); do
  down+=("$(cold "$url" "downloaded test-engine-pytest")")
  build+=("$(cold none "built test-engine-pytest")")
done
med() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f s (min %.2f, max %.2f)", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
echo "pre-command on a cold host, binary downloaded + plan: $(med "${down[@]}")"
echo "pre-command on a cold host, built from source + plan: $(med "${build[@]}")"
echo "($runs runs each, alternating, empty cache each time; $(nproc) cores)"
