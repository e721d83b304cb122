#!/usr/bin/env bats
# The step's annotation as a page: an 8-job step with Test Engine's API down
# (plan and upload), run with the real binary, real pytest and the strict stub
# agent, rendered with cmark-gfm (tests/support/annotation_page.py) and looked
# at in headless Chromium. Each job's part starts a block of its own whether
# the agent keeps or trims the whitespace around appended bodies (the stub's
# STUB_ANNOTATION_TRIM=1 trims, as agent 3.1 did); the notes every job shares
# (the local split, the failed upload) appear once for the step, not 8 times;
# each job's time says its estimate against what it took, its slowest tests
# and why tests were skipped. In Chromium, what a reader sees is measured on
# the layout it computed: boxes shown and apart, nothing wider than its box,
# each job's heading on a line of its own. TEP_SCREENSHOT_DIR=DIR keeps the
# screenshots and the measures.

load '../support/helpers'

LAUNCHER='/usr/bin/python3 -m pytest -p tep_collector -p no:cacheprovider'
BOX=test-engine-pytest-step-abcd

setup() {
  start_server
  install_agent_stub
  pytest_env
  export BUILDKITE_TEST_ENGINE_TEST_CMD="$LAUNCHER {{testExamples}} --json={{resultPath}}"
  export BUILDKITE_LABEL=':pytest: Unit tests' BUILDKITE_BUILD_URL=https://buildkite.localhost/acme/shop/builds/7
  export BUILDKITE_ANALYTICS_TOKEN="$UPLOAD_TOKEN"
  export BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=1 BUILDKITE_TEST_ENGINE_UPLOAD_RETRY_BUDGET=1
  faults '{"plan_get": [{"status": 503, "forever": true}], "plan_post": [{"status": 503, "forever": true}], "filter_tests": [{"status": 503, "forever": true}], "upload": [{"status": 503, "forever": true}]}'
  work_dir
  for n in 1 2 3 4 5 6 7; do
    printf 'def test_ok_%s():\n    pass\n' "$n" > "test_green_$n.py"
  done
  cat > test_slow.py <<'PY'
import time
import pytest

def test_slow():
    time.sleep(0.3)

@pytest.mark.skip(reason="needs network")
def test_net_a():
    pass

@pytest.mark.skipif(True, reason="needs network")
def test_net_b():
    pass

@pytest.mark.xfail(reason="bug 123")
def test_known_bug():
    assert False

def test_fails():
    assert 1 == 2, "*one* is not two"
PY
  cat > durations.json <<'JSON'
{"test_slow.py::test_slow": 0.3, "test_slow.py::test_fails": 0.01, "test_green_1.py::test_ok_1": 0.01}
JSON
  export BUILDKITE_TEST_ENGINE_DURATIONS_FILE=durations.json
}

teardown() { stop_server; }

# the_step: the 8 jobs, each planned, run and reported as Buildkite runs them.
the_step() {
  for n in 0 1 2 3 4 5 6 7; do
    job_env "$n" 8
    export BUILDKITE_TEST_ENGINE_API_RETRY_BUDGET=1
    "$TEP_BIN" run > "$BATS_TEST_TMPDIR/run-$n.log" 2>&1 || true
    "$TEP_BIN" report > "$BATS_TEST_TMPDIR/report-$n.log" 2>&1
  done
}

# box_html SUFFIX: a box's Markdown rendered by cmark-gfm.
box_html() { cmark-gfm --unsafe -e table "$AGENT_DIR/annotations/$BOX$1.md"; }

count() { grep -o -- "$1" | wc -l; }

check_page() {
  local notes plan_notes upload_notes time_html err_html
  # the shared notes: one box each for the step, though all 8 jobs wrote them
  notes=("$AGENT_DIR"/annotations/"$BOX"-note-*.md)
  plan_notes=$(grep -l "split locally, not by Test Engine" "${notes[@]}" | wc -l)
  upload_notes=$(grep -l "results not all uploaded to Test Engine" "${notes[@]}" | wc -l)
  assert_equal "$plan_notes" 1
  assert_equal "$upload_notes" 1
  assert_equal "$(grep -c -- "--context $BOX-note-" "$AGENT_DIR/calls")" 16
  ! grep -q -- "--append --style warning --context $BOX-note-" "$AGENT_DIR/calls"
  # ... and in no job's own section
  ! grep -q "split locally\|plan API could not be used\|not all uploaded" "$AGENT_DIR/annotations/$BOX.md" "$AGENT_DIR/annotations/$BOX-time.md"
  [ ! -e "$AGENT_DIR/annotations/$BOX-notes.md" ]

  # every job's time: its own block, once, in job order of the runs
  time_html=$(box_html -time)
  echo "$time_html"
  # a job with tests worth showing unfolds them under its line; the others are one line
  lines=$(count '<p><strong>:stopwatch: :pytest: Unit tests</strong>' <<<"$time_html")
  folds=$(count '<details><summary><strong>:stopwatch: :pytest: Unit tests</strong>' <<<"$time_html")
  assert_equal "$((lines + folds))" 8
  assert_equal "$(count ':stopwatch:' <<<"$time_html")" 8
  [ "$folds" -ge 1 ]
  for n in 1 2 3 4 5 6 7 8; do
    assert_equal "$(count ">job $n of 8</a>:" <<<"$time_html")" 1
  done
  # estimated against actual, from the durations file the local split used
  [[ "$time_html" =~ estimated\ [0-9.]+s\ from\ the\ durations\ file\ \([0-9]+\ of\ [0-9]+\ entr(y|ies)\ known\),\ took\ [0-9.]+s ]]
  # the slow job's slowest test, its skips by reason (the xfail said so), in pytest's words
  [[ "$time_html" =~ \<li\>[0-9]{3}ms\ \<code\>test_slow.py::test_slow\</code\> ]]
  [[ "$time_html" == *"2 × needs network (e.g. <code>test_slow.py::test_net_a</code>)"* ]]
  [[ "$time_html" == *"1 × xfail: bug 123 (e.g. <code>test_slow.py::test_known_bug</code>)"* ]]
  [[ "$time_html" == *"· 3 skipped</summary>"* ]]

  # the step's table of jobs: a row per job in job order, written whole by
  # each job from the rows the build's meta-data held (the last job's has all)
  local jobs_html
  jobs_html=$(box_html -jobs)
  echo "$jobs_html"
  [[ "$jobs_html" == *"Unit tests · the split, job by job</strong> (8 of 8 jobs reported)"* ]]
  assert_equal "$(count '<tr>' <<<"$jobs_html")" 9 # the header and 8 jobs
  rows=$(grep -o '<td><a href="[^"]*">[0-9] of 8</a></td>' <<<"$jobs_html" | sed 's/.*">\([0-9]\) of 8.*/\1/' | tr -d '\n')
  assert_equal "$rows" 12345678
  assert_equal "$(count '<td>planned locally</td>' <<<"$jobs_html")" 8
  [[ "$jobs_html" =~ \<td\ align=\"right\"\>[0-9.]+m?s\</td\>.\<td\ align=\"right\"\>[0-9.]+m?s\</td\> ]] # estimated, took
  assert_equal "$(count '<td align="right">1</td>' <<<"$jobs_html")" 7 # each green job ran its one test
  [[ "$jobs_html" == *"<td align=\"right\">5, 1 failed</td>"* ]] # the slow file's 5 tests
  [[ "$jobs_html" == *"8 of 8 jobs planned locally"* ]]
  [ "$(grep -c -- "--context $BOX-jobs" "$AGENT_DIR/calls")" -ge 8 ]
  ! grep -q -- "--append --style info --context $BOX-jobs" "$AGENT_DIR/calls"
  # the shared plan note counts the jobs that planned locally
  grep -q "Unit tests · 8 of 8 jobs split locally, not by Test Engine" "${notes[@]}"

  # the failing job's section opens a paragraph of its own, its link too
  err_html=$(box_html "")
  echo "$err_html"
  assert_equal "$(count '<p><strong>:x: :pytest: Unit tests</strong>' <<<"$err_html")" 1
  assert_equal "$(count '<p><strong>:link: :pytest: Unit tests</strong>' <<<"$err_html")" 0 # the upload failed: no run to link
  [[ "$err_html" == *"AssertionError: *one* is not two"* ]]
}

@test "8 jobs, Test Engine down, an agent that trims each body: every part its own block, shared notes once" {
  # shellcheck disable=SC2030 # each @test is a subshell: this test's agent alone trims
  export STUB_ANNOTATION_TRIM=1
  the_step
  # trimmed and joined with nothing between: the parts meet on one comment line
  grep -q '^<!-- /test-engine-pytest --><!-- test-engine-pytest: job [0-9] of 8 -->$' "$AGENT_DIR/annotations/$BOX-time.md"
  check_page
}

@test "the same step with an agent that keeps the whitespace reads the same" {
  the_step
  check_page
}

# layout JSON EXPR: EXPR, a Python expression over L (what Chromium measured,
# annotation_page.py --layout) and B (the step's box context), as JSON (a
# string as itself): assert_equal then shows what differed, from the measures.
layout() {
  /usr/bin/python3 -c 'import json, sys
L, B = json.load(open(sys.argv[1], encoding="utf-8")), sys.argv[3]
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))' "$1" "$2" "$BOX"
}

# check_layout JSON: the page as Chromium laid it out at 1000 px, folded or open.
check_layout() {
  local j=$1
  # five boxes, each shown inside the page's width, no two sharing a pixel
  assert_equal "$(layout "$j" 'L["viewport_width"]')" 1000
  assert_equal "$(layout "$j" 'len(L["boxes"])')" 5
  assert_equal "$(layout "$j" '[b["context"] for b in L["boxes"] if not b["visible"]]')" "[]"
  assert_equal "$(layout "$j" 'L["overlaps"]')" "[]"
  # no text, code or table wider than its box, nor the page wider than the window
  assert_equal "$(layout "$j" 'L["overflows"]')" "[]"
  assert_equal "$(layout "$j" 'L["page_scroll_width"] <= L["viewport_width"]')" true
  # every job's heading starts a line of its own, below all that comes before
  # it (the regression: a heading that ran into the previous paragraph), and
  # its job link sits on that line: 8 in the time box, the failing job's in
  # the step's box, one per shared note
  assert_equal "$(layout "$j" 'L["misplaced_headings"]')" "[]"
  assert_equal "$(layout "$j" 'sum(h["context"] == B + "-time" for h in L["headings"])')" 8
  assert_equal "$(layout "$j" 'sum(h["context"] == B for h in L["headings"])')" 1
  assert_equal "$(layout "$j" 'sum("-note-" in h["context"] for h in L["headings"])')" 2
  assert_equal "$(layout "$j" 'sum(h["context"] == B + "-jobs" for h in L["headings"])')" 1
  assert_equal "$(layout "$j" 'len(L["headings"])')" 12
  assert_equal "$(layout "$j" 'L["stray_job_links"]')" "[]"
  assert_equal "$(layout "$j" 'len(L["job_links"])')" 9
  # the time box: one entry per job (a <summary> line, a paragraph or a
  # table's row), shown, in job order, each below the one before
  assert_equal "$(layout "$j" '[e["job"] for e in L["time_entries"]]')" "[1, 2, 3, 4, 5, 6, 7, 8]"
  assert_equal "$(layout "$j" 'all(e["visible"] for e in L["time_entries"])')" true
  assert_equal "$(layout "$j" 'all(a["bottom"] <= b["top"] for a, b in zip(L["time_entries"], L["time_entries"][1:]))')" true
  # the notes every job shares, once on the page; the failure's reason as written
  assert_equal "$(layout "$j" 'L["visible_text"].count("split locally, not by Test Engine")')" 1
  assert_equal "$(layout "$j" 'L["visible_text"].count("results not all uploaded to Test Engine")')" 1
  assert_equal "$(layout "$j" 'L["visible_text"].count("AssertionError: *one* is not two")')" 1
  # the step's table of jobs: shown whole, its closing lines once
  assert_equal "$(layout "$j" '[b["visible"] and b["scroll_width"] <= b["client_width"] for b in L["boxes"] if b["context"] == B + "-jobs"]')" "[true]"
  assert_equal "$(layout "$j" 'L["visible_text"].count("8 of 8 jobs planned locally")')" 1
  # every :shortcode: an emoji, in the folded parts too
  assert_equal "$(layout "$j" 'L["shortcodes"]')" "[]"
}

@test "the page in a real browser: headless Chromium shows each box, each job's heading on a line of its own" {
  command -v chromium >/dev/null || skip "chromium is not installed (apt-get install chromium)"
  # shellcheck disable=SC2031 # set for this test alone, as in the first
  export STUB_ANNOTATION_TRIM=1
  the_step
  shots=${TEP_SCREENSHOT_DIR:-$BATS_TEST_TMPDIR}
  mkdir -p "$shots"
  run /usr/bin/python3 "$SUPPORT/annotation_page.py" "$AGENT_DIR" "$shots/annotation.html" --screenshot "$shots/annotation.png"
  assert_success
  run /usr/bin/python3 "$SUPPORT/annotation_page.py" "$AGENT_DIR" "$shots/annotation-open.html" --open --screenshot "$shots/annotation-open.png"
  assert_success
  # what a reader sees, folded and after a click on every <details>
  run /usr/bin/python3 "$SUPPORT/annotation_page.py" "$AGENT_DIR" "$BATS_TEST_TMPDIR/layout.html" --layout "$shots/layout.json"
  assert_success
  check_layout "$shots/layout.json"
  run /usr/bin/python3 "$SUPPORT/annotation_page.py" "$AGENT_DIR" "$BATS_TEST_TMPDIR/layout-open.html" --open --layout "$shots/layout-open.json"
  assert_success
  check_layout "$shots/layout-open.json"
  # the skip reasons are folded under job 8's line until a click
  assert_equal "$(layout "$shots/layout.json" 'L["visible_text"].count("2 × needs network")')" 0
  assert_equal "$(layout "$shots/layout-open.json" 'L["visible_text"].count("2 × needs network")')" 1
  # a PNG, and one with something on it: an empty page compresses to a few KiB
  for png in annotation.png annotation-open.png; do
    head -c 8 "$shots/$png" | od -An -c | grep -q 'P   N   G'
    [ "$(stat -c %s "$shots/$png")" -gt 20000 ]
  done
  echo "# screenshots: $shots/annotation.png, $shots/annotation-open.png; measures: $shots/layout.json, $shots/layout-open.json" >&3
  # the page the browser loaded: five boxes, the time box and the table of jobs last (priority 1)
  grep -o "data-style='[a-z]*'" "$shots/annotation.html" | tr '\n' ' ' | grep -q "data-style='info' data-style='info' $"
  assert_equal "$(grep -o "class='box'" "$shots/annotation.html" | wc -l)" 5
}
