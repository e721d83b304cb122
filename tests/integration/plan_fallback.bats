#!/usr/bin/env bats
# Configuration, discovery and the local fallback plan (no API needed to fail).

load '../support/helpers'

setup() {
  fixture_job shop 2
  faults '{"plan_get": [{"status": 503, "forever": true}]}'
  export BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=0
}

teardown() { stop_server; }

@test "every invalid setting is listed, one per line, with exit 78" {
  unset BUILDKITE_TEST_ENGINE_SUITE_SLUG
  export BUILDKITE_TEST_ENGINE_RETRY_COUNT=abc BUILDKITE_TEST_ENGINE_DEBUG_ENABLED=maybe
  run "$TEP_BIN" plan
  assert_failure 78
  assert_output --partial "invalid configuration (3 problems)"
  assert_output --partial "BUILDKITE_TEST_ENGINE_RETRY_COUNT: 'abc' is not a whole number"
  assert_output --partial "BUILDKITE_TEST_ENGINE_DEBUG_ENABLED: 'maybe' is not a boolean"
  assert_output --partial "BUILDKITE_TEST_ENGINE_SUITE_SLUG: must not be blank"
}

@test "plugin configuration JSON is read, and an explicit env var wins" {
  unset BUILDKITE_TEST_ENGINE_SUITE_SLUG
  export BUILDKITE_PLUGIN_CONFIGURATION='{"suite-slug": "from-plugin", "test-file-pattern": "tests/unit/**/*.py"}'
  run "$TEP_BIN" plan
  assert_success
  grep -q '/suites/from-plugin/test_plan' "$SERVER_DIR/requests.jsonl"
  assert_equal "$(slice_tests 0)" "tests/unit/tax_test.py"
  export BUILDKITE_TEST_ENGINE_SUITE_SLUG=from-env
  run "$TEP_BIN" plan
  grep -q '/suites/from-env/test_plan' "$SERVER_DIR/requests.jsonl"
}

@test "an unknown plugin option is a configuration error naming it" {
  export BUILDKITE_PLUGIN_CONFIGURATION='{"suite_slug": "typo"}'
  run "$TEP_BIN" plan
  assert_failure 78
  assert_output --partial "plugin option 'suite_slug': unknown option"
}

@test "no matching files is a clear error" {
  export BUILDKITE_TEST_ENGINE_TEST_FILE_PATTERN='nothing/**/*.py'
  run "$TEP_BIN" plan
  assert_failure 78
  assert_output --partial "no test files match pattern 'nothing/**/*.py'"
}

@test "discovery skips hidden directories and node_modules, honours excludes" {
  export BUILDKITE_PARALLEL_JOB_COUNT=1
  export BUILDKITE_TEST_ENGINE_TEST_FILE_EXCLUDE_PATTERN='tests/api/**'
  run "$TEP_BIN" plan
  assert_success
  assert_equal "$(slice_tests 0)" "$(printf '%s\n' tests/test_cart.py tests/test_orders.py tests/test_payments.py tests/unit/tax_test.py tests/unit/test_money.py)"
}

@test "a pattern that names a hidden directory enters it" {
  export BUILDKITE_PARALLEL_JOB_COUNT=1 BUILDKITE_TEST_ENGINE_TEST_FILE_PATTERN='.venv/**/test_*.py'
  run "$TEP_BIN" plan
  assert_success
  assert_equal "$(slice_tests 0)" ".venv/lib/test_hidden.py"
}

@test "BUILDKITE_TEST_ENGINE_FILES replaces discovery" {
  printf 'tests/test_cart.py\n\n  tests/unit/tax_test.py  \n' > files.txt
  export BUILDKITE_TEST_ENGINE_FILES=files.txt BUILDKITE_PARALLEL_JOB_COUNT=1
  run "$TEP_BIN" plan
  assert_success
  assert_equal "$(slice_tests 0)" "$(printf '%s\n' tests/test_cart.py tests/unit/tax_test.py)"
}

@test "fallback with known durations uses LPT and prints loads and the bound" {
  cat > durations.json <<'JSON'
{"tests/test_orders.py::test_order_quantity[1]": 4.0, "tests/test_orders.py::test_order_reference": 4.0,
 "tests/test_cart.py::test_add_item": 6.0, "tests/test_payments.py::x": 3.0,
 "tests/unit/tax_test.py::test_vat": 1.0, "tests/api/test_users.py::t": 1.0}
JSON
  export BUILDKITE_TEST_ENGINE_DURATIONS_FILE=durations.json
  run "$TEP_BIN" plan
  assert_success
  # Known: orders 8, cart 6, payments 3, tax 1, users 1; money unknown = mean 3.8.
  # LPT: orders->0 (8), cart->1 (6), money->1 (9.8), payments->0 (11), tax->1 (10.8), users->1 (11.8).
  assert_output --partial "job 1: 2 entries, estimated 11.0s"
  assert_output --partial "job 2: 4 entries, estimated 11.8s"
  assert_output --partial "file-level bound 11.4s"
  assert_equal "$(slice_tests 0)" "$(printf '%s\n' tests/test_orders.py tests/test_payments.py)"
  job_env 1 2
  run "$TEP_BIN" plan
  assert_equal "$(slice_tests 1)" "$(printf '%s\n' tests/api/test_users.py tests/test_cart.py tests/unit/tax_test.py tests/unit/test_money.py)"
}

@test "our own 'seconds path' durations format is accepted" {
  printf '# seconds path\n8 tests/test_orders.py\n6 tests/test_cart.py\n' > durations.txt
  export BUILDKITE_TEST_ENGINE_DURATIONS_FILE=durations.txt
  run "$TEP_BIN" plan
  assert_success
  assert_output --partial "makespan"
}

@test "a broken durations file is named on one line and the split goes on" {
  printf 'eight tests/test_orders.py\n' > durations.txt
  export BUILDKITE_TEST_ENGINE_DURATIONS_FILE=durations.txt
  run "$TEP_BIN" plan
  assert_success
  assert_output --partial "durations.txt' line 1: expected '<seconds> <path>'"
  assert_output --partial "Plan source: fallback"
}

@test "--help lists options, env vars and exit statuses; --version prints the version" {
  run "$TEP_BIN" --help
  assert_success
  assert_output --partial "BUILDKITE_TEST_ENGINE_CA_BUNDLE"
  assert_output --partial "65       terminal"
  run "$TEP_BIN" --version
  assert_output --regexp '^test-engine-pytest [0-9]+\.[0-9]+\.[0-9]+$'
  run "$TEP_BIN" bogus
  assert_failure 78
  assert_output --partial "unknown subcommand 'bogus'"
}

@test "a blank API token is minted with OIDC inside a job; the server sees it, nobody else does" {
  install_agent_stub
  unset BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN
  export STUB_OIDC_TOKEN=oidc-SECRET-api-55
  faults '{}'
  run "$TEP_BIN" plan
  assert_success
  assert_output --partial "Using an OIDC token from buildkite-agent for BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN"
  assert_output --partial "Plan source: server"
  refute_output --partial "oidc-SECRET"
  grep -q '"Authorization": "Bearer oidc-SECRET-api-55"' "$SERVER_DIR/requests.jsonl"
  grep -q -- "--lifetime 7200" "$AGENT_DIR/calls"
}

@test "no API token and no way to mint one: 78 with one clear line; OIDC off says so too" {
  install_agent_stub
  unset BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN
  export STUB_OIDC_FAIL=1
  run "$TEP_BIN" plan
  assert_failure 78
  assert_output --partial "invalid configuration (1 problem)"
  assert_output --partial "BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN is blank and minting an OIDC token failed"
  export BUILDKITE_TEST_ENGINE_OIDC=off
  run "$TEP_BIN" plan
  assert_failure 78
  assert_output --partial "BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN: must not be blank"
  refute_output --partial "minting"
}

@test "a malformed OIDC lifetime is a configuration error" {
  export BUILDKITE_TEST_ENGINE_OIDC_LIFETIME=forever
  run "$TEP_BIN" plan
  assert_failure 78
  assert_output --partial "BUILDKITE_TEST_ENGINE_OIDC_LIFETIME: 'forever' is not a lifetime up to 24h"
}

@test "a Buildkite job without Test Engine (no suite slug, no token; the organization set, as Buildkite sets it) splits offline" {
  unset BUILDKITE_TEST_ENGINE_SUITE_SLUG BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN
  export BUILDKITE_ORGANIZATION_SLUG=acme BUILDKITE_TEST_ENGINE_OIDC=false
  run "$TEP_BIN" plan
  assert_success
  assert_output --partial "no Test Engine suite or token configured: planning locally"
  assert_equal "$(requests_to /test_plan)" 0
}
