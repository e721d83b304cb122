#!/usr/bin/env bats
# Where the hooks get the binary when no 'binary' option and no binary of this
# version on PATH: the release archive for this version and architecture,
# downloaded over real HTTPS from the local stand-in (test CA passed with the
# ca-bundle option, as a user with a private CA does), checked against the
# SHA-256 this plugin checkout carries, and only then a build from source. And
# the cache it all lives in: private, refused when someone else could write it.

load '../support/helpers'

setup() {
  VERSION=$(sed -n 's/^project(test_engine_pytest VERSION \([0-9.]*\).*/\1/p' "$TEP_SOURCE_DIR/CMakeLists.txt")
  case $(uname -m) in aarch64 | arm64) ARCH=aarch64 ;; *) ARCH=x86_64 ;; esac
  NAME="test-engine-pytest-$VERSION-linux-$ARCH"
  # The plugin as the agent checks it out.
  PLUGIN="$BATS_TEST_TMPDIR/plugin"
  mkdir -p "$PLUGIN"
  cp -a "$TEP_SOURCE_DIR/hooks" "$TEP_SOURCE_DIR/lib" "$TEP_SOURCE_DIR/src" "$TEP_SOURCE_DIR/cmake" "$TEP_SOURCE_DIR/CMakeLists.txt" "$PLUGIN/"
  # A host with no test-engine-pytest on PATH; the job's checkout.
  export STUB_LOG="$BATS_TEST_TMPDIR/calls" BUILDKITE_JOB_ID="job-cache-$$" BUILDKITE_PLUGIN_NAME=TEST_ENGINE_PYTEST
  export TEP_CACHE_DIR="$BATS_TEST_TMPDIR/cache"
  unset BUILDKITE_TEST_ENGINE_STATE_DIR BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_BINARY BUILDKITE_PLUGIN_CONFIGURATION
  unset BUILDKITE_TEST_ENGINE_CA_BUNDLE BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_RELEASE_URL SSL_CERT_FILE SSL_CERT_DIR
  mkdir -p "$BATS_TEST_TMPDIR/checkout"
  cd "$BATS_TEST_TMPDIR/checkout"
}

teardown() { stop_server; }

# stub_binary FILE WORD: a stand-in test-engine-pytest that logs "WORD subcommand".
stub_binary() {
  cat >"$1" <<SH
#!/usr/bin/env bash
[ "\$1" = --version ] && { echo "test-engine-pytest \${STUB_VERSION:-$VERSION}"; exit 0; }
echo "$2 \$1" >> "\$STUB_LOG"
echo "\$1 SSL_CERT_FILE=\${SSL_CERT_FILE-unset}" >> "\$STUB_LOG.env"
SH
  chmod 755 "$1"
}

# release_archive [WORD]: the release archive in the stand-in's files/, its
# SHA-256 in the plugin checkout's SHA256SUMS (as scripts/release leaves them).
release_archive() {
  local top="$BATS_TEST_TMPDIR/archive/$NAME"
  mkdir -p "$top/bin" "$SERVER_DIR/files/v$VERSION"
  stub_binary "$top/bin/test-engine-pytest" "${1:-release}"
  tar -czf "$SERVER_DIR/files/v$VERSION/$NAME.tar.gz" -C "$BATS_TEST_TMPDIR/archive" "$NAME"
  (cd "$SERVER_DIR/files/v$VERSION" && sha256sum "$NAME.tar.gz") >"$PLUGIN/SHA256SUMS"
  export BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_RELEASE_URL="$SERVER_URL/files/v{version}"
  export BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_CA_BUNDLE="$CERTS/ca.pem"
}

# fake_build_tools: a cmake whose "build" is a stand-in binary (a real build
# is tested in hooks.bats), so the fallback to building is quick to see.
fake_build_tools() {
  mkdir -p "$BATS_TEST_TMPDIR/tools"
  stub_binary "$BATS_TEST_TMPDIR/built" built
  cat >"$BATS_TEST_TMPDIR/tools/cmake" <<SH
#!/bin/sh
case "\$1" in --build) cp "$BATS_TEST_TMPDIR/built" "\$2/test-engine-pytest" ;; -S) mkdir -p "\$4" ;; esac
SH
  chmod +x "$BATS_TEST_TMPDIR/tools/cmake"
  export PATH="$BATS_TEST_TMPDIR/tools:$PATH"
}

hook() { "$PLUGIN/hooks/$1"; }

@test "no binary anywhere: the release archive is downloaded over HTTPS, checked, cached, and used by every phase" {
  start_server
  release_archive
  run hook pre-command
  assert_success
  assert_output --partial "downloaded test-engine-pytest $VERSION ($ARCH)"
  assert_output --partial "SHA-256 verified (cached in $TEP_CACHE_DIR/$VERSION-linux-$ARCH)"
  assert_equal "$(requests_to "/$NAME.tar.gz")" 1
  # The step's command finds it first on PATH; later jobs use the cache, no download.
  run bash -c "source '$PLUGIN/hooks/pre-command' && command -v test-engine-pytest"
  assert_output --partial "$TEP_CACHE_DIR/$VERSION-linux-$ARCH/bin/test-engine-pytest"
  hook post-command
  hook pre-exit
  assert_equal "$(requests_to "/$NAME.tar.gz")" 1
  assert_equal "$(cut -d' ' -f2 "$STUB_LOG" | tr '\n' ' ')" "plan plan report cleanup "
  assert_equal "$(cut -d' ' -f1 "$STUB_LOG" | sort -u)" "release"
  # The cache is private.
  assert_equal "$(stat -c %a "$TEP_CACHE_DIR")" 700
  # The release binary's own OpenSSL is told where this host's CA bundle is
  # (for its command only), unless the user said so already.
  assert_equal "$(grep -c "^plan SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt$" "$STUB_LOG.env")" 2
  SSL_CERT_FILE=/mine.pem hook post-command
  assert_equal "$(tail -n1 "$STUB_LOG.env")" "report SSL_CERT_FILE=/mine.pem"
}

@test "a corrupted archive is refused in one line and the hooks build from source instead" {
  start_server
  release_archive
  fake_build_tools
  printf 'tampered' >>"$SERVER_DIR/files/v$VERSION/$NAME.tar.gz"
  run hook pre-command
  assert_success
  assert_output --regexp "the archive from $SERVER_URL/files/v$VERSION/$NAME.tar.gz has SHA-256 [0-9a-f]{64}, but this plugin checkout expects [0-9a-f]{64} \(SHA256SUMS\); not using it, building from source instead"
  assert_output --partial "built test-engine-pytest $VERSION"
  assert_equal "$(cat "$STUB_LOG")" "built plan"
  [ ! -e "$TEP_CACHE_DIR/$VERSION-linux-$ARCH" ]
  # Nothing of the refused download is left behind.
  run ls -A "$TEP_CACHE_DIR"
  refute_output --partial ".download"
}

@test "an unreachable release URL, a missing file and an untrusted certificate each say so in one line, then build" {
  start_server
  release_archive
  fake_build_tools
  closed=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  export BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_RELEASE_URL="https://127.0.0.1:$closed/v{version}"
  run hook pre-command
  assert_success
  assert_output --regexp "downloading https://127.0.0.1:$closed/v$VERSION/$NAME.tar.gz failed \(curl: \([0-9]+\) [^)]*\); building from source instead"
  assert_output --partial "built test-engine-pytest $VERSION"
  # A 404 (the release has no archive for this architecture).
  rm -rf "$TEP_CACHE_DIR"
  export BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_RELEASE_URL="$SERVER_URL/files/nowhere"
  run hook pre-command
  assert_output --partial "downloading $SERVER_URL/files/nowhere/$NAME.tar.gz failed (curl: (22)"
  assert_output --partial "built test-engine-pytest"
  # Without the private CA, TLS verification refuses the stand-in (it is never turned off).
  rm -rf "$TEP_CACHE_DIR"
  export BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_RELEASE_URL="$SERVER_URL/files/v{version}"
  unset BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_CA_BUNDLE BUILDKITE_TEST_ENGINE_CA_BUNDLE
  before=$(requests_to "/$NAME.tar.gz")
  run hook pre-command
  assert_output --partial "downloading $SERVER_URL/files/v$VERSION/$NAME.tar.gz failed (curl: (60)"
  assert_equal "$(requests_to "/$NAME.tar.gz")" "$before"
  # The CA from the environment variable the binary reads works too.
  rm -rf "$TEP_CACHE_DIR"
  BUILDKITE_TEST_ENGINE_CA_BUNDLE="$CERTS/ca.pem" run hook pre-command
  assert_output --partial "SHA-256 verified"
  # An http:// URL is refused before any request.
  rm -rf "$TEP_CACHE_DIR"
  export BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_RELEASE_URL="http://127.0.0.1:$closed/v{version}"
  run hook pre-command
  assert_output --partial "option 'release-url': http://127.0.0.1:$closed/v$VERSION/$NAME.tar.gz is not an https:// URL; building from source instead"
}

@test "with wget only, the download works the same; with neither curl nor wget the hooks say so and build" {
  start_server
  release_archive
  # A host without curl: only the tools the hooks use, and wget.
  mkdir -p "$BATS_TEST_TMPDIR/bin"
  for t in bash env sh cat cp mv rm mkdir mktemp ln stat sha256sum tar gzip flock wget chmod find sort xargs nproc tail; do
    ln -s "$(command -v "$t")" "$BATS_TEST_TMPDIR/bin/$t"
  done
  PATH="$BATS_TEST_TMPDIR/bin" run hook pre-command
  assert_success
  assert_output --partial "SHA-256 verified"
  assert_equal "$(cat "$STUB_LOG")" "release plan"
  rm -rf "$TEP_CACHE_DIR" "$BATS_TEST_TMPDIR/bin/wget"
  PATH="$BATS_TEST_TMPDIR/bin" run hook pre-command
  assert_failure 78
  assert_output --partial "cannot download $SERVER_URL/files/v$VERSION/$NAME.tar.gz: neither curl nor wget is installed; building from source instead"
  assert_output --partial "cannot build test-engine-pytest: cmake cc pkg-config not installed"
}

@test "a binary that does not run here, or a checkout without a checksum for it, is not used" {
  start_server
  STUB_VERSION=9.9.9 release_archive
  fake_build_tools
  # The archive's binary says another version (as one that cannot run here fails).
  sed -i "s/\${STUB_VERSION:-$VERSION}/9.9.9/" "$BATS_TEST_TMPDIR/archive/$NAME/bin/test-engine-pytest"
  tar -czf "$SERVER_DIR/files/v$VERSION/$NAME.tar.gz" -C "$BATS_TEST_TMPDIR/archive" "$NAME"
  (cd "$SERVER_DIR/files/v$VERSION" && sha256sum "$NAME.tar.gz") >"$PLUGIN/SHA256SUMS"
  run hook pre-command
  assert_output --partial "the downloaded test-engine-pytest does not run here (test-engine-pytest 9.9.9); building from source instead"
  assert_equal "$(cat "$STUB_LOG")" "built plan"
  # A development checkout carries no checksum for its version: no download at all.
  rm -rf "$TEP_CACHE_DIR" "$STUB_LOG"
  rm "$PLUGIN/SHA256SUMS"
  run hook pre-command
  assert_success
  assert_equal "$(requests_to "/$NAME.tar.gz")" 1
  assert_equal "$(cat "$STUB_LOG")" "built plan"
}

@test "two jobs starting at once download once; pre-exit never downloads" {
  start_server
  release_archive
  hook pre-exit
  assert_equal "$(requests_to "/$NAME.tar.gz")" 0
  [ ! -e "$STUB_LOG" ]
  pids=()
  for n in 1 2; do
    (BUILDKITE_JOB_ID="job-$n-$$" hook pre-command >"$BATS_TEST_TMPDIR/job-$n.log" 2>&1) &
    pids+=($!)
  done
  wait "${pids[@]}"
  assert_equal "$(cat "$BATS_TEST_TMPDIR"/job-*.log | grep -c 'downloaded test-engine-pytest')" 1
  assert_equal "$(requests_to "/$NAME.tar.gz")" 1
  assert_equal "$(cat "$STUB_LOG")" "release plan
release plan"
}

@test "with HOME unset the cache is a private folder of our own, not /tmp/.cache; one someone else made is refused" {
  start_server
  release_archive
  unset TEP_CACHE_DIR XDG_CACHE_HOME
  export TMPDIR="$BATS_TEST_TMPDIR/tmp"
  mkdir -p "$TMPDIR"
  chmod 1777 "$TMPDIR"
  run env -u HOME "$PLUGIN/hooks/pre-command"
  assert_success
  assert_output --partial "cached in $TMPDIR/test-engine-pytest-$EUID/$VERSION-linux-$ARCH"
  assert_equal "$(stat -c '%u %a' "$TMPDIR/test-engine-pytest-$EUID")" "$EUID 700"
  # Another user made the folder first (here: uid 4242), or a symlink to elsewhere.
  rm -rf "$TMPDIR/test-engine-pytest-$EUID"
  mkdir -m 700 "$TMPDIR/test-engine-pytest-$EUID"
  chown 4242 "$TMPDIR/test-engine-pytest-$EUID"
  run env -u HOME "$PLUGIN/hooks/pre-command"
  assert_failure 78
  assert_output --partial "refusing $TMPDIR/test-engine-pytest-$EUID: it is owned by uid 4242, not by this user (uid $EUID)"
  rm -rf "$TMPDIR/test-engine-pytest-$EUID"
  mkdir "$BATS_TEST_TMPDIR/elsewhere"
  ln -s "$BATS_TEST_TMPDIR/elsewhere" "$TMPDIR/test-engine-pytest-$EUID"
  run env -u HOME "$PLUGIN/hooks/pre-command"
  assert_failure 78
  assert_output --partial "refusing $TMPDIR/test-engine-pytest-$EUID: it is a symlink"
  assert_equal "$(ls -A "$BATS_TEST_TMPDIR/elsewhere")" ""
  [ ! -e "$STUB_LOG" ] || assert_equal "$(cat "$STUB_LOG")" "release plan"
}

@test "a cache folder or binary owned by someone else, or writable by group or others, is refused in one line" {
  start_server
  release_archive
  hook pre-command
  bin="$TEP_CACHE_DIR/$VERSION-linux-$ARCH/bin/test-engine-pytest"
  [ -x "$bin" ]
  # check PATH CHANGE: after CHANGE, every hook refuses the cache and runs nothing.
  check() {
    : >"$STUB_LOG"
    run hook pre-command
    assert_failure 78
    assert_output --partial "refusing $1: $2"
    run hook post-command
    assert_success
    assert_output --partial "refusing $1: $2"
    assert_output --partial "no binary, nothing reported"
    run hook pre-exit
    assert_success
    assert_equal "$(cat "$STUB_LOG")" ""
  }
  chmod o+w "$TEP_CACHE_DIR"
  check "$TEP_CACHE_DIR" "it is writable by group or others (mode 702)"
  chmod o-w "$TEP_CACHE_DIR"
  chown 4242 "$TEP_CACHE_DIR"
  check "$TEP_CACHE_DIR" "it is owned by uid 4242, not by this user (uid $EUID)"
  chown "$EUID" "$TEP_CACHE_DIR"
  chmod g+w "$bin"
  check "$bin" "it is writable by group or others (mode 775)"
  chmod g-w "$bin"
  chown 4242 "$bin"
  check "$bin" "it is owned by uid 4242, not by this user (uid $EUID)"
  chown "$EUID" "$bin"
  chmod o+w "${bin%/*}"
  check "${bin%/*}" "it is writable by group or others"
  chmod o-w "${bin%/*}"
  # Put right, the cache is used again.
  run hook pre-command
  assert_success
  assert_equal "$(cat "$STUB_LOG")" "release plan"
}

@test "a build from source is cached privately too, and a planted build is refused" {
  fake_build_tools
  export BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_RELEASE_URL=none
  run hook pre-command
  assert_success
  assert_output --partial "built test-engine-pytest $VERSION"
  assert_equal "$(cat "$STUB_LOG.env")" "plan SSL_CERT_FILE=unset"
  bin=$(ls "$TEP_CACHE_DIR"/"$VERSION"-*/bin/test-engine-pytest)
  chown 4242 "$bin"
  run hook pre-command
  assert_failure 78
  assert_output --partial "refusing $bin: it is owned by uid 4242"
  # The build's folder, writable by others, is refused too; put right, used again.
  chown "$EUID" "$bin"
  chmod o+w "${bin%/*}"
  run hook pre-command
  assert_failure 78
  assert_output --partial "refusing ${bin%/*}: it is writable by group or others"
  chmod o-w "${bin%/*}"
  run hook pre-command
  assert_success
  refute_output --partial "built test-engine-pytest"
}

@test "the plugin source is hashed once per checkout, and again only when it changes" {
  fake_build_tools
  export BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_RELEASE_URL=none
  hook pre-command
  first=$(ls "$TEP_CACHE_DIR" | grep -E "^$VERSION-[0-9a-f]{12}$")
  # Later jobs do not run sha256sum: a sha256sum that fails would show.
  mkdir -p "$BATS_TEST_TMPDIR/nohash"
  printf '#!/bin/sh\necho "sha256sum ran" >&2; exit 1\n' >"$BATS_TEST_TMPDIR/nohash/sha256sum"
  chmod +x "$BATS_TEST_TMPDIR/nohash/sha256sum"
  PATH="$BATS_TEST_TMPDIR/nohash:$PATH" run hook pre-command
  assert_success
  refute_output --partial "sha256sum ran"
  # A changed source file (an updated checkout) gets a new hash and a new build.
  echo "/* changed */" >>"$PLUGIN/src/cmd/main.c"
  run hook pre-command
  assert_success
  assert_output --partial "built test-engine-pytest"
  assert_equal "$(ls "$TEP_CACHE_DIR" | grep -cE "^$VERSION-[0-9a-f]{12}$")" 2
  refute_output --partial "$first"
}

@test "a cached build from source costs each hook one stat, like a release binary: no hashing, no other helper" {
  fake_build_tools
  export BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_RELEASE_URL=none
  hook pre-command
  # Every program the hooks could run, first on PATH: each logs its name, then runs.
  spy="$BATS_TEST_TMPDIR/spy"
  mkdir -p "$spy"
  for t in stat find sha256sum sort xargs mkdir mktemp mv rm cat cp ln flock nproc tail chmod cmake cc pkg-config \
    curl wget tar env; do
    real=$(command -v "$t") || continue
    printf '#!/bin/sh\necho %s >>"%s"\nexec "%s" "$@"\n' "$t" "$BATS_TEST_TMPDIR/ran" "$real" >"$spy/$t"
    chmod +x "$spy/$t"
  done
  for h in pre-command post-command pre-exit; do
    : >"$BATS_TEST_TMPDIR/ran"
    PATH="$spy:$PATH" run hook "$h"
    assert_success
    assert_equal "$(cat "$BATS_TEST_TMPDIR/ran")" "stat"
  done
  assert_equal "$(cut -d' ' -f2 "$STUB_LOG" | tr '\n' ' ')" "plan plan report cleanup "
}

@test "a source change is seen by its change time: same size, modification time put back, or under cmake/" {
  fake_build_tools
  export BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_RELEASE_URL=none
  hook pre-command
  # Change times are whole seconds: the change comes in a later one.
  sleep 1.1
  f="$PLUGIN/src/cmd/main.c"
  when=$(stat -c %y "$f")
  size=$(stat -c %s "$f")
  # One byte rewritten in place (same inode, same size), the old modification time put back.
  printf 'X' | dd of="$f" bs=1 count=1 conv=notrunc status=none
  touch -d "$when" "$f"
  assert_equal "$(stat -c '%y %s' "$f")" "$when $size"
  run hook pre-command
  assert_success
  assert_output --partial "built test-engine-pytest"
  assert_equal "$(ls "$TEP_CACHE_DIR" | grep -cE "^$VERSION-[0-9a-f]{12}$")" 2
  # Unchanged since: the build is used as it is.
  run hook pre-command
  assert_success
  refute_output --partial "built test-engine-pytest"
  # The CMake files count too.
  echo "# changed" >>"$PLUGIN/cmake/embed.cmake"
  run hook pre-command
  assert_success
  assert_output --partial "built test-engine-pytest"
  assert_equal "$(ls "$TEP_CACHE_DIR" | grep -cE "^$VERSION-[0-9a-f]{12}$")" 3
}
