#!/usr/bin/env bash
# Upload benchmark: 100,000 collector records (real conformance records with
# new names) uploaded by `test-engine-pytest report` to the local stand-in over
# HTTPS, in batches of 5,000. Prints wall time, requests, records the server
# counted, and the reporter's peak RSS next to the result file's size.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/test-engine-pytest"
conf="$root/fixtures/conformance/pytest-7.2.1-collector-1.8.0"
[ -x "$bin" ] && [ -d "$conf" ] || { echo "needs build/test-engine-pytest and fixtures/conformance" >&2; exit 2; }
RECORDS=${RECORDS:-100000}
work=$(mktemp -d /tmp/tep-bench-upload-XXXXXX)
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid"; rm -rf "$work"' EXIT
"$root/tests/support/make_certs.sh" "$work/certs"
mkdir -p "$work/server" "$work/state/results"
/usr/bin/python3 "$root/tests/support/te_server.py" --dir "$work/server" --cert "$work/certs/server.pem" --key "$work/certs/server.key" &
server_pid=$!
for _ in $(seq 1 100); do [ -f "$work/server/port" ] && break; sleep 0.05; done
/usr/bin/python3 - "$conf" "$work/state" "$RECORDS" <<'PY'
import glob, json, sys, uuid
conf, state, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
seed = [r for f in sorted(glob.glob(conf + "/*.json")) for r in json.load(open(f))]
recs = []
for i in range(n):
    r = dict(seed[i % len(seed)]); r["id"] = str(uuid.uuid4()); r["name"] = f'{r["name"]}_{i}'; recs.append(r)
json.dump(recs, open(state + "/results/attempt-0.json", "w"))
json.dump({"version": 1, "mode": "json", "plan_source": "fallback", "plan_reason": "", "from_server": False,
           "exit_status": 1, "terminal": False, "why": "bench", "forensics": "",
           "attempts": [{"index": 0, "result_file": "results/attempt-0.json", "exit_code": 1, "signal": 0,
                         "started": 0, "ended": 0, "selectors": 1}], "tests": []}, open(state + "/run.json", "w"))
PY
size=$(stat -c %s "$work/state/results/attempt-0.json")
export BUILDKITE_TEST_ENGINE_STATE_DIR="$work/state" BUILDKITE_ANALYTICS_TOKEN=bench-token
export BUILDKITE_TEST_ENGINE_UPLOAD_BASE_URL="https://127.0.0.1:$(cat "$work/server/port")"
export BUILDKITE_TEST_ENGINE_CA_BUNDLE="$work/certs/ca.pem" BUILDKITE_BUILD_ID=bench BUILDKITE_JOB_ID=bench
export BUILDKITE_TEST_ENGINE_AGENT_CMD=true NO_COLOR=1
/usr/bin/time -f "%e %M" -o "$work/time" "$bin" report > "$work/out" 2>&1 || { cat "$work/out"; exit 1; }
read -r secs kib < "$work/time"
counted=$(/usr/bin/python3 -c '
import json, sys
n = q = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] == "/v1/uploads":
        n += 1; q += len(json.loads(r["body"]["data"]["text"]))
print(n, q)' "$work/server/requests.jsonl")
echo "result file:        $RECORDS records, $size bytes"
grep '^Upload:' "$work/out" | sed 's/^/reporter said:      /'
echo "server counted:     ${counted% *} requests, ${counted#* } records"
echo "wall time:          ${secs}s (whole report process, HTTPS to a Python stand-in on loopback)"
awk -v k="$kib" -v s="$size" 'BEGIN { printf "peak RSS:           %.1f MiB = %.2fx the result file\n", k / 1024, k * 1024 / s }'
