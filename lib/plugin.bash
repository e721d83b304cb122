# Shared by the hooks: where the state lives and where the binary is.
# shellcheck shell=bash

TEP_PLUGIN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

tep_log() { printf 'test-engine-pytest plugin: %s\n' "$*" >&2; }

# All three phases must agree on the state directory, so pre-command exports it.
tep_export_state_dir() {
  export BUILDKITE_TEST_ENGINE_STATE_DIR="${BUILDKITE_TEST_ENGINE_STATE_DIR:-${TMPDIR:-/tmp}/test-engine-pytest-${BUILDKITE_JOB_ID:-local}}"
}

tep_version() {
  sed -n 's/^project(test_engine_pytest VERSION \([0-9.]*\).*/\1/p' "$TEP_PLUGIN_DIR/CMakeLists.txt"
}

# Builds the binary from the plugin's own source, once per plugin version. The
# lock keeps concurrent jobs on one host from building over each other; the
# second job waits, then finds the binary there.
tep_build_from_source() {
  local out bin
  out="$TEP_PLUGIN_DIR/.build-$(tep_version)"
  bin="$out/test-engine-pytest"
  if [ ! -x "$bin" ]; then
    command -v cmake >/dev/null 2>&1 || { tep_log "cannot build the binary: cmake is not installed (apt-get install cmake gcc pkg-config libcurl4-openssl-dev libcjson-dev libexpat1-dev), or set the plugin's 'binary' option"; return 1; }
    (
      flock 9
      if [ ! -x "$bin" ]; then
        tep_log "building test-engine-pytest $(tep_version) from the plugin source (once per version)"
        cmake -S "$TEP_PLUGIN_DIR" -B "$out" -DCMAKE_BUILD_TYPE=Release -DTEP_TESTS=OFF >&2 &&
          cmake --build "$out" --target test-engine-pytest -j "$(nproc 2>/dev/null || echo 2)" >&2
      fi
    ) 9>"$TEP_PLUGIN_DIR/.build.lock" || { tep_log "building the binary failed; see the output above"; return 1; }
  fi
  printf '%s\n' "$bin"
}

# Prints the binary to use: the 'binary' option, else PATH, else a build.
tep_find_binary() {
  local option="${BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_BINARY:-}"
  if [ -n "$option" ]; then
    [ -x "$option" ] || { tep_log "option 'binary': $option is not an executable file"; return 1; }
    printf '%s\n' "$option"
  elif command -v test-engine-pytest >/dev/null 2>&1; then
    command -v test-engine-pytest
  else
    tep_build_from_source
  fi
}
