#!/usr/bin/env bats
# bktec parity features through the real-agent job runner (the plugin's own
# hooks around the step's command, options from the pipeline, the strict
# agent stub): promise-failure and tag-filters as a pipeline would set them.

load '../support/helpers'

# simulate [ENV=VALUE...]: one build (and its automatic retries), kept in W.
simulate() {
  W="$BATS_TEST_TMPDIR/build"
  env KEEP_WORK="$W" DEMO_BINARY="$TEP_BIN" "$@" \
    "$TEP_SOURCE_DIR/tests/support/simulate_build.sh" >"$BATS_TEST_TMPDIR/build.log" 2>&1
}

@test "promise-failure from the pipeline: the failing job promises once, its passing retry does not; statuses unchanged" {
  simulate DEMO_PLUGIN_CONFIG='{"promise-failure": true}'
  run /usr/bin/python3 - "$W" <<'PY'
import json, sys
W = sys.argv[1]
exit_of = lambda j, r: int(open(f"{W}/logs/job-{j}-try-{r}.exit").read())
job_id = lambda j, r: open(f"{W}/logs/job-{j}-try-{r}.id").read().strip()
failing = [j for j in range(3) if exit_of(j, 0) == 1]
assert len(failing) == 1, [exit_of(j, 0) for j in range(3)]
assert exit_of(failing[0], 1) == 0  # the retry ran only the failed test and passed
promises = [json.loads(l) for l in open(f"{W}/agent/promised-failures.jsonl")]
assert promises == [{"exit_status": 1, "job_id": job_id(failing[0], 0),
                     "reason": "test_failure (1 failed after retries)"}], promises
print("ok")
PY
  assert_output ok
}

@test "tag-filters from the pipeline: two jobs run exactly the matching tests, once each" {
  # The plan phase collects in pre-command, before the step's command activates the
  # virtualenv: the test command names the interpreter by its path.
  simulate JOBS=2 PROJECT="$TEP_SOURCE_DIR/fixtures/tags" DEMO_PLUGIN_CONFIG='{"tag-filters": "team:payments",
    "test-cmd": "/usr/bin/python3 -m pytest -p tep_collector -p no:cacheprovider {{testExamples}} --json={{resultPath}}"}'
  run /usr/bin/python3 - "$W" <<'PY'
import json, sys
W = sys.argv[1]
ran = []
for line in open(f"{W}/server/requests.jsonl"):
    r = json.loads(line)
    if r["path"] == "/v1/uploads":
        ran += [rec["scope"] + "::" + rec["name"] for rec in json.loads(r["body"]["data"]["text"])]
assert sorted(ran) == ["tests/test_checkout.py::test_pay", "tests/test_checkout.py::test_rates[0.1]",
                       "tests/test_checkout.py::test_rates[0.2]", "tests/test_checkout.py::test_refund"], ran
assert all(int(open(f"{W}/logs/job-{j}-try-0.exit").read()) == 0 for j in range(2))
print("ok")
PY
  assert_output ok
}

@test "tag-filters with a launcher only the step's setup provides: 78 at pre-command, saying how to fix it" {
  simulate JOBS=1 PROJECT="$TEP_SOURCE_DIR/fixtures/tags" DEMO_PLUGIN_CONFIG='{"tag-filters": "team:payments"}' || true
  assert_equal "$(cat "$W/logs/job-0-try-0.exit")" 78
  run grep -c "the plan phase runs in pre-command, before the step's own setup" "$W/logs/job-0-try-0.log"
  assert_output 1
}
