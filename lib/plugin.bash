# Shared by the hooks. The agent SOURCES hooks through its wrapper script, so
# everything here is a function or a tep_-prefixed variable, nothing changes
# shell options (set -e would leak into the wrapper) and nothing calls exit.
# The shell that sources us may have errexit and nounset on: every failure is
# caught by name and no unset variable is expanded bare.
#
# Cost: the hooks run in every job, so the common path (a binary already
# cached, preinstalled or given) uses bash builtins and one `stat` (the
# cache's owner and mode; for a build from source the same `stat` also gives
# the sources' change times, see tep_cached_build), or one `--version` for a
# binary found on PATH or given: no other process or subshell, no hashing of
# the plugin source (that happens once per plugin checkout, see
# tep_source_key), no sed/tr/cut/dirname. A command substitution that runs one
# program says `exec`: with a redirection (2>&1) bash would otherwise fork a
# subshell that forks again.
# shellcheck shell=bash
# Folders are made with mkdir -p -m 700: the last one (in the cache, or the
# cache itself) is private; parents like ~/.cache get the user's umask.
# shellcheck disable=SC2174

tep_here=${BASH_SOURCE[0]}
[[ $tep_here == /* ]] || tep_here=$PWD/$tep_here
TEP_PLUGIN_DIR=${tep_here%/lib/*}
# Release archives and their SHA-256, committed at release time: a download is
# trusted only if it matches what this very checkout carries.
TEP_CHECKSUMS_FILE="$TEP_PLUGIN_DIR/SHA256SUMS"
TEP_DEFAULT_RELEASE_URL='https://github.com/acme/test-engine-pytest-buildkite-plugin/releases/download/v{version}'

tep_log() { printf 'test-engine-pytest plugin: %s\n' "$*" >&2; }

# tep_option KEY: sets tep_value to a plugin option (empty if unset), e.g.
# tep_option state-dir. The agent exports each option as
# BUILDKITE_PLUGIN_<NAME>_<KEY>, where NAME comes from the repository the
# pipeline names (test-engine-pytest-buildkite-plugin gives TEST_ENGINE_PYTEST,
# a URL ending in test-engine-pytest.git gives TEST_ENGINE_PYTEST_GIT) and is in
# BUILDKITE_PLUGIN_NAME. The JSON in BUILDKITE_PLUGIN_CONFIGURATION is the
# fallback (string options only).
tep_option() {
  local key=${1^^} var
  var="BUILDKITE_PLUGIN_${BUILDKITE_PLUGIN_NAME:-TEST_ENGINE_PYTEST}_${key//-/_}"
  tep_value=${!var:-}
  [[ -n $tep_value ]] && return 0
  local json="${BUILDKITE_PLUGIN_CONFIGURATION:-}" re
  re="\"$1\"[[:space:]]*:[[:space:]]*\"(([^\"\\\\]|\\\\.)*)\""
  if [[ $json =~ $re ]]; then
    local v=${BASH_REMATCH[1]}
    v=${v//\\\//\/}
    v=${v//\\\"/\"}
    tep_value=${v//\\\\/\\}
  fi
  return 0
}

# tep_version: sets tep_plugin_version from the project() line of CMakeLists.txt
# (its second line: the read stops there).
tep_version() {
  [[ -n ${tep_plugin_version:-} ]] && return 0
  local line re='^project\(test_engine_pytest VERSION ([0-9.]+)'
  while IFS= read -r line; do
    if [[ $line =~ $re ]]; then
      tep_plugin_version=${BASH_REMATCH[1]}
      return 0
    fi
  done <"$TEP_PLUGIN_DIR/CMakeLists.txt"
  tep_log "cannot read the plugin version from $TEP_PLUGIN_DIR/CMakeLists.txt"
  return 1
}

# tep_arch: sets tep_arch to the release archives' name for this machine
# (bash's own HOSTTYPE: no uname process).
tep_arch() {
  case ${HOSTTYPE:-} in
    x86_64 | amd64) tep_arch=x86_64 ;;
    aarch64 | arm64) tep_arch=aarch64 ;;
    *) tep_arch=${HOSTTYPE:-unknown} ;;
  esac
}

# tep_cache_dir: sets tep_cache, the private per-user cache. TEP_CACHE_DIR, else
# $XDG_CACHE_HOME/test-engine-pytest, else $HOME/.cache/test-engine-pytest.
# Never a shared folder: without HOME it is a folder of our own in TMPDIR
# (/tmp), made mode 700, and refused if someone else made it first or it is a
# symlink (tep_cache_create). The old fallback, /tmp/.cache, let another user
# plant a binary that then received both tokens.
tep_cache_dir() {
  tep_cache_in_tmp=0
  if [[ -n ${TEP_CACHE_DIR:-} ]]; then
    tep_cache=$TEP_CACHE_DIR
  elif [[ ${XDG_CACHE_HOME:-} == /* ]]; then
    tep_cache=$XDG_CACHE_HOME/test-engine-pytest
  elif [[ ${HOME:-} == /?* ]]; then
    tep_cache=$HOME/.cache/test-engine-pytest
  else
    tep_cache=${TMPDIR:-/tmp}/test-engine-pytest-$EUID
    tep_cache_in_tmp=1
  fi
}

# What the cache's and the sources' `stat` says of each path: owner, mode,
# change time, size, name (symlinks followed).
tep_stat_format='%u %a %Z %s %n'

# tep_private PATH...: true if every PATH (symlinks followed) is owned by us and
# not writable by group or others; else says which and why, in one line. One
# `stat` for all of them.
tep_private() {
  local out
  if ! out=$(exec stat -L -c "$tep_stat_format" -- "$@" 2>&1); then
    tep_log "cannot check the owner and mode of the cache (${out%%$'\n'*}); set TEP_CACHE_DIR to a private directory"
    return 1
  fi
  tep_owned "$out"
}

# tep_owned LINES: true if each line (stat's, tep_stat_format) is of a path
# owned by us and not writable by group or others; else says which and why.
# The lines are taken apart in place: `read` from a here-string would read
# its pipe a byte at a time.
tep_owned() {
  local rest=$1$'\n' line uid mode path
  while [[ -n $rest ]]; do
    line=${rest%%$'\n'*}
    rest=${rest:${#line}+1}
    uid=${line%% *}
    line=${line#* }
    mode=${line%% *}
    line=${line#* }
    line=${line#* }
    path=${line#* }
    if [[ $uid != "$EUID" ]]; then
      tep_log "refusing $path: it is owned by uid $uid, not by this user (uid $EUID), so it could hold a planted binary; remove it or set TEP_CACHE_DIR to a private directory"
      return 1
    fi
    if ((8#$mode & 8#022)); then
      tep_log "refusing $path: it is writable by group or others (mode $mode), so it could hold a planted binary; run chmod go-w on it or set TEP_CACHE_DIR to a private directory"
      return 1
    fi
  done
  return 0
}

# tep_cache_create: makes the cache folder (mode 700) if needed and checks it.
tep_cache_create() {
  if [[ $tep_cache_in_tmp == 1 && -L $tep_cache ]]; then
    tep_log "refusing $tep_cache: it is a symlink someone else may have made; set HOME or TEP_CACHE_DIR"
    return 1
  fi
  if [[ ! -d $tep_cache ]] && ! mkdir -p -m 700 -- "$tep_cache"; then
    tep_log "cannot create the cache $tep_cache; set TEP_CACHE_DIR to a private directory"
    return 1
  fi
  tep_private "$tep_cache"
}

# tep_checksum NAME: sets tep_sum to the SHA-256 this checkout carries for the
# release archive NAME; false when it has none (a development checkout).
tep_checksum() {
  local sum name
  tep_sum=
  [[ -f $TEP_CHECKSUMS_FILE ]] || return 1
  while read -r sum name; do
    if [[ $name == "$1" || $name == "*$1" ]]; then
      tep_sum=$sum
      return 0
    fi
  done <"$TEP_CHECKSUMS_FILE"
  return 1
}

# tep_source_stat [PATH...]: sets tep_stat_out to what one `stat`
# (tep_stat_format) says of what a build's signature covers, then of each
# PATH. The signature's part: the top CMakeLists.txt, src and cmake, their
# entries and those of src's folders, named relative to the checkout (a short
# answer: bash's string operations cost by the character) and globbed in the
# command substitution's own shell, after its cd (no test per file: one that
# does not exist, such as an unmatched pattern, is simply missing from the
# answer, the same way every time). A PATH is named as given.
tep_source_stat() {
  tep_stat_out=$(builtin cd -- "$TEP_PLUGIN_DIR" 2>/dev/null &&
    exec stat -L -c "$tep_stat_format" -- CMakeLists.txt src src/* src/*/* cmake cmake/* "$@" 2>/dev/null) || true
}

# tep_stamp_file: sets tep_stamp_path to where this checkout's key and
# signature are remembered (checkouts/<checkout path, escaped>); false when
# that name would be too long (then the sources are hashed every time).
tep_stamp_file() {
  local id=${TEP_PLUGIN_DIR//%/%25}
  id=${id//\//%2F}
  tep_stamp_path="$tep_cache/checkouts/$id"
  ((${#id} <= 200))
}

# tep_read_stamp: sets tep_saved_key and tep_saved_sig from this checkout's
# stamp (tep_stamp_path, see tep_stamp_file): the key of a build of this
# version (<version>-<12 hex digits>) and the sources' signature it was
# computed with; false when there is no such stamp.
tep_read_stamp() {
  local saved
  tep_saved_key='' tep_saved_sig=''
  [[ -f $tep_stamp_path ]] || return 1
  IFS= read -r -d '' saved <"$tep_stamp_path" || true
  tep_saved_key=${saved%%$'\n'*}
  [[ $tep_saved_key == "$tep_plugin_version"-* && ${tep_saved_key#"$tep_plugin_version"-} =~ ^[0-9a-f]{12}$ ]] || return 1
  tep_saved_sig=${saved:${#tep_saved_key}+1}
  [[ -n $tep_saved_sig ]]
}

# tep_cached_build: the common path of a build from source, one process in
# all. The key remembered for this checkout names the build; one `stat`
# (tep_source_stat) of the sources, then of the cache, that build's folders
# and its binary, gives both the sources' change times and the cache's owners
# and modes. 0: the sources are as they were when the key was computed and the
# build is private (tep_key, tep_bin set); 2: they are, but the build is not
# private (said, refused); 1: anything else (no stamp, no build, a source
# changed, stat failed): the caller takes the long way (tep_source_key), which
# checks and says it all again. The answer is taken apart by prefix and
# substring, never by a pattern as long as the signature (bash's ${x#"$sig"}
# takes a third of a second here).
tep_cached_build() {
  local key sig cache=$tep_cache bin out line p owned=""
  tep_stamp_file && tep_read_stamp || return 1
  key=$tep_saved_key sig=$tep_saved_sig
  # the stat runs in the checkout: the cache's paths go to it absolute (a
  # relative TEP_CACHE_DIR is relative to the job's folder)
  [[ $cache == /* ]] || cache=$PWD/$cache
  bin="$cache/$key/bin/test-engine-pytest"
  [[ -x $bin ]] || return 1
  tep_source_stat "$cache" "$cache/$key" "$cache/$key/bin" "$bin"
  [[ $tep_stat_out == "$sig"* ]] || return 1
  # exactly four lines left, the cache's, each of the path asked about (one
  # that failed is missing, a name with a newline splits)
  out=${tep_stat_out:${#sig}}
  for p in "$cache" "$cache/$key" "$cache/$key/bin" "$bin"; do
    line=${out%%$'\n'*}
    [[ ${line#* * * * } == "$p" ]] || return 1
    owned+=$line$'\n'
    out=${out:${#line}+1}
  done
  [[ -z $out ]] || return 1
  tep_owned "${owned%$'\n'}" || return 2
  tep_key=$key
  tep_bin="$tep_cache/$key/bin/test-engine-pytest"
  return 0
}

# tep_source_key: sets tep_key to <version>-<hash of the plugin's C sources>,
# the folder a build from this checkout lives in. The hash is computed once per
# plugin checkout and remembered in the cache with the sources' change times
# (one `stat`); it is computed again only when one of them changed (a checkout
# updated or replaced in place: a change time cannot be carried over by a copy).
# A new hash is written down by tep_save_stamp, once the cache is known private.
# The common path checks the same record in fewer steps (tep_cached_build).
tep_source_key() {
  local sig="" hash stamp_ok=0
  tep_stamp=
  tep_stamp_file && stamp_ok=1
  tep_source_stat
  sig=$tep_stat_out
  if [[ -n $sig && $stamp_ok == 1 ]] && tep_read_stamp && [[ $tep_saved_sig == "$sig"$'\n' ]]; then
    tep_key=$tep_saved_key
    return 0
  fi
  # what the build reads: the C sources, the embedded pytest plugins (src/*.py)
  # and the CMake files
  hash=$(cd "$TEP_PLUGIN_DIR" && find src cmake CMakeLists.txt -type f \( -name '*.[ch]' -o -name '*.py' \
    -o -name '*.cmake' -o -name CMakeLists.txt \) | LC_ALL=C sort | xargs sha256sum | sha256sum) || return 1
  tep_key="$tep_plugin_version-${hash:0:12}"
  if [[ -n $sig && $stamp_ok == 1 ]]; then
    tep_stamp=$tep_stamp_path
    tep_stamp_text="$tep_key"$'\n'"$sig"$'\n'
  fi
  return 0
}

tep_save_stamp() {
  [[ -n ${tep_stamp:-} ]] || return 0
  if mkdir -p -m 700 -- "$tep_cache/checkouts"; then
    local tmp
    # a fresh name (mktemp's O_EXCL), then a rename: never a name chosen in advance
    if tmp=$(mktemp -- "$tep_stamp.XXXXXX"); then
      if ! { printf '%s' "$tep_stamp_text" >"$tmp" && mv -f -- "$tmp" "$tep_stamp"; }; then
        rm -f -- "$tmp"
      fi
    fi
  fi
  tep_stamp=
  return 0
}

tep_missing_build_tools() {
  local missing="" tool
  for tool in cmake cc pkg-config; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
  done
  tep_missing=${missing# }
}

# tep_build DEST: configures and compiles into DEST/bin, the log in DEST.log.
# Quiet on success (one line); on failure the log's tail and where it is.
tep_build() {
  local dest=$1 tmp started=$SECONDS
  # a fresh folder beside DEST (mktemp -d: made exclusively, mode 700), renamed into place
  tmp=$(mktemp -d -- "$dest.build.XXXXXX") || {
    tep_log "cannot make a build folder beside $dest; set the plugin's 'binary' option"
    return 1
  }
  mkdir -p "$tmp/bin"
  if cmake -S "$TEP_PLUGIN_DIR" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release -DTEP_TESTS=OFF >"$dest.log" 2>&1 &&
    cmake --build "$tmp/build" --target test-engine-pytest -j "$(nproc 2>/dev/null || echo 2)" >>"$dest.log" 2>&1 &&
    cp "$tmp/build/test-engine-pytest" "$tmp/bin/"; then
    rm -rf "$tmp/build" "$dest"
    mv "$tmp" "$dest"
    tep_log "built test-engine-pytest $tep_plugin_version in $((SECONDS - started)) s (cached in $dest)"
    return 0
  fi
  tail -n 40 "$dest.log" >&2
  tep_log "building test-engine-pytest failed; the full log is $dest.log. Install the build requirements (see the README) or set the plugin's 'binary' option"
  rm -rf "$tmp"
  return 1
}

# tep_fetch URL FILE: downloads URL (https only, TLS verified, the ca-bundle
# option's CAs if set) with curl, else wget; one line on failure.
tep_fetch() {
  local url=$1 file=$2 ca err=$2.err status=0
  tep_option ca-bundle
  ca=${tep_value:-${BUILDKITE_TEST_ENGINE_CA_BUNDLE:-}}
  if command -v curl >/dev/null 2>&1; then
    curl --fail --silent --show-error --location --proto =https --proto-redir =https \
      --connect-timeout 15 --max-time 300 --retry 2 ${ca:+--cacert "$ca"} -o "$file" -- "$url" 2>"$err" || status=$?
  elif command -v wget >/dev/null 2>&1; then
    local limit=()
    command -v timeout >/dev/null 2>&1 && limit=(timeout 300)
    "${limit[@]}" wget --no-verbose --https-only --timeout=15 --tries=2 ${ca:+--ca-certificate="$ca"} \
      -O "$file" -- "$url" 2>"$err" || status=$?
  else
    tep_log "cannot download $url: neither curl nor wget is installed; building from source instead"
    return 1
  fi
  if [[ $status != 0 ]]; then
    local why=""
    IFS= read -r why <"$err" || true
    tep_log "downloading $url failed (${why:-exit status $status}); building from source instead"
    return 1
  fi
  return 0
}

# tep_download DEST NAME SUM: the release archive NAME from the release-url,
# checked against SUM, unpacked into DEST/bin. A failed download, a checksum
# mismatch or a binary that does not run here is said in one line.
tep_download() {
  local dest=$1 name=$2 sum=$3 url tmp got started=$SECONDS
  tep_option release-url
  url=${tep_value:-$TEP_DEFAULT_RELEASE_URL}
  [[ $url == none ]] && return 1
  url="${url//\{version\}/$tep_plugin_version}/$name"
  if [[ $url != https://* ]]; then
    tep_log "option 'release-url': $url is not an https:// URL; building from source instead"
    return 1
  fi
  tmp=$(mktemp -d "$tep_cache/.download.XXXXXX") || return 1
  if ! tep_fetch "$url" "$tmp/$name"; then
    rm -rf -- "$tmp"
    return 1
  fi
  got=$(sha256sum -- "$tmp/$name") || got=""
  got=${got%% *}
  if [[ $got != "$sum" ]]; then
    tep_log "the archive from $url has SHA-256 ${got:-unknown}, but this plugin checkout expects $sum (SHA256SUMS); not using it, building from source instead"
    rm -rf -- "$tmp"
    return 1
  fi
  local top=${name%.tar.gz} version=""
  mkdir -p "$tmp/x"
  if ! tar -xzf "$tmp/$name" -C "$tmp/x" --no-same-owner 2>"$tmp/err" || [[ ! -x $tmp/x/$top/bin/test-engine-pytest ]]; then
    tep_log "the archive from $url does not hold $top/bin/test-engine-pytest; building from source instead"
    rm -rf -- "$tmp"
    return 1
  fi
  version=$("$tmp/x/$top/bin/test-engine-pytest" --version 2>&1) || true
  if [[ ${version%%$'\n'*} != "test-engine-pytest $tep_plugin_version" ]]; then
    tep_log "the downloaded test-engine-pytest does not run here (${version%%$'\n'*}); building from source instead"
    rm -rf -- "$tmp"
    return 1
  fi
  printf '%s\n' "$sum" >"$tmp/x/$top/archive.sha256"
  rm -rf -- "$dest"
  if ! mv -- "$tmp/x/$top" "$dest"; then
    tep_log "cannot move the downloaded binary into $dest; building from source instead"
    rm -rf -- "$tmp"
    return 1
  fi
  rm -rf -- "$tmp"
  tep_log "downloaded test-engine-pytest $tep_plugin_version ($tep_arch) in $((SECONDS - started)) s, SHA-256 verified (cached in $dest)"
}

# tep_cached_binary: sets tep_bin to this plugin version's binary from the
# cache: the release binary for this architecture (if this checkout carries
# its checksum), else this checkout's own build. Not cached yet: downloads the
# release archive, else builds from source, once per host under a lock
# (concurrent jobs wait, then find it). tep_no_build=1: only look (pre-exit must
# never start a download or a build).
tep_cached_binary() {
  local name="" sum="" dest have
  tep_bin_release=0
  tep_arch
  name="test-engine-pytest-$tep_plugin_version-linux-$tep_arch.tar.gz"
  if tep_checksum "$name"; then
    sum=$tep_sum
    dest="$tep_cache/$tep_plugin_version-linux-$tep_arch"
    tep_bin="$dest/bin/test-engine-pytest"
    if [[ -x $tep_bin && -f $dest/archive.sha256 ]] && IFS= read -r have <"$dest/archive.sha256" && [[ $have == "$sum" ]]; then
      tep_bin_release=1
      tep_private "$tep_cache" "$dest" "$dest/bin" "$tep_bin"
      return
    fi
  fi
  if [[ -d $tep_cache && ! ($tep_cache_in_tmp == 1 && -L $tep_cache) ]]; then
    local status=0
    tep_cached_build || status=$?
    case $status in
      0) return 0 ;;
      2) return 1 ;;
    esac
    tep_source_key || return 1
    tep_bin="$tep_cache/$tep_key/bin/test-engine-pytest"
    if [[ -x $tep_bin ]]; then
      tep_private "$tep_cache" "$tep_cache/$tep_key" "$tep_cache/$tep_key/bin" "$tep_bin" || return 1
      tep_save_stamp
      return 0
    fi
  fi
  [[ ${tep_no_build:-0} == 1 ]] && return 1
  tep_cache_create || return 1
  if [[ -n $sum ]] && tep_install_release "$name" "$sum"; then
    tep_bin_release=1
    return 0
  fi
  tep_source_key || return 1
  tep_bin="$tep_cache/$tep_key/bin/test-engine-pytest"
  tep_missing_build_tools
  if [[ -n $tep_missing ]]; then
    tep_log "cannot build test-engine-pytest: $tep_missing not installed (Debian/Ubuntu: apt-get install cmake gcc pkg-config libcurl4-openssl-dev libcjson-dev libexpat1-dev), or install the .deb, or set the plugin's 'binary' option"
    return 1
  fi
  (
    flock 9
    [[ -x $tep_bin ]] || tep_build "$tep_cache/$tep_key"
  ) 9>"$tep_cache/$tep_key.lock" || return 1
  tep_save_stamp
}

# tep_install_release NAME SUM: downloads the release binary into the cache,
# once per host under a lock; sets tep_bin.
tep_install_release() {
  local dest="$tep_cache/$tep_plugin_version-linux-$tep_arch" have=""
  tep_bin="$dest/bin/test-engine-pytest"
  (
    flock 9
    if [[ -x $tep_bin && -f $dest/archive.sha256 ]] && IFS= read -r have <"$dest/archive.sha256" && [[ $have == "$2" ]]; then
      exit 0
    fi
    tep_download "$dest" "$1" "$2"
  ) 9>"$dest.lock"
}

# tep_which NAME: sets tep_found to the first executable NAME on PATH, as the
# shell would run it (no subshell, unlike $(type -P)).
tep_which() {
  local dir dirs
  tep_found=
  IFS=: read -r -a dirs <<<"${PATH:-}"
  for dir in "${dirs[@]}"; do
    if [[ -f ${dir:-.}/$1 && -x ${dir:-.}/$1 ]]; then
      tep_found=${dir:-.}/$1
      return 0
    fi
  done
  return 1
}

# tep_binary_version FILE: sets tep_found_version to what FILE --version says.
tep_binary_version() {
  tep_found_version=$("$1" --version 2>/dev/null) || true
  tep_found_version=${tep_found_version%%$'\n'*}
  tep_found_version=${tep_found_version#test-engine-pytest }
}

# tep_find_binary: sets tep_bin to the binary to use: the 'binary' option, else
# one on PATH of this very version, else the cached release or build. A binary
# of another version on PATH is refused: hooks and binary must agree on the
# state they hand over. tep_bin_from says which: option, path or cache. (After
# pre-command, PATH starts with the cache's folder: that is the cache's binary,
# checked as such, not asked its version again.)
tep_find_binary() {
  local found
  tep_bin_release=0
  tep_version || return 1
  tep_cache_dir
  tep_option binary
  if [[ -n $tep_value ]]; then
    tep_bin=$tep_value
    tep_bin_from=option
    if [[ ! -f $tep_bin || ! -x $tep_bin ]]; then
      tep_log "option 'binary': $tep_bin is not an executable file"
      return 1
    fi
    tep_binary_version "$tep_bin"
    [[ $tep_found_version == "$tep_plugin_version" ]] ||
      tep_log "option 'binary': $tep_bin is version ${tep_found_version:-unknown}, this plugin is $tep_plugin_version; using it as you asked"
    return 0
  fi
  tep_which test-engine-pytest
  found=$tep_found
  if [[ -n $found && $found != "$tep_cache"/* ]]; then
    tep_binary_version "$found"
    if [[ $tep_found_version == "$tep_plugin_version" ]]; then
      tep_bin=$found
      tep_bin_from=path
      return 0
    fi
    [[ ${tep_no_build:-0} == 1 ]] || tep_log "ignoring $found (version ${tep_found_version:-unknown}): this plugin is version $tep_plugin_version; using the plugin's own build"
  fi
  tep_bin_from=cache
  tep_cached_binary
}

# tep_export_path: puts tep_bin first on PATH for the step's command. One found
# on PATH already is; a cached binary's folder holds nothing else, so it goes
# on PATH as it is; a binary given by the option gets a symlink in a folder of
# its own in the cache (so nothing else from its folder comes along).
tep_export_path() {
  local dir=${tep_bin%/*} id
  case $tep_bin_from in
    path) return 0 ;;
    option)
      tep_cache_create || return 1
      id=${tep_bin//%/%25}
      id=${id//\//%2F}
      if [[ ${#id} -gt 200 ]]; then
        id=$(printf '%s' "$tep_bin" | sha256sum) || return 1
        id=${id:0:16}
      fi
      dir="$tep_cache/path/$id"
      if [[ ! $dir/test-engine-pytest -ef $tep_bin ]]; then
        mkdir -p -m 700 -- "$dir" && ln -sfn -- "$tep_bin" "$dir/test-engine-pytest" || return 1
      fi
      ;;
  esac
  [[ $PATH == "$dir":* ]] || export PATH="$dir:$PATH"
}

# tep_run SUBCOMMAND: runs the binary. A release binary carries its own OpenSSL,
# which looks for CA certificates where Debian keeps them (/usr/lib/ssl) unless
# SSL_CERT_FILE says otherwise: on hosts that keep them elsewhere (or Debian
# without the openssl package) it is told where the system's bundle is, for
# this command only.
tep_run() {
  local f
  if [[ ${tep_bin_release:-0} == 1 && -z ${SSL_CERT_FILE:-} && -z ${SSL_CERT_DIR:-} ]]; then
    for f in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/ca-bundle.pem /etc/ssl/cert.pem; do
      if [[ -f $f ]]; then
        SSL_CERT_FILE=$f "$tep_bin" "$@"
        return
      fi
    done
  fi
  "$tep_bin" "$@"
}

# A state-dir plugin option must reach the command phase too, which does not
# see plugin options: pass it on as the variable.
tep_export_state_dir() {
  tep_option state-dir
  if [[ -n $tep_value && -z ${BUILDKITE_TEST_ENGINE_STATE_DIR:-} ]]; then
    export BUILDKITE_TEST_ENGINE_STATE_DIR="$tep_value"
  fi
}
