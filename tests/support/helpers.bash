# Shared helpers for the bats suites: a stand-in Test Engine over real HTTPS,
# a stub buildkite-agent, and the environment a Buildkite job would have.
# shellcheck shell=bash

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

TEP_SOURCE_DIR=${TEP_SOURCE_DIR:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
TEP_BIN=${TEP_BIN:-$TEP_SOURCE_DIR/build/test-engine-pytest}
SUPPORT="$TEP_SOURCE_DIR/tests/support"
SERVER_PY=${TEP_SERVER_PYTHON:-/usr/bin/python3}
export TEP_SOURCE_DIR TEP_BIN SUPPORT

# The test commands most suites run: Debian's pytest with the collector
# stand-in (JSON mode), or JUnit. A suite may set its own after loading this.
JSON_CMD='/usr/bin/python3 -m pytest -p tep_collector -p no:cacheprovider {{testExamples}} --json={{resultPath}}'
JUNIT_CMD='/usr/bin/python3 -m pytest -p no:cacheprovider {{testExamples}} --junit-xml={{resultPath}}'

# pytest_env: what real pytest on a fixture needs: the collector stand-in on
# PYTHONPATH, a fresh folder for the flaky fixtures' markers, no bytecode.
pytest_env() {
  export PYTHONPATH="$SUPPORT" TEP_FLAKY_DIR="$BATS_TEST_TMPDIR/flaky" PYTHONDONTWRITEBYTECODE=1
  mkdir -p "$TEP_FLAKY_DIR"
}

# The secret tests look for in every output: it must never appear.
API_TOKEN="tok-api-SECRET-7f3a9"
UPLOAD_TOKEN="tok-upload-SECRET-c41d"

certs_dir() {
  local dir="${BATS_FILE_TMPDIR:-$BATS_TMPDIR}/certs"
  "$SUPPORT/make_certs.sh" "$dir"
  echo "$dir"
}

# start_server: runs the stand-in in $SERVER_DIR, exports its URLs.
start_server() {
  CERTS=$(certs_dir)
  SERVER_DIR="$BATS_TEST_TMPDIR/server"
  mkdir -p "$SERVER_DIR"
  "$SERVER_PY" "$SUPPORT/te_server.py" --dir "$SERVER_DIR" --cert "$CERTS/server.pem" --key "$CERTS/server.key" \
    >"$SERVER_DIR/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    [ -f "$SERVER_DIR/port" ] && break
    sleep 0.05
  done
  [ -f "$SERVER_DIR/port" ] || { cat "$SERVER_DIR/server.log"; return 1; }
  SERVER_URL="https://127.0.0.1:$(cat "$SERVER_DIR/port")"
  export SERVER_DIR SERVER_URL CERTS SERVER_PID
  export BUILDKITE_TEST_ENGINE_BASE_URL="$SERVER_URL"
  export BUILDKITE_TEST_ENGINE_UPLOAD_BASE_URL="$SERVER_URL"
  export BUILDKITE_TEST_ENGINE_CA_BUNDLE="$CERTS/ca.pem"
}

stop_server() {
  if [ -n "${SERVER_PID:-}" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
}

# job_env INDEX COUNT: the environment of one Buildkite parallel job.
job_env() {
  export BUILDKITE_ORGANIZATION_SLUG=acme
  export BUILDKITE_TEST_ENGINE_SUITE_SLUG=shop
  export BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN="$API_TOKEN"
  export BUILDKITE_BUILD_ID=build-1234
  export BUILDKITE_STEP_ID=step-abcd
  export BUILDKITE_JOB_ID="job-$1"
  export BUILDKITE_PARALLEL_JOB="$1"
  export BUILDKITE_PARALLEL_JOB_COUNT="$2"
  export BUILDKITE_RETRY_COUNT="${BUILDKITE_RETRY_COUNT:-0}"
  export BUILDKITE_BRANCH=main
  export BUILDKITE_TEST_ENGINE_STATE_DIR="$BATS_TEST_TMPDIR/state-$1"
  # The result-mode probe's cache (src/pytest/interp_cache.h): one per test, so a
  # test sees only the answers its own runs kept.
  export XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache"
  export BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET="${BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET:-3}"
  export BUILDKITE_TEST_ENGINE_API_TIMEOUT="${BUILDKITE_TEST_ENGINE_API_TIMEOUT:-2}"
  export BUILDKITE_TEST_ENGINE_API_BACKOFF_MS="${BUILDKITE_TEST_ENGINE_API_BACKOFF_MS:-100}"
  export NO_COLOR=1
}

# pytest_job [agent] [upload] [no-cmd]: the setup most run and report suites
# share: the stand-in server, parallel job 0 of 1, real pytest (pytest_env)
# with the collector stand-in as the test command ($JSON_CMD). Words add:
#   agent   a stub buildkite-agent on PATH (install_agent_stub)
#   upload  the upload token, so the report phase uploads
#   no-cmd  no test command: the default, or the one a test sets itself
pytest_job() {
  local word cmd=$JSON_CMD
  start_server
  job_env 0 1
  pytest_env
  for word in "$@"; do
    case $word in
      agent) install_agent_stub ;;
      upload) export BUILDKITE_ANALYTICS_TOKEN="$UPLOAD_TOKEN" ;;
      no-cmd) cmd= ;;
      *)
        echo "pytest_job: unknown word '$word' (agent, upload or no-cmd)" >&2
        return 1
        ;;
    esac
  done
  if [ -n "$cmd" ]; then export BUILDKITE_TEST_ENGINE_TEST_CMD="$cmd"; fi
}

# wait_for_file FILE [SECONDS]: waits (bounded, default 10 s) until FILE
# exists, e.g. until a backgrounded pytest has started; fails if it never does.
wait_for_file() {
  local tries=$((${2:-10} * 20))
  while [ "$tries" -gt 0 ]; do
    [ -e "$1" ] && return 0
    sleep 0.05
    tries=$((tries - 1))
  done
  echo "wait_for_file: $1 did not appear within ${2:-10} s" >&2
  return 1
}

# faults JSON: injects faults into the stand-in.
faults() { printf '%s' "$1" > "$SERVER_DIR/faults.json"; }
server_config() { printf '%s' "$1" > "$SERVER_DIR/config.json"; }

# requests_to ENDPOINT-SUFFIX: how many requests hit paths ending so.
requests_to() {
  local n
  n=$(grep -c "\"path\": \"[^\"]*$1\"" "$SERVER_DIR/requests.jsonl" 2>/dev/null) || true
  echo "${n:-0}"
}

# slice_tests JOB: the tests in a job's slice, one per line.
slice_tests() {
  "$SERVER_PY" -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["tests"]))' \
    "$BATS_TEST_TMPDIR/state-$1/slice.json"
}

# work_dir [SUBDIR]: an empty checkout, $WORK (with SUBDIR made inside it),
# as the current directory.
work_dir() {
  WORK="$BATS_TEST_TMPDIR/work"
  mkdir -p "$WORK/${1:-}"
  cd "$WORK" || return 1
}

# copy_fixture NAME: a copy of fixtures/NAME as the checkout ($WORK, cwd).
copy_fixture() {
  work_dir
  cp -a "$TEP_SOURCE_DIR/fixtures/$1/." "$WORK/"
}

# fixture_job NAME COUNT: the planning suites' setup: a copy of fixtures/NAME
# as the checkout, the stand-in server, parallel job 0 of COUNT.
fixture_job() {
  copy_fixture "$1"
  start_server
  job_env 0 "$2"
}

# A stub buildkite-agent that keeps meta-data, annotations and artifacts in
# $AGENT_DIR and logs every call (argv, one line) to $AGENT_DIR/calls.
install_agent_stub() {
  AGENT_DIR="${AGENT_DIR:-$BATS_TEST_TMPDIR/agent}"
  mkdir -p "$AGENT_DIR/bin"
  ln -sf "$SUPPORT/buildkite-agent-stub" "$AGENT_DIR/bin/buildkite-agent"
  export AGENT_DIR PATH="$AGENT_DIR/bin:$PATH"
}

assert_no_secret() {
  local where
  for where in "$@"; do
    if grep -rqs -e "$API_TOKEN" -e "$UPLOAD_TOKEN" "$where"; then
      echo "a token leaked into $where" >&2
      return 1
    fi
  done
}

# ran_in_first_attempts JOBS: what pytest ran on each job's first attempt, as
# "count node_id" lines, from the collector records it wrote in
# $BATS_TEST_TMPDIR/state-<job> (run.json keeps only the failures).
ran_in_first_attempts() {
  "$SERVER_PY" - "$BATS_TEST_TMPDIR" "$1" <<'PY'
import collections, json, sys
seen = collections.Counter()
for j in range(int(sys.argv[2])):
    for r in json.load(open(f"{sys.argv[1]}/state-{j}/results/attempt-0.json")):
        seen[f"{r['scope']}::{r['name']}" if r["scope"] else r["name"]] += 1
for node, n in sorted(seen.items()):
    print(n, node)
PY
}
