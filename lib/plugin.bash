# Shared by the hooks. The agent SOURCES hooks through its wrapper script, so
# everything here is a function or a tep_-prefixed variable, nothing changes
# shell options (set -e would leak into the wrapper) and nothing calls exit.
# shellcheck shell=bash

TEP_PLUGIN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

tep_log() { printf 'test-engine-pytest plugin: %s\n' "$*" >&2; }

# tep_option KEY: a plugin option, e.g. tep_option state-dir. The agent exports
# each option as BUILDKITE_PLUGIN_<NAME>_<KEY>, where NAME comes from the
# repository the pipeline names (test-engine-pytest-buildkite-plugin gives
# TEST_ENGINE_PYTEST, a URL ending in test-engine-pytest.git gives
# TEST_ENGINE_PYTEST_GIT) and is in BUILDKITE_PLUGIN_NAME. The JSON in
# BUILDKITE_PLUGIN_CONFIGURATION is the fallback (string options only).
tep_option() {
  local key=$1 var name="${BUILDKITE_PLUGIN_NAME:-TEST_ENGINE_PYTEST}"
  var="BUILDKITE_PLUGIN_${name}_$(printf '%s' "$key" | tr 'a-z-' 'A-Z_')"
  if [ -n "${!var:-}" ]; then
    printf '%s\n' "${!var}"
    return 0
  fi
  local json="${BUILDKITE_PLUGIN_CONFIGURATION:-}" re
  re="\"$key\"[[:space:]]*:[[:space:]]*\"(([^\"\\\\]|\\\\.)*)\""
  if [[ $json =~ $re ]]; then
    local v=${BASH_REMATCH[1]}
    v=${v//\\\//\/}
    v=${v//\\\"/\"}
    printf '%s\n' "${v//\\\\/\\}"
  fi
}

tep_version() {
  sed -n 's/^project(test_engine_pytest VERSION \([0-9.]*\).*/\1/p' "$TEP_PLUGIN_DIR/CMakeLists.txt"
}

# Builds are shared by every checkout of the plugin on the host (the agent
# checks plugins out once per worker, ephemeral agents once per job), keyed by
# the version and the source itself.
tep_cache_dir() {
  printf '%s\n' "${TEP_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/test-engine-pytest}"
}

tep_build_key() {
  local hash
  hash=$(cd "$TEP_PLUGIN_DIR" && find src cmake CMakeLists.txt -type f \( -name '*.[ch]' -o -name '*.py' -o -name '*.cmake' -o -name CMakeLists.txt \) |
    LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-12)
  printf '%s-%s\n' "$(tep_version)" "$hash"
}

tep_missing_build_tools() {
  local missing="" tool
  for tool in cmake cc pkg-config; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
  done
  printf '%s' "${missing# }"
}

# tep_build DEST: configures and compiles into DEST/bin, the log in DEST.log.
# Quiet on success (one line); on failure the log's tail and where it is.
tep_build() {
  local dest=$1 tmp="$1.tmp.$$" started=$SECONDS
  rm -rf "$tmp"
  mkdir -p "$tmp/bin"
  if cmake -S "$TEP_PLUGIN_DIR" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release -DTEP_TESTS=OFF >"$dest.log" 2>&1 &&
    cmake --build "$tmp/build" --target test-engine-pytest -j "$(nproc 2>/dev/null || echo 2)" >>"$dest.log" 2>&1 &&
    cp "$tmp/build/test-engine-pytest" "$tmp/bin/"; then
    rm -rf "$tmp/build" "$dest"
    mv "$tmp" "$dest"
    tep_log "built test-engine-pytest $(tep_version) in $((SECONDS - started)) s (cached in $dest)"
    return 0
  fi
  tail -n 40 "$dest.log" >&2
  tep_log "building test-engine-pytest failed; the full log is $dest.log. Install the build requirements (see the README) or set the plugin's 'binary' option"
  rm -rf "$tmp"
  return 1
}

# Prints the cached binary for this plugin version, building it once per host
# under a lock (concurrent jobs wait, then find it built). NO_BUILD=1: only
# look (pre-exit must never start a build).
tep_cached_binary() {
  local cache key bin missing
  cache=$(tep_cache_dir)
  key=$(tep_build_key)
  bin="$cache/$key/bin/test-engine-pytest"
  if [ ! -x "$bin" ]; then
    [ "${NO_BUILD:-0}" = 1 ] && return 1
    missing=$(tep_missing_build_tools)
    if [ -n "$missing" ]; then
      tep_log "cannot build test-engine-pytest: $missing not installed (Debian/Ubuntu: apt-get install cmake gcc pkg-config libcurl4-openssl-dev libcjson-dev libexpat1-dev), or install the .deb, or set the plugin's 'binary' option"
      return 1
    fi
    mkdir -p "$cache" || { tep_log "cannot create the build cache $cache; set TEP_CACHE_DIR"; return 1; }
    (
      flock 9
      [ -x "$bin" ] || tep_build "$cache/$key"
    ) 9>"$cache/$key.lock" || return 1
  fi
  printf '%s\n' "$bin"
}

tep_binary_version() { "$1" --version 2>/dev/null | sed -n 's/^test-engine-pytest //p'; }

# Prints the binary to use: the 'binary' option, else one on PATH of this very
# version, else the plugin's own build. A binary of another version on PATH is
# refused: hooks and binary must agree on the state they hand over.
tep_find_binary() {
  local option found version want
  want=$(tep_version)
  option=$(tep_option binary)
  if [ -n "$option" ]; then
    [ -x "$option" ] || { tep_log "option 'binary': $option is not an executable file"; return 1; }
    version=$(tep_binary_version "$option")
    [ "$version" = "$want" ] || tep_log "option 'binary': $option is version ${version:-unknown}, this plugin is $want; using it as you asked"
    printf '%s\n' "$option"
    return 0
  fi
  found=$(command -v test-engine-pytest 2>/dev/null)
  if [ -n "$found" ]; then
    version=$(tep_binary_version "$found")
    if [ "$version" = "$want" ]; then
      printf '%s\n' "$found"
      return 0
    fi
    [ "${NO_BUILD:-0}" = 1 ] || tep_log "ignoring $found (version ${version:-unknown}): this plugin is version $want; using the plugin's own build"
  fi
  tep_cached_binary
}

# Puts the chosen binary first on PATH for the step's command (a symlink in a
# folder of its own, so nothing else from the binary's folder comes along).
tep_export_path() {
  local bin=$1 dir
  dir="$(tep_cache_dir)/path/$(printf '%s' "$bin" | sha256sum | cut -c1-12)"
  if [ "$(readlink "$dir/test-engine-pytest" 2>/dev/null)" != "$bin" ]; then
    mkdir -p "$dir" && ln -sfn "$bin" "$dir/test-engine-pytest" || return 1
  fi
  export PATH="$dir:$PATH"
}

# A state-dir plugin option must reach the command phase too, which does not
# see plugin options: pass it on as the variable.
tep_export_state_dir() {
  local dir
  dir=$(tep_option state-dir)
  if [ -n "$dir" ] && [ -z "${BUILDKITE_TEST_ENGINE_STATE_DIR:-}" ]; then
    export BUILDKITE_TEST_ENGINE_STATE_DIR="$dir"
  fi
}
