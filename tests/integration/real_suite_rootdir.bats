#!/usr/bin/env bats
# A real suite whose pytest rootdir is below the checkout: mpmath's own tests
# (Debian's python3-mpmath ships them), vendored at vendor/ beside its own
# setup.py, as a repository that carries a library does. Two whole Buildkite
# builds of a 6-job step through the real-agent job runner, Test Engine's plan
# API down (so the fallback plans), the step's command activating a
# virtualenv (`python` exists only inside it, so the plan phase cannot run
# the test command's interpreter):
#   1. without durations: the jobs upload their per-test durations artifacts;
#   2. with `durations merge` of those artifacts as the durations file: the
#      fallback splits the slowest file by test, the run phase settles each
#      job's share in the step's environment, every collected test runs
#      exactly once, and Buildkite's retry of the job that failed runs exactly
#      its failures.
# The suite's two minute-long tests are deselected (-k) to keep this under a
# minute; the rest (about 330 tests) run.

load '../support/helpers'

MPMATH=/usr/lib/python3/dist-packages/mpmath
JOBS=6
DESELECT="not test_bessel_zeros_extra and not test_polyroots_legendre_init"

setup_file() {
  [ -d "$MPMATH/tests" ] || {
    echo "python3-mpmath with its tests is not installed: apt-get install python3-mpmath (scripts/test does)" >&2
    return 1
  }
}

setup() {
  PROJ="$BATS_TEST_TMPDIR/proj"
  mkdir -p "$PROJ/vendor"
  cp -a "$MPMATH" "$PROJ/vendor/mpmath"
  find "$PROJ" -name __pycache__ -prune -exec rm -rf {} +
  # mpmath's own setup.py: pytest's rootdir for its tests is vendor/, not the checkout
  printf 'from setuptools import setup\n\nsetup(name="mpmath", version="1.2.1", packages=["mpmath"])\n' \
    > "$PROJ/vendor/setup.py"
  # mpmath's suite leans on its order, as many real suites do, and a split reorders it: it
  # draws unseeded random inputs (test_elliptic, test_linalg...) and a few draws fail, and a
  # test leaves the precision where it set it (test_hp's last, 4000 digits: the next file's
  # integrals then run for many minutes). The team isolates each test, as suites that are
  # split must: a seed from its id, mpmath's default precision.
  printf '%s\n' 'import random' '' 'import mpmath' 'import pytest' '' '' '@pytest.fixture(autouse=True)' \
    'def _isolated(request):' '    random.seed(request.node.nodeid)' '    mpmath.mp.dps = 15' \
    > "$PROJ/vendor/conftest.py"
  # a test the team broke, next to the library's own
  printf 'import mpmath\n\n\ndef test_broken_by_the_team():\n    assert mpmath.mpf(1) == 2, "broken on purpose"\n' \
    > "$PROJ/vendor/mpmath/tests/test_team.py"
  SPY="$BATS_TEST_TMPDIR/spy"
}

# build NAME [PLUGIN-JSON]: a whole build of the step (and Buildkite's retry of exit 1), in $BATS_TEST_TMPDIR/NAME.
build() {
  local config
  config=$("$SERVER_PY" - "${2:-{\}}" "$DESELECT" <<'PY'
import json, sys
c = {"retry-count": 0, "api-retry-budget": 0, "test-file-pattern": "vendor/mpmath/tests/test_*.py",
     "test-cmd": f"python -m pytest -p tep_collector -p no:cacheprovider -k '{sys.argv[2]}' "
                 "{{testExamples}} --json={{resultPath}}"}
c.update(json.loads(sys.argv[1]))
print(json.dumps(c))
PY
)
  W="$BATS_TEST_TMPDIR/$1"
  rm -rf "$SPY"
  mkdir -p "$SPY"
  JOBS=$JOBS PROJECT="$PROJ" KEEP_WORK="$W" DEMO_BINARY="$TEP_BIN" DEMO_SPY_DIR="$SPY" \
    DEMO_ENV="BUILDKITE_TEST_ENGINE_BASE_URL=https://127.0.0.1:9" DEMO_PLUGIN_CONFIG="$config" \
    "$SUPPORT/simulate_build.sh" > "$BATS_TEST_TMPDIR/$1.log" 2>&1 ||
    { tail -40 "$BATS_TEST_TMPDIR/$1.log"; return 1; }
}

# first_attempts_ran BUILD: "count scope::name" of every test the first attempts of BUILD uploaded.
first_attempts_ran() {
  "$SERVER_PY" - "$BATS_TEST_TMPDIR/$1" <<'PY'
import collections, glob, json, sys
work = sys.argv[1]
first = {open(p).read().strip() for p in glob.glob(f"{work}/logs/job-*-try-0.id")}
seen = collections.Counter()
for line in open(f"{work}/server/requests.jsonl"):
    r = json.loads(line)
    if r["path"] != "/v1/uploads" or r["body"]["fields"].get("run_env[job_id]") not in first:
        continue
    for rec in json.loads(r["body"]["data"]["text"]):
        seen[rec["scope"] + "::" + rec["name"]] += 1
for node, n in sorted(seen.items()):
    print(n, node)
PY
}

@test "mpmath vendored below the checkout (its own setup.py), 6 jobs, fallback with durations, a virtualenv step: every test once, and the retry runs exactly the failures" {
  # What pytest collects, from where the jobs run it (ids relative to its rootdir, vendor/).
  (cd "$PROJ" && /usr/bin/python3 -m pytest --collect-only -q -p no:cacheprovider -k "$DESELECT" vendor/mpmath/tests) |
    grep '::' | sort | sed 's/^/1 /' > "$BATS_TEST_TMPDIR/want.txt"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/want.txt")" -ge 300 ]
  grep -q "^1 mpmath/tests/test_team.py::test_broken_by_the_team$" "$BATS_TEST_TMPDIR/want.txt"

  # 1. A build without durations; its jobs upload durations artifacts.
  build first
  first_attempts_ran first > "$BATS_TEST_TMPDIR/ran-first.txt"
  diff "$BATS_TEST_TMPDIR/want.txt" "$BATS_TEST_TMPDIR/ran-first.txt"
  ls "$BATS_TEST_TMPDIR/first/agent/artifacts/files/"*/test-engine-pytest-durations-*.json > "$BATS_TEST_TMPDIR/artifacts.txt"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/artifacts.txt")" -ge "$JOBS" ] # and the retry's

  # 2. Their merge keys tests from the checkout, as the plan's paths are.
  # shellcheck disable=SC2046
  "$TEP_BIN" durations merge $(cat "$BATS_TEST_TMPDIR/artifacts.txt") > "$PROJ/.test_durations"
  grep -q '"vendor/mpmath/tests/test_calculus.py::test_polyroots_legendre"' "$PROJ/.test_durations"
  run ! grep -q '"mpmath/tests/' "$PROJ/.test_durations"

  # 3. The next build plans with them: the slowest file is split by test, and
  # each job's share is settled by the run phase, where `python` exists.
  build second '{"durations-file": ".test_durations"}'
  grep -q "Fallback plan: longest processing time first" "$BATS_TEST_TMPDIR/second.log" ||
    grep -qi "split" "$BATS_TEST_TMPDIR/second.log"
  grep -q "this job's share of the split files is settled when the step's command runs" "$BATS_TEST_TMPDIR/second.log"
  grep -q "split by example: this job's share of" "$BATS_TEST_TMPDIR/second.log"
  first_attempts_ran second > "$BATS_TEST_TMPDIR/ran-second.txt"
  diff "$BATS_TEST_TMPDIR/want.txt" "$BATS_TEST_TMPDIR/ran-second.txt"

  # 4. Buildkite's retry of each job that exited 1 ran exactly that job's
  # failures. The team's broken test is one of them; with the split by test,
  # a job's order differs from the suite's, and an mpmath test that depends on
  # state an earlier test left (its precision, say) can fail too: a real shape
  # of a real suite, so the check is per job, not "one job failed".
  "$SERVER_PY" - "$BATS_TEST_TMPDIR/second" "$SPY" "$JOBS" > "$BATS_TEST_TMPDIR/retries.txt" <<'PY'
import glob, json, sys
work, spy, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3])
job_of = {open(f"{work}/logs/job-{k}-try-0.id").read().strip(): k for k in range(jobs)}
failed = {k: set() for k in range(jobs)}
for line in open(f"{work}/server/requests.jsonl"):
    r = json.loads(line)
    k = job_of.get(r["body"]["fields"].get("run_env[job_id]")) if r["path"] == "/v1/uploads" else None
    if k is None:
        continue
    for rec in json.loads(r["body"]["data"]["text"]):
        if rec.get("result") == "failed":
            failed[k].add("vendor/" + rec["scope"] + "::" + rec["name"])
retried = {k: set() for k in range(jobs)}
for p in glob.glob(f"{spy}/python-*.json"):
    r = json.load(open(p))
    e = r["environ"]
    if e.get("BUILDKITE_RETRY_COUNT") == "1" and r["argv"][:1] == ["-m"] and "--collect-only" not in r["argv"]:
        retried[int(e["BUILDKITE_PARALLEL_JOB"])].update(a for a in r["argv"] if a.startswith("vendor/"))
for k in range(jobs):
    exit0 = open(f"{work}/logs/job-{k}-try-0.exit").read().strip()
    print(k, exit0, "failed:", " ".join(sorted(failed[k])) or "-", "| retried:", " ".join(sorted(retried[k])) or "-")
    assert exit0 == ("1" if failed[k] else "0"), f"job {k} exited {exit0} with failures {failed[k]}"
    assert retried[k] == failed[k], f"job {k}: retried {retried[k]}, failed {failed[k]}"
PY
  cat "$BATS_TEST_TMPDIR/retries.txt" >&3
  team=$(grep -c "failed:.*vendor/mpmath/tests/test_team.py::test_broken_by_the_team" "$BATS_TEST_TMPDIR/retries.txt")
  assert_equal "$team" 1
  j=$(grep "failed:.*test_broken_by_the_team" "$BATS_TEST_TMPDIR/retries.txt" | cut -d' ' -f1)
  assert_equal "$(cat "$BATS_TEST_TMPDIR/second/logs/job-$j-try-1.exit")" 1
}
