#!/usr/bin/env bats
# The plan phase's file lookups are hashed (src/base/strset.c); these pin the
# behaviour the hashing must keep, with real pytest collecting.

load '../support/helpers'

setup() {
  fixture_job collect 2
  export PYTHONDONTWRITEBYTECODE=1
}

teardown() { stop_server; }

# posted_examples: the example ids of the last plan POST, one per line, in order.
posted_examples() {
  "$SERVER_PY" - "$SERVER_DIR/requests.jsonl" <<'PY'
import json, sys
posts = [json.loads(l) for l in open(sys.argv[1])]
posts = [r["body"] for r in posts if r["path"].endswith("/test_plan") and r["method"] == "POST"]
print("\n".join(e["identifier"] for e in posts[-1]["tests"].get("examples", [])))
PY
}

@test "a slow file filter_tests names twice is collected once: every example once" {
  server_config '{"filter_tests": ["tests/test_names.py", "tests/test_names.py", "not/ours.py"]}'
  run "$TEP_BIN" plan
  assert_success
  run posted_examples
  assert_success
  [ "${#lines[@]}" -eq 6 ]
  [ -z "$(printf '%s\n' "${lines[@]}" | sort | uniq -d)" ]
}
