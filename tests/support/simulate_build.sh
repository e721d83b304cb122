#!/usr/bin/env bash
# Plays Buildkite for one build of a parallel step that uses this plugin.
#
# Starts the stand-in Test Engine (HTTPS, certificate made now) and a
# buildkite-agent stub, then runs the plugin's hooks for each parallel job the
# way the agent does: pre-command is sourced (its exports carry over), then
# command, then post-command. Afterwards it applies the pipeline's automatic
# retry rules (exit 1: retry, exit 65 and 78: never) and retries those jobs
# with BUILDKITE_RETRY_COUNT=1.
#
# Env: JOBS (3), PROJECT (fixtures/shop), BROKEN=1 adds a file that cannot be
# imported, KEEP_WORK=DIR keeps everything there for inspection.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JOBS=${JOBS:-3}
PROJECT=${PROJECT:-$ROOT/fixtures/shop}
if [ -n "${KEEP_WORK:-}" ]; then work=$KEEP_WORK; mkdir -p "$work"; else work=$(mktemp -d /tmp/tep-demo-XXXXXX); fi
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

"$ROOT/tests/support/make_certs.sh" "$work/certs"
mkdir -p "$work/server" "$work/agent/bin" "$work/flaky" "$work/logs" "$work/checkout"
/usr/bin/python3 "$ROOT/tests/support/te_server.py" --dir "$work/server" \
  --cert "$work/certs/server.pem" --key "$work/certs/server.key" &
server_pid=$!
for _ in $(seq 1 100); do [ -f "$work/server/port" ] && break; sleep 0.05; done
url="https://127.0.0.1:$(cat "$work/server/port")"
ln -sf "$ROOT/tests/support/buildkite-agent-stub" "$work/agent/bin/buildkite-agent"
cp -a "$PROJECT/." "$work/checkout/"
[ "${BROKEN:-0}" = 1 ] && cp "$ROOT/fixtures/collection_errors/test_import_error.py" "$work/checkout/tests/test_import_error.py"

export PATH="$work/agent/bin:$ROOT/build:$PATH" AGENT_DIR="$work/agent" TEP_FLAKY_DIR="$work/flaky"
export BUILDKITE_ORGANIZATION_SLUG=acme BUILDKITE_BUILD_ID="demo-build-$$" BUILDKITE_STEP_ID=step-tests
export BUILDKITE_BRANCH=main BUILDKITE_COMMIT=0123abc BUILDKITE_BUILD_NUMBER=42 BUILDKITE_MESSAGE="Demo build"
export BUILDKITE_BUILD_URL="https://buildkite.localhost/acme/shop/builds/42" BUILDKITE_LABEL=":pytest: tests"
export BUILDKITE_PARALLEL_JOB_COUNT=$JOBS
export BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN="${DEMO_API_TOKEN:-demo-api-token}"
export BUILDKITE_ANALYTICS_TOKEN="${DEMO_UPLOAD_TOKEN:-demo-upload-token}"
export BUILDKITE_TEST_ENGINE_BASE_URL="$url" BUILDKITE_TEST_ENGINE_UPLOAD_BASE_URL="$url"
export BUILDKITE_TEST_ENGINE_CA_BUNDLE="$work/certs/ca.pem"
export BUILDKITE_PLUGIN_CONFIGURATION='{"suite-slug": "shop", "test-cmd": "/usr/bin/python3 -m pytest -p tep_collector -p no:cacheprovider {{testExamples}} --json={{resultPath}}", "retry-count": 0}'
export PYTHONPATH="$ROOT/tests/support" PYTHONDONTWRITEBYTECODE=1
unset BUILDKITE_TEST_ENGINE_STATE_DIR

# run_job INDEX RETRY: one job, its hooks in the agent's order.
run_job() {
  local log="$work/logs/job-$1-try-$2.log" status
  export BUILDKITE_PARALLEL_JOB=$1 BUILDKITE_RETRY_COUNT=$2 BUILDKITE_JOB_ID="job-$1-try-$2"
  export TMPDIR="$work/tmp-$1-$2"
  mkdir -p "$TMPDIR"
  echo
  echo "=================== job $1 of $JOBS, Buildkite attempt $(($2 + 1)) ==================="
  set +e
  (
    cd "$work/checkout"
    # shellcheck source=/dev/null
    source "$ROOT/hooks/pre-command"
    set +e
    bash "$ROOT/hooks/command"
    s=$?
    export BUILDKITE_COMMAND_EXIT_STATUS=$s
    bash "$ROOT/hooks/post-command"
    exit "$s"
  ) 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  echo "$status" > "$work/logs/job-$1-try-$2.exit"
  echo ">>> job $1 attempt $(($2 + 1)) exit status: $status"
}

cat <<INTRO
A simulated Buildkite build: one step, parallelism $JOBS, this plugin on it, on a copy of
${PROJECT#"$ROOT"/}. Test Engine is the local stand-in at $url (HTTPS, certificate made
just now); buildkite-agent is a stub keeping meta-data and annotations in $work/agent.
Pipeline retry rules: exit 1 -> automatic retry (runs only the failed tests), 65 and 78 -> never.
INTRO
for j in $(seq 0 $((JOBS - 1))); do run_job "$j" 0; done

echo
echo "=================== automatic retry rules: exit 1 -> retry, 65/78 -> never ==================="
for j in $(seq 0 $((JOBS - 1))); do
  s=$(cat "$work/logs/job-$j-try-0.exit")
  case "$s" in
    1) echo "job $j exited 1: Buildkite retries it"; run_job "$j" 1 ;;
    0) echo "job $j passed" ;;
    *) echo "job $j exited $s: not retried" ;;
  esac
done

echo
echo "=================== what Test Engine and Buildkite received ==================="
/usr/bin/python3 - "$work/server/requests.jsonl" <<'PY'
import collections, json, sys
c, records = collections.Counter(), 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    p = r["path"]
    c[f'{r["method"]} {p.split("/suites/")[-1] if "/suites/" in p else p}'] += 1
    if p == "/v1/uploads":
        records += len(json.loads(r["body"]["data"]["text"]))
for k, v in sorted(c.items()):
    print(f"  {v:3d} x {k}")
print(f"  {records} test results uploaded")
PY
for f in "$work"/agent/meta-data/*; do
  [ -e "$f" ] && printf '  meta-data %s:\n%s\n' "$(basename "$f")" "$(sed 's/^/    /' "$f")"
done
for f in "$work"/agent/annotations/*.md; do
  [ -e "$f" ] && echo "  annotation $(basename "$f" .md) ($(cat "${f%.md}.style")): $(head -1 "$f")"
done
