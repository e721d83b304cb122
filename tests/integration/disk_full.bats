#!/usr/bin/env bats
# A full disk where the state folder lives: said as "disk full" (exit 74, not
# the configuration status), run.json kept for what finished, and the report
# phase still uploads the results written before the disk filled. Each test
# runs its phases in a private mount namespace with a small tmpfs as the state
# folder's file system (root and unshare needed; the real binary, real HTTPS).

load '../support/helpers'

setup() {
  if ! unshare -m true 2>/dev/null; then
    skip "needs root and unshare -m to mount a small tmpfs"
  fi
  start_server
  job_env 0 1
  install_agent_stub
  export PYTHONPATH="$SUPPORT" PYTHONDONTWRITEBYTECODE=1 BUILDKITE_ANALYTICS_TOKEN="$UPLOAD_TOKEN"
  SMALL="$BATS_TEST_TMPDIR/small" OUT="$BATS_TEST_TMPDIR/out"
  mkdir -p "$SMALL" "$OUT"
  export SMALL OUT BUILDKITE_TEST_ENGINE_STATE_DIR="$BATS_TEST_TMPDIR/small/state"
}

teardown() { stop_server; }

# in_small_fs SIZE SCRIPT: runs the bash SCRIPT with $SMALL a tmpfs of SIZE
# (gone when the script ends); each phase leaves <phase>.log and
# <phase>.status in $OUT through `phase NAME ARGS...`.
in_small_fs() {
  unshare -m bash -c '
    set -u
    mount -t tmpfs -o size="$1" tmpfs "$SMALL" || exit 99
    phase() { local name=$1; shift; "$@" > "$OUT/$name.log" 2>&1; echo $? > "$OUT/$name.status"; }
    fill() { head -c "$1" /dev/zero > "$SMALL/fill" 2>/dev/null || true; }
    eval "$2"
    [ -f "$SMALL/state/run.json" ] && cp "$SMALL/state/run.json" "$OUT/run.json"
    true
  ' bash "$1" "$2"
}

@test "a full disk under the state folder: plan says disk full, exit 74, not the configuration status (was 78)" {
  copy_fixture shop
  in_small_fs 512k 'fill 600k; phase plan "$TEP_BIN" plan; phase run "$TEP_BIN" run'
  assert_equal "$(cat "$OUT/plan.status")" 74
  run cat "$OUT/plan.log"
  assert_output --regexp "error: disk full: cannot write .*/state/slice.json \(No space left on device\); free space on that file system"
  refute_output --partial "invalid configuration"
  assert_equal "$(cat "$OUT/run.status")" 74
  run cat "$OUT/run.log"
  assert_output --partial "disk full: "
}

@test "results cut short by a full disk: run says so (74) and keeps run.json; report uploads what finished (was 65, nothing)" {
  mkdir -p "$BATS_TEST_TMPDIR/work" && cd "$BATS_TEST_TMPDIR/work"
  touch test_big.py
  # A collector that writes 60,000 records (~20 MB) into an 8 MB file system.
  cat > gen.sh <<'SH'
#!/usr/bin/env bash
for a in "$@"; do case "$a" in --json=*) out=${a#--json=};; esac; done
exec /usr/bin/python3 -c '
import json, sys
recs = [{"id": "r%d" % i, "scope": "test_big.py", "name": "test_%d" % i, "file_name": "test_big.py",
         "result": "failed" if i % 1000 == 7 else "passed", "failure_reason": "x" * 200} for i in range(60000)]
json.dump(recs, open(sys.argv[1], "w"))' "$out"
SH
  chmod +x gen.sh
  export BUILDKITE_TEST_ENGINE_TEST_CMD="./gen.sh {{testExamples}} --json={{resultPath}}"
  in_small_fs 8m 'phase run "$TEP_BIN" run; phase report "$TEP_BIN" report'
  assert_equal "$(cat "$OUT/run.status")" 74
  run cat "$OUT/run.log"
  assert_output --regexp "disk full: the file system of .*/state has no room left, so pytest's results were cut short \(results cannot be read: .*\); the results before the cut are kept for the report phase"
  refute_output --partial "terminal: do not retry"
  [ -s "$OUT/run.json" ]
  run cat "$OUT/report.log"
  refute_output --partial "nothing to report"
  # What finished was uploaded: thousands of records, far from all 60,000.
  sent=$(sed -n 's/^Upload: \([0-9]*\) results in .*/\1/p' <<<"$output")
  echo "uploaded $sent of the 60,000 results pytest began to write" >&3
  [ -n "$sent" ] && [ "$sent" -gt 1000 ] && [ "$sent" -lt 60000 ] || { echo "sent: '$sent'"; false; }
  received=$("$SERVER_PY" -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] == "/v1/uploads":
        n += len(json.loads(r["body"]["data"]["text"]))
print(n)' "$SERVER_DIR/requests.jsonl")
  assert_equal "$received" "$sent"
}
