#!/usr/bin/env bats
# Dynamic parallelism: `plan --json` and `plan --pipeline-upload TEMPLATE`
# ask Test Engine (max_parallelism, target_time) how many jobs the test step
# needs, or estimate it from local durations when the API cannot answer.

load '../support/helpers'

# Estimated durations (ms) the stand-in knows: 250 s in all.
DURATIONS='{"tests/api/test_users.py": 40000, "tests/test_cart.py": 50000, "tests/test_orders.py": 60000,
  "tests/test_payments.py": 70000, "tests/unit/tax_test.py": 10000, "tests/unit/test_money.py": 20000}'
ALL_FILES='tests/api/test_users.py
tests/test_cart.py
tests/test_orders.py
tests/test_payments.py
tests/unit/tax_test.py
tests/unit/test_money.py'

setup() {
  fixture_job shop 1
  server_config '{"durations": '"$DURATIONS"'}'
  export BUILDKITE_TEST_ENGINE_MAX_PARALLELISM=10 BUILDKITE_TEST_ENGINE_TARGET_TIME=1m
}

teardown() { stop_server; }

# plan_json ARGS...: runs plan with stdout and stderr apart ($output, $stderr).
plan_json() { run --separate-stderr "$TEP_BIN" plan "$@"; }

# field NAME: a field of the JSON document in $output.
field() { "$SERVER_PY" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$output" "$1"; }

# body ENDPOINT-SUFFIX KEY: KEY of the last POST body to that endpoint.
body() {
  "$SERVER_PY" - "$SERVER_DIR/requests.jsonl" "$1" "$2" <<'PY'
import json, sys
posts = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["method"] == "POST"]
body = [r for r in posts if r["path"].endswith(sys.argv[2])][-1]["body"]
print(body.get(sys.argv[3], "absent"))
PY
}

local_durations() {
  printf '%s\n' "40 tests/api/test_users.py" "50 tests/test_cart.py" "60 tests/test_orders.py" \
    "70 tests/test_payments.py" "10 tests/unit/tax_test.py" "20 tests/unit/test_money.py" >durations.txt
  export BUILDKITE_TEST_ENGINE_DURATIONS_FILE=durations.txt
}

@test "--json: Test Engine's parallelism for the target time, one JSON line on stdout, bktec's keys too" {
  plan_json --json
  assert_success
  assert_equal "$(echo "$output" | wc -l)" 1
  assert_equal "$(field parallelism)" 5          # ceil(250 s / 60 s)
  assert_equal "$(field BUILDKITE_TEST_ENGINE_PARALLELISM)" 5
  assert_equal "$(field BUILDKITE_TEST_ENGINE_PLAN_IDENTIFIER)" build-1234/step-abcd
  assert_equal "$(field identifier)" build-1234/step-abcd
  assert_equal "$(field source)" server
  # BUILDKITE_TEST_ENGINE_PARALLELISM is a string (for buildkite-agent env set), parallelism a number.
  run "$SERVER_PY" -c 'import json,sys; d=json.loads(sys.argv[1]); print(type(d["parallelism"]).__name__, type(d["BUILDKITE_TEST_ENGINE_PARALLELISM"]).__name__)' "$output"
  assert_output "int str"
  assert_equal "$(body /test_plan max_parallelism)" 10
  assert_equal "$(body /test_plan target_time)" 60
  assert_equal "$(body /test_plan/filter_tests max_parallelism)" 10
  assert_equal "$(body /test_plan/filter_tests target_time)" 60
  [[ "$output$stderr" != *"$API_TOKEN"* ]]
}

@test "--json: the server's answer is capped by max parallelism" {
  export BUILDKITE_TEST_ENGINE_MAX_PARALLELISM=3
  plan_json --json
  assert_success
  assert_equal "$(field parallelism)" 3
}

@test "--json, max parallelism alone (no target time): that many jobs" {
  unset BUILDKITE_TEST_ENGINE_TARGET_TIME
  export BUILDKITE_TEST_ENGINE_MAX_PARALLELISM=4
  plan_json --json
  assert_success
  assert_equal "$(field parallelism)" 4
  assert_equal "$(body /test_plan target_time)" absent
}

@test "--json, API down: estimated from local durations, capped at max, and it says so" {
  faults '{"plan_post": [{"status": 503, "forever": true}]}'
  export BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=0
  local_durations
  plan_json --json
  assert_success
  assert_equal "$(field parallelism)" 5
  assert_equal "$(field source)" "local estimate"
  assert_equal "$(field BUILDKITE_TEST_ENGINE_PARALLELISM)" 5
  [[ "$(field reason)" == *"estimated locally from durations.txt (6 of 6 entries timed"*"ceil(250.0 s of tests / target 60 s) = 5 jobs"* ]]
  [[ "$stderr" == *"dynamic parallelism: 5 jobs (local estimate)"* ]]
  export BUILDKITE_TEST_ENGINE_MAX_PARALLELISM=2
  plan_json --json
  assert_equal "$(field parallelism)" 2
  [[ "$(field reason)" == *"capped at BUILDKITE_TEST_ENGINE_MAX_PARALLELISM 2"* ]]
}

@test "--json, API down and unknown files: they count as the mean of the known ones" {
  faults '{"plan_post": [{"status": 503, "forever": true}]}'
  export BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=0
  printf '%s\n' "100 tests/test_cart.py" "20 tests/test_orders.py" >durations.txt
  export BUILDKITE_TEST_ENGINE_DURATIONS_FILE=durations.txt BUILDKITE_TEST_ENGINE_TARGET_TIME=100
  plan_json --json
  assert_success
  # 120 s known + 4 files at the mean (60 s) = 360 s; ceil(360 / 100) = 4.
  assert_equal "$(field parallelism)" 4
  [[ "$(field reason)" == *"(2 of 6 entries timed, the rest at their mean)"* ]]
}

@test "--json, API down and no local durations: max parallelism, saying why" {
  faults '{"plan_post": [{"status": 503, "forever": true}]}'
  export BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=0
  plan_json --json
  assert_success
  assert_equal "$(field parallelism)" 10
  [[ "$(field reason)" == *"no local durations to estimate from (set BUILDKITE_TEST_ENGINE_DURATIONS_FILE)"* ]]
  echo "12 tests/elsewhere.py" >durations.txt
  export BUILDKITE_TEST_ENGINE_DURATIONS_FILE=durations.txt
  plan_json --json
  assert_equal "$(field parallelism)" 10
  [[ "$(field reason)" == *"none of the 6 entries has a duration in durations.txt (node ids never do): BUILDKITE_TEST_ENGINE_MAX_PARALLELISM, 10"* ]]
}

@test "--json without Test Engine: a local estimate, no request" {
  unset BUILDKITE_TEST_ENGINE_SUITE_SLUG BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN BUILDKITE_ORGANIZATION_SLUG
  local_durations
  plan_json --json
  assert_success
  assert_equal "$(field parallelism)" 5
  assert_equal "$(field source)" "local estimate"
  [ ! -s "$SERVER_DIR/requests.jsonl" ]
}

@test "--json, a fatal API answer (401) is a configuration error, no JSON" {
  faults '{"plan_post": [{"status": 401, "body": {"message": "bad token"}}]}'
  plan_json --json
  assert_failure 78
  assert_output ""
  [[ "$stderr" == *"Authentication Failed: bad token"* ]]
}

@test "--json with a tag filter: only the matching tests are planned and counted" {
  cd "$BATS_TEST_TMPDIR" && rm -rf work && copy_fixture tags
  export PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$SUPPORT:$TEP_SOURCE_DIR/fixtures/collector/registered"
  export BUILDKITE_TEST_ENGINE_TEST_CMD="/usr/bin/python3 -m pytest -p no:cacheprovider {{testExamples}}"
  export BUILDKITE_TEST_ENGINE_TAG_FILTERS=team:payments BUILDKITE_TEST_ENGINE_TARGET_TIME=1
  plan_json --json
  assert_success
  # 4 matching examples at the stand-in's default 0.5 s: ceil(2 s / 1 s) = 2.
  assert_equal "$(field parallelism)" 2
  run "$SERVER_PY" - "$SERVER_DIR/requests.jsonl" <<'PY'
import json, sys
post = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["method"] == "POST"][-1]["body"]
print(len(post["tests"]["examples"]), "selectors" in post["tests"])
PY
  assert_output "4 False"
}

@test "bad dynamic settings are configuration errors (78), listed together" {
  export BUILDKITE_TEST_ENGINE_TARGET_TIME=soon
  unset BUILDKITE_TEST_ENGINE_MAX_PARALLELISM
  plan_json --json
  assert_failure 78
  [[ "$stderr" == *"BUILDKITE_TEST_ENGINE_TARGET_TIME: 'soon' is not a time up to 24h"* ]]
  [[ "$stderr" == *"BUILDKITE_TEST_ENGINE_MAX_PARALLELISM: must be set with BUILDKITE_TEST_ENGINE_TARGET_TIME"* ]]
  export BUILDKITE_TEST_ENGINE_MAX_PARALLELISM=1001 BUILDKITE_TEST_ENGINE_TARGET_TIME=25h
  plan_json --json
  assert_failure 78
  [[ "$stderr" == *"BUILDKITE_TEST_ENGINE_MAX_PARALLELISM: 1001 is out of range"* ]]
  [[ "$stderr" == *"'25h' is not a time up to 24h"* ]]
  assert_output ""
}

@test "plan refuses other arguments, both outputs at once, and a missing template" {
  run "$TEP_BIN" plan --bogus
  assert_failure 78
  assert_output --partial "plan: unexpected argument '--bogus'"
  run "$TEP_BIN" plan --json --pipeline-upload t.yml
  assert_failure 78
  assert_output --partial "--json and --pipeline-upload exclude each other"
  run "$TEP_BIN" plan --pipeline-upload
  assert_failure 78
  run "$TEP_BIN" plan --pipeline-upload missing.yml
  assert_failure 78
  assert_output --partial "plan --pipeline-upload: 'missing.yml' does not exist"
  # report and cleanup still refuse arguments, without failing the job.
  run "$TEP_BIN" report --json
  assert_success
  assert_output --partial "unexpected argument '--json'"
}

@test "the static plan (pre-command) never sends max_parallelism or target_time, as bktec's run" {
  job_env 0 2
  run "$TEP_BIN" plan
  assert_success
  assert_equal "$(body /test_plan max_parallelism)" absent
  assert_equal "$(body /test_plan target_time)" absent
  assert_equal "$(body /test_plan parallelism)" 2
}

@test "--pipeline-upload: the template goes to buildkite-agent with the two variables, and the uploaded step runs every test once" {
  install_agent_stub
  # A buildkite-agent in front of the stub that records the variables it was given.
  mkdir -p "$BATS_TEST_TMPDIR/front"
  cat >"$BATS_TEST_TMPDIR/front/buildkite-agent" <<EOF
#!/bin/sh
env | grep '^BUILDKITE_TEST_ENGINE_\(PARALLELISM\|PLAN_IDENTIFIER\)=' | sort >"$BATS_TEST_TMPDIR/agent-env"
exec "$AGENT_DIR/bin/buildkite-agent" "\$@"
EOF
  chmod +x "$BATS_TEST_TMPDIR/front/buildkite-agent"
  export BUILDKITE_TEST_ENGINE_AGENT_CMD="$BATS_TEST_TMPDIR/front/buildkite-agent"
  mkdir -p .buildkite
  cat >.buildkite/pytest-dynamic.yml <<'EOF'
steps:
  - label: ":pytest: tests"
    command: "test-engine-pytest run"
    parallelism: ${BUILDKITE_TEST_ENGINE_PARALLELISM}
    plugins:
      - acme/test-engine-pytest#v0.1.0:
          suite-slug: shop
          plan-identifier: "${BUILDKITE_TEST_ENGINE_PLAN_IDENTIFIER}"
EOF
  run "$TEP_BIN" plan --pipeline-upload .buildkite/pytest-dynamic.yml
  assert_success
  assert_output --partial "Uploading .buildkite/pytest-dynamic.yml with buildkite-agent pipeline upload, BUILDKITE_TEST_ENGINE_PLAN_IDENTIFIER=build-1234/step-abcd BUILDKITE_TEST_ENGINE_PARALLELISM=5"
  assert_equal "$(grep -c '^pipeline upload .buildkite/pytest-dynamic.yml$' "$AGENT_DIR/calls")" 1
  cmp .buildkite/pytest-dynamic.yml "$AGENT_DIR/pipelines/1.yml"
  assert_equal "$(cat "$BATS_TEST_TMPDIR/agent-env")" "BUILDKITE_TEST_ENGINE_PARALLELISM=5
BUILDKITE_TEST_ENGINE_PLAN_IDENTIFIER=build-1234/step-abcd"
  # The agent interpolates ${VAR} from that environment; then each job of the uploaded
  # step plans with the plugin's options and gets its slice of the cached plan.
  rendered=$(set -a && . "$BATS_TEST_TMPDIR/agent-env" && "$SERVER_PY" -c '
import os, re, sys, yaml
text = re.sub(r"\$\{(\w+)\}", lambda m: os.environ[m.group(1)], open(sys.argv[1]).read())
step = yaml.safe_load(text)["steps"][0]
print(step["parallelism"], step["plugins"][0]["acme/test-engine-pytest#v0.1.0"]["plan-identifier"])' "$AGENT_DIR/pipelines/1.yml")
  read -r jobs ident <<<"$rendered"
  assert_equal "$jobs $ident" "5 build-1234/step-abcd"
  posts_before=$(grep -c '"method": "POST", "path": "[^"]*/test_plan"' "$SERVER_DIR/requests.jsonl")
  for j in $(seq 0 $((jobs - 1))); do
    job_env "$j" "$jobs"
    export BUILDKITE_STEP_ID=step-tests
    BUILDKITE_PLUGIN_CONFIGURATION='{"suite-slug": "shop", "plan-identifier": "'"$ident"'"}' run "$TEP_BIN" plan
    assert_success
    assert_output --partial "Plan source: server (cached plan)"
  done
  all=$(for j in $(seq 0 $((jobs - 1))); do slice_tests "$j"; done | sort)
  assert_equal "$all" "$ALL_FILES"
  assert_equal "$(grep -c '"method": "POST", "path": "[^"]*/test_plan"' "$SERVER_DIR/requests.jsonl")" "$posts_before"
}

@test "--pipeline-upload: a failing upload fails the step with the agent's status" {
  printf '#!/bin/sh\necho "buildkite-agent: fatal: pipeline parsing failed" >&2\nexit 1\n' >"$BATS_TEST_TMPDIR/agent-fails"
  chmod +x "$BATS_TEST_TMPDIR/agent-fails"
  export BUILDKITE_TEST_ENGINE_AGENT_CMD="$BATS_TEST_TMPDIR/agent-fails"
  echo 'steps: []' >t.yml
  run "$TEP_BIN" plan --pipeline-upload=t.yml
  assert_failure 1
  assert_output --partial "buildkite-agent pipeline upload exited 1; the test step was not uploaded"
}
