#!/usr/bin/env bash
# Plays Buildkite for one build of a parallel step that uses this plugin,
# through the real-agent job runner (tests/support/job_runner.py): each job
# gets a fresh checkout, the plugin is checked out per agent worker (two
# workers here, so two checkouts share one build), hooks are sourced with the
# agent's wrapper, options are named after the plugin's repository, the
# step's own command runs under a PTY with `bash -e -c`, and a strict
# buildkite-agent stub answers. The pipeline:
#
#   steps:
#     - label: ":pytest: tests"
#       key: tests
#       command: "source .venv/bin/activate && test-engine-pytest run"
#       parallelism: $JOBS
#       plugins:
#         - acme/test-engine-pytest#v0.1.0: {suite-slug: shop, test-cmd: "python -m pytest ..."}
#       retry: {automatic: [{exit_status: 1, limit: 2}, {exit_status: 65, limit: 0}]}
#
# Tokens: none stored; both are minted by `buildkite-agent oidc request-token`
# (set DEMO_API_TOKEN / DEMO_UPLOAD_TOKEN to use stored ones instead). Then the
# automatic retry rules run: exit 1 is retried and runs only what failed.
#
# Env: JOBS (3), PROJECT (fixtures/shop), BROKEN=1 adds a file that cannot be
# imported, KEEP_WORK=DIR keeps everything there, DEMO_BINARY=PATH sets the
# plugin's `binary` option (tests use the build under test; the demo lets the
# plugin build itself, once per host), DEBUG_AGENT=1 plays an agent started
# with --debug, DEMO_PLUGIN_CONFIG='{"k": v}' adds plugin options,
# DEMO_COMMAND replaces the step command, DEMO_RUNNER_ARGS adds job runner
# options (e.g. --cancel-when-file F --grace-period 5), DEMO_ENV=K=V adds one
# variable to the job's environment, DEMO_SPY_DIR=DIR records the argv and
# environment of every Python the jobs start there (fixtures/spy),
# DEMO_RELEASE_DIR=DIR serves the release
# archives in DIR (scripts/release's output) from the stand-in and points the
# plugin's release-url there (the hooks download the binary instead of
# building it, when the plugin checkout's SHA256SUMS names them).
# DEMO_SCREENSHOT=FILE.png renders the annotation (cmark-gfm) and shoots it in
# headless Chromium. At the end: the plan explained (plan --explain), each
# job's estimated against actual time, and the step's table of jobs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JOBS=${JOBS:-3}
PROJECT=${PROJECT:-$ROOT/fixtures/shop}
PY=/usr/bin/python3
if [ -n "${KEEP_WORK:-}" ]; then work=$KEEP_WORK; mkdir -p "$work"; else work=$(mktemp -d /tmp/tep-demo-XXXXXX); fi
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

"$ROOT/tests/support/make_certs.sh" "$work/certs"
mkdir -p "$work/server" "$work/agent" "$work/flaky" "$work/logs" "$work/checkouts"
# What Test Engine knows of the shop's files from earlier builds (ms, and how
# many timings each estimate rests on); tests/unit/tax_test.py is new to it.
if [ "$PROJECT" = "$ROOT/fixtures/shop" ] && [ ! -e "$work/server/config.json" ]; then
  cat > "$work/server/config.json" <<'JSON'
{"durations": {"tests/test_payments.py": 900, "tests/test_orders.py": 400, "tests/test_cart.py": 300,
               "tests/api/test_users.py": 250, "tests/unit/test_money.py": 150},
 "samples": {"tests/test_payments.py": 48, "tests/test_orders.py": 48, "tests/test_cart.py": 47,
             "tests/api/test_users.py": 12, "tests/unit/test_money.py": 48}}
JSON
fi
"$PY" "$ROOT/tests/support/te_server.py" --dir "$work/server" \
  --cert "$work/certs/server.pem" --key "$work/certs/server.key" &
server_pid=$!
for _ in $(seq 1 100); do [ -f "$work/server/port" ] && break; sleep 0.05; done
url="https://127.0.0.1:$(cat "$work/server/port")"
if [ -n "${DEMO_RELEASE_DIR:-}" ]; then
  mkdir -p "$work/server/files/release"
  cp "$DEMO_RELEASE_DIR"/*.tar.gz "$work/server/files/release/"
  release_url="$url/files/release"
fi
# The team's virtualenv: the step command activates it before running the slice.
"$PY" -m venv --without-pip --system-site-packages "$work/venv"

build_id=$("$PY" -c 'import uuid; print(uuid.uuid4())')
step_id=$("$PY" -c 'import uuid; print(uuid.uuid4())')
config=$("$PY" - "${DEMO_BINARY:-}" "${DEMO_PLUGIN_CONFIG:-}" "${release_url:-}" <<'PY'
import json, sys
c = {"suite-slug": "shop", "retry-count": 0,
     "test-cmd": "python -m pytest -p tep_collector -p no:cacheprovider {{testExamples}} --json={{resultPath}}"}
if sys.argv[1]:
    c["binary"] = sys.argv[1]
if sys.argv[3]:
    c["release-url"] = sys.argv[3]
if sys.argv[2]:
    c.update(json.loads(sys.argv[2]))
print(json.dumps(c))
PY
)
command=${DEMO_COMMAND:-"source $work/venv/bin/activate && test-engine-pytest run"}

# run_job INDEX RETRY: one job, on a fresh checkout, as the agent runs it.
run_job() {
  local j=$1 r=$2 checkout="$work/checkouts/job-$1-try-$2" status=0 args=()
  local job_id
  job_id=$("$PY" -c 'import uuid; print(uuid.uuid4())')
  mkdir -p "$checkout"
  cp -a "$PROJECT/." "$checkout/"
  [ "${BROKEN:-0}" = 1 ] && cp "$ROOT/fixtures/collection_errors/test_import_error.py" "$checkout/tests/test_import_error.py"
  args=(--checkout "$checkout" --command "$command"
        --plugin "$ROOT=test-engine-pytest-buildkite-plugin" --plugin-config "$config"
        --plugins-path "$work/plugins" --agent-name "agent-$((j % 2 + 1))" --agent-dir "$work/agent"
        --summary "$work/logs/job-$j-try-$r.summary.json"
        --env "BUILDKITE_ORGANIZATION_SLUG=acme" --env "BUILDKITE_BUILD_ID=$build_id"
        --env "BUILDKITE_BUILD_NUMBER=42" --env "BUILDKITE_STEP_ID=$step_id" --env "BUILDKITE_STEP_KEY=tests"
        --env "BUILDKITE_LABEL=:pytest: tests" --env "BUILDKITE_JOB_ID=$job_id"
        --env "BUILDKITE_PARALLEL_JOB=$j" --env "BUILDKITE_PARALLEL_JOB_COUNT=$JOBS"
        --env "BUILDKITE_RETRY_COUNT=$r" --env "BUILDKITE_BRANCH=main" --env "BUILDKITE_COMMIT=0123abc"
        --env "BUILDKITE_MESSAGE=Demo build" --env "BUILDKITE_BUILD_URL=https://buildkite.localhost/acme/shop/builds/42"
        --env "BUILDKITE_TEST_ENGINE_BASE_URL=$url" --env "BUILDKITE_TEST_ENGINE_UPLOAD_BASE_URL=$url"
        --env "BUILDKITE_TEST_ENGINE_CA_BUNDLE=$work/certs/ca.pem"
        --env "PYTHONPATH=${DEMO_SPY_DIR:+$ROOT/fixtures/spy:}$ROOT/tests/support" --env "PYTHONDONTWRITEBYTECODE=1" --env "TEP_FLAKY_DIR=$work/flaky"
        --env "STUB_OIDC_TOKEN=${DEMO_OIDC_TOKEN:-oidc-minted-by-the-agent}")
  [ -n "${DEMO_API_TOKEN:-}" ] && args+=(--env "BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN=$DEMO_API_TOKEN")
  [ -n "${DEMO_UPLOAD_TOKEN:-}" ] && args+=(--env "BUILDKITE_ANALYTICS_TOKEN=$DEMO_UPLOAD_TOKEN")
  [ "${DEBUG_AGENT:-0}" = 1 ] && args+=(--debug-agent)
  [ -n "${TEP_CACHE_DIR:-}" ] && args+=(--env "TEP_CACHE_DIR=$TEP_CACHE_DIR")
  # shellcheck disable=SC2206 # extra runner options, word-split on purpose
  [ -n "${DEMO_RUNNER_ARGS:-}" ] && args+=($DEMO_RUNNER_ARGS)
  [ -n "${DEMO_ENV:-}" ] && args+=(--env "$DEMO_ENV")
  [ -n "${DEMO_SPY_DIR:-}" ] && args+=(--env "TEP_SPY_DIR=$DEMO_SPY_DIR")
  echo
  echo "=================== job $((j + 1)) of $JOBS, Buildkite attempt $((r + 1)) (agent-$((j % 2 + 1))) ==================="
  "$PY" "$ROOT/tests/support/job_runner.py" "${args[@]}" 2>&1 | tee "$work/logs/job-$j-try-$r.log" || true
  status=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["exit_status"])' "$work/logs/job-$j-try-$r.summary.json")
  echo "$status" > "$work/logs/job-$j-try-$r.exit"
  echo "$job_id" > "$work/logs/job-$j-try-$r.id"
  # the build's meta-data as this job left it (a retry overwrites its key)
  if [ -d "$work/agent/meta-data" ]; then cp -r "$work/agent/meta-data" "$work/logs/job-$j-try-$r.meta-data"; fi
  echo ">>> job $((j + 1)) attempt $((r + 1)) exit status: $status"
}

cat <<INTRO
A simulated Buildkite build: one step, parallelism $JOBS, this plugin on it, on copies of
${PROJECT#"$ROOT"/}. Test Engine is the local stand-in at $url (HTTPS, certificate made
just now). Each job runs through tests/support/job_runner.py, which plays the real agent
(sourced hooks, option names from the repository name, PTY, reverse post-command, pre-exit),
with a strict buildkite-agent stub keeping meta-data, annotations and artifacts in $work/agent.
Step command: $command
Pipeline retry rules: exit 1 -> automatic retry (runs only the failed tests), 65 and 78 -> never.
INTRO
for j in $(seq 0 $((JOBS - 1))); do run_job "$j" 0; done

echo
echo "=================== automatic retry rules: exit 1 -> retry, 65/78 -> never ==================="
for j in $(seq 0 $((JOBS - 1))); do
  s=$(cat "$work/logs/job-$j-try-0.exit")
  case "$s" in
    1) echo "job $((j + 1)) exited 1: Buildkite retries it"; run_job "$j" 1 ;;
    0) echo "job $((j + 1)) passed" ;;
    *) echo "job $((j + 1)) exited $s: not retried" ;;
  esac
done

echo
echo "=================== what Test Engine and Buildkite received ==================="
"$PY" - "$work" <<'PY'
import collections, glob, json, os, sys
work = sys.argv[1]
c, records = collections.Counter(), 0
for line in open(f"{work}/server/requests.jsonl"):
    r = json.loads(line)
    p = r["path"]
    c[f'{r["method"]} {p.split("/suites/")[-1] if "/suites/" in p else p}'] += 1
    if p == "/v1/uploads" and r["body"]["fields"].get("format") == "junit":
        records += r["body"]["data"]["text"].count("<testcase")
    elif p == "/v1/uploads":
        records += len(json.loads(r["body"]["data"]["text"]))
for k, v in sorted(c.items()):
    print(f"  {v:3d} x {k}")
print(f"  {records} test results uploaded")
left = [d for d in glob.glob(f"{work}/checkouts/*/.test-engine-pytest")]
print(f"  state folders left in checkouts after pre-exit: {len(left)}")
survivors = sum(len(json.load(open(s)).get("survivors", [])) for s in glob.glob(f"{work}/logs/*.summary.json"))
print(f"  processes left running after the jobs: {survivors}")
PY
for f in "$work"/agent/meta-data/*; do
  [ -e "$f" ] && printf '  meta-data %s:\n%s\n' "$(basename "$f")" "$(sed 's/^/    /' "$f")"
done
for f in "$work"/agent/annotations/*.md; do
  [ -e "$f" ] && echo "  annotation $(basename "$f" .md) ($(cat "${f%.md}.style")): $(grep -m1 -v "^\s*$\|^<!--" "$f" | sed 's/<[^>]*>//g')"
done

# The plan the jobs ran, explained (plan --explain fetches it from Test Engine's
# cache, or makes the same local split), then each job's estimate against what
# it took, from the step's time box.
bin=${DEMO_BINARY:-}
if [ -z "$bin" ]; then
  # shellcheck disable=SC2012 # the newest build the plugin made
  bin=$(ls -t "${TEP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/test-engine-pytest}"/*/bin/test-engine-pytest 2>/dev/null | head -1 || true)
fi
echo
echo "=================== the plan, explained: test-engine-pytest plan --explain ==================="
if [ -x "$bin" ]; then
  # a job of its own (a step that explains the plan): its token minted by the agent too
  mkdir -p "$work/checkouts/explain" "$work/explain-agent/bin"
  cp -a "$PROJECT/." "$work/checkouts/explain/"
  ln -sf "$ROOT/tests/support/buildkite-agent-stub" "$work/explain-agent/bin/buildkite-agent"
  (cd "$work/checkouts/explain" &&
    env PATH="$work/explain-agent/bin:$PATH" AGENT_DIR="$work/explain-agent" \
      BUILDKITE_JOB_ID="$("$PY" -c 'import uuid; print(uuid.uuid4())')" \
      STUB_OIDC_TOKEN="${DEMO_OIDC_TOKEN:-oidc-minted-by-the-agent}" \
      ${DEMO_API_TOKEN:+BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN="$DEMO_API_TOKEN"} \
      BUILDKITE_ORGANIZATION_SLUG=acme BUILDKITE_TEST_ENGINE_SUITE_SLUG=shop \
      BUILDKITE_BUILD_ID="$build_id" BUILDKITE_STEP_ID="$step_id" BUILDKITE_PARALLEL_JOB_COUNT="$JOBS" \
      BUILDKITE_TEST_ENGINE_BASE_URL="$url" BUILDKITE_TEST_ENGINE_CA_BUNDLE="$work/certs/ca.pem" \
      BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=2 NO_COLOR=1 \
      "$bin" plan --explain --plan-out "$work/plan.json" 2>&1 | sed 's/^/  /') || true
else
  echo "  (no binary to run it with: set DEMO_BINARY)"
fi
echo
echo "=================== estimated against actual, per job (the step's time box) ==================="
"$PY" - "$work/agent/annotations" <<'PY'
import glob, html, re, sys
for box in sorted(glob.glob(sys.argv[1] + "/*-time.md")):
    for line in open(box, encoding="utf-8"):
        if ":stopwatch:" not in line:
            continue
        text = html.unescape(re.sub(r"<[^>]+>", "", line))
        text = re.sub(r"\*\*|\[|\]\([^)]*\)|\\", "", text).strip()
        print("  " + text.split(" · ", 1)[-1])
PY
echo
echo "=================== the step's table of jobs (written whole by each job from the build's meta-data) ==================="
for box in "$work"/agent/annotations/*-jobs.md; do
  [ -e "$box" ] && sed -e 's/\*\*//g; s/:stopwatch: //; s/\[\([^]]*\)\]([^)]*)/\1/g; s/^/  /' "$box"
done
if [ -n "${DEMO_SCREENSHOT:-}" ]; then
  "$PY" "$ROOT/tests/support/annotation_page.py" "$work/agent" "${DEMO_SCREENSHOT%.png}.html" --screenshot "$DEMO_SCREENSHOT" &&
    echo "  the annotation as a browser shows it: $DEMO_SCREENSHOT"
fi
exit 0
