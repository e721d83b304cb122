#!/usr/bin/env bash
# Plays the docker / docker-compose plugin's command phase without docker: the
# command runs in a private mount namespace where the checkout is bind-mounted
# at another path (like /workdir), with ONLY the job's original environment
# (what the docker plugin's propagate-environment passes: BUILDKITE_ENV_FILE)
# and the image's PATH. Like the docker plugin, it takes the variable NAMES
# from the env file and their values from the current environment. Nothing
# that pre-command exported is there: not its PATH entry, no
# BUILDKITE_PLUGIN_CONFIGURATION, no token.
#
# Usage (as a step command, from the checkout, as root):
#   container_run.sh --image-bin DIR COMMAND [ARGS...]
# DIR plays the image's preinstalled binaries (test-engine-pytest from the .deb).
set -euo pipefail
[ "${1:-}" = --image-bin ] || { echo "usage: container_run.sh --image-bin DIR COMMAND..." >&2; exit 2; }
image_bin=$2
shift 2
env_file=${BUILDKITE_ENV_FILE:?the agent sets BUILDKITE_ENV_FILE; run this as a step command}
root=$(mktemp -d /tmp/tep-container-XXXXXX)
mkdir -p "$root/workdir"
vars=()
while IFS= read -r line || [ -n "$line" ]; do
  name=${line%%=*}
  [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
  case "$name" in PATH | HOME) continue ;; esac
  [ -n "${!name+set}" ] && vars+=("$name=${!name}")
done < "$env_file"
vars+=("PATH=$image_bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "HOME=/root")
status=0
# shellcheck disable=SC2016
unshare -m --propagation private bash -c '
  mount --bind "$1" "$2" || exit 125
  cd "$2"
  shift 2
  exec "$@"' _ "$PWD" "$root/workdir" env -i "${vars[@]}" "$@" || status=$?
rmdir "$root/workdir" "$root" 2>/dev/null || true
exit "$status"
