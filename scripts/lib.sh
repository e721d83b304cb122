# Shared by scripts/test and scripts/demo: install missing Debian packages and
# build. Sourced, not run.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PACKAGES=(build-essential clang cmake clang-format pkg-config libcurl4-openssl-dev libcjson-dev libexpat1-dev libcmocka-dev
          bats bats-assert bats-support shellcheck python3 python3-pytest python3-pytest-xdist
          python3-pytest-rerunfailures python3-venv python3-mpmath
          python3-yaml python3-jsonschema python3-networkx openssl git cmark-gfm curl wget strace
          chromium fonts-noto-color-emoji)

ensure_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "--- installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# build DIR [cmake args...]: configure (warnings are errors: TEP_WERROR, which a
# user's build leaves off) and compile.
build() {
  local dir=$1
  shift
  cmake -S "$ROOT" -B "$ROOT/$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEP_WERROR=ON "$@" >/dev/null
  cmake --build "$ROOT/$dir" -j"$(nproc)" >/dev/null
}
