#!/usr/bin/env bash
# Plays Buildkite for one build of a parallel step using this plugin: starts
# the stand-in Test Engine (HTTPS, certificate made now), a buildkite-agent
# stub, and runs the plugin's hooks for each job. Used by the demo.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JOBS=${JOBS:-3}
PROJECT=${PROJECT:-$ROOT/fixtures/shop}
work=$(mktemp -d /tmp/tep-demo-XXXXXX)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$ROOT/tests/support/make_certs.sh" "$work/certs"
mkdir -p "$work/server" "$work/agent/bin" "$work/flaky"
/usr/bin/python3 "$ROOT/tests/support/te_server.py" --dir "$work/server" \
  --cert "$work/certs/server.pem" --key "$work/certs/server.key" &
server_pid=$!
for _ in $(seq 1 100); do [ -f "$work/server/port" ] && break; sleep 0.05; done
url="https://127.0.0.1:$(cat "$work/server/port")"
ln -s "$ROOT/tests/support/buildkite-agent-stub" "$work/agent/bin/buildkite-agent"
cp -a "$PROJECT/." "$work/checkout/" 2>/dev/null || { mkdir -p "$work/checkout"; cp -a "$PROJECT/." "$work/checkout/"; }

export PATH="$work/agent/bin:$ROOT/build:$PATH" AGENT_DIR="$work/agent" TEP_FLAKY_DIR="$work/flaky"
export BUILDKITE_ORGANIZATION_SLUG=acme BUILDKITE_BUILD_ID="demo-build-$$" BUILDKITE_STEP_ID=step-tests
export BUILDKITE_BRANCH=main BUILDKITE_COMMIT=0123abc BUILDKITE_BUILD_NUMBER=42 BUILDKITE_MESSAGE="Demo build"
export BUILDKITE_BUILD_URL="https://buildkite.localhost/acme/shop/builds/42" BUILDKITE_LABEL=":pytest: tests"
export BUILDKITE_PARALLEL_JOB_COUNT=$JOBS BUILDKITE_TEST_ENGINE_SUITE_SLUG=shop
export BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN="demo-api-token" BUILDKITE_ANALYTICS_TOKEN="demo-upload-token"
export BUILDKITE_TEST_ENGINE_BASE_URL="$url" BUILDKITE_TEST_ENGINE_UPLOAD_BASE_URL="$url"
export BUILDKITE_TEST_ENGINE_CA_BUNDLE="$work/certs/ca.pem"
export BUILDKITE_PLUGIN_CONFIGURATION='{"test-cmd": "/usr/bin/python3 -m pytest -p tep_collector {{testExamples}} --json={{resultPath}}", "retry-count": 0}'
export PYTHONPATH="$ROOT/tests/support${PYTHONPATH:+:$PYTHONPATH}"

run_job() { # run_job INDEX RETRY
  export BUILDKITE_PARALLEL_JOB=$1 BUILDKITE_RETRY_COUNT=$2 BUILDKITE_JOB_ID="job-$1-try-$2"
  export BUILDKITE_TEST_ENGINE_STATE_DIR="$work/state-$1-$2"
  echo
  echo "=================== job $1 (Buildkite retry $2) ==================="
  local status=0
  if [ -x "$ROOT/hooks/command" ]; then
    (cd "$work/checkout" && set +e
     source "$ROOT/hooks/pre-command" && { bash "$ROOT/hooks/command"; s=$?; export BUILDKITE_COMMAND_EXIT_STATUS=$s;
       bash "$ROOT/hooks/post-command"; exit $s; }) || status=$?
  else
    (cd "$work/checkout" && test-engine-pytest plan) || status=$?
  fi
  echo "job $1 (retry $2) exit status: $status"
  return 0
}

for j in $(seq 0 $((JOBS - 1))); do run_job "$j" 0; done
echo
echo "Requests the stand-in Test Engine received:"
/usr/bin/python3 - "$work/server/requests.jsonl" <<'PY'
import collections, json, sys
c = collections.Counter()
for line in open(sys.argv[1]):
    r = json.loads(line)
    c[f'{r["method"]} {r["path"].split("/suites/")[-1] if "/suites/" in r["path"] else r["path"]}'] += 1
for k, v in sorted(c.items()):
    print(f"  {v:3d} x {k}")
PY
