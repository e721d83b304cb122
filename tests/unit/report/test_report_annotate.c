/* report_annotate: the run record turned into this job's part of the step's
 * annotation, sent with `buildkite-agent annotate --append` (the step's notes
 * without it). A fake agent on a temporary PATH records each call's arguments
 * and the body it read from stdin, and can refuse a call the way the real one
 * does when the box is full, or as an agent without --priority does. */
#include "unit.h"
#include "fake_agent.h"
#include "base/buf.h"
#include "base/fs.h"
#include "report/report_annotate.h"
#include "state/run_record.h"
#include "results/results_model.h"
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* Call n writes call-n.args (one argument a line) and call-n.body; `meta-data
 * keys` prints the file named keys when there is one; with a
 * file named refuse-n it then fails as the agent does on a full box; with
 * one named no-priority, a call with --priority fails as an agent older than
 * annotation priorities does. */
static const char *FAKE_AGENT =
    "#!/bin/sh\n"
    "n=$(ls \"$FAKE_AGENT_DIR\" | grep -c '^call-.*\\.args$')\n"
    "printf '%s\\n' \"$@\" > \"$FAKE_AGENT_DIR/call-$n.args\"\n"
    "cat > \"$FAKE_AGENT_DIR/call-$n.body\"\n"
    "if [ \"$1 $2\" = 'meta-data keys' ] && [ -e \"$FAKE_AGENT_DIR/keys\" ]; then\n"
    "  cat \"$FAKE_AGENT_DIR/keys\"\n"
    "fi\n"
    "if [ -e \"$FAKE_AGENT_DIR/refuse-$n\" ]; then\n"
    "  echo 'fatal: annotation body is too large' >&2; exit 1\n"
    "fi\n"
    "case \" $* \" in *' --priority '*) if [ -e \"$FAKE_AGENT_DIR/no-priority\" ]; then\n"
    "  echo 'flag provided but not defined: -priority' >&2; exit 1; fi;; esac\n";

typedef struct {
    fake_bin_t bin;
    config_t cfg;
    run_record_t rec;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    fake_bin_open(&f->bin, "tep-annotate");
    fake_bin_script(&f->bin, "buildkite-agent", FAKE_AGENT);
    setenv("FAKE_AGENT_DIR", f->bin.dir, 1);
    f->cfg.agent_cmd = "buildkite-agent";
    f->cfg.step_id = "step-1";
    f->cfg.label = "Unit tests";
    f->cfg.build_url = "https://buildkite.com/acme/shop/builds/7";
    f->cfg.job_id = "job-2";
    f->cfg.test_cmd = "python3 -m pytest --json {{resultPath}} {{testExamples}}";
    f->cfg.parallel_job = 1;
    f->cfg.parallel_job_count = 3;
    f->rec.mode = xstrdup("json");
    f->rec.plan_source = xstrdup("server (new plan)");
    results_model_init(&f->rec.result, NULL, 0);
    results_timing_init(&f->rec.timing);
    f->rec.timing.entries = 1; /* the slice had an entry; no estimate for it */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    fake_bin_close(&f->bin);
    run_record_free(&f->rec);
    free(f);
    return 0;
}

static void add_record(fixture_t *f, const char *file, const char *name, test_status_t status,
                       const char *failure)
{
    char *id = xasprintf("%s::%s", file, name);
    test_record_t r = {.scope = file,
                       .name = name,
                       .node_id = id,
                       .file = file,
                       .status = status,
                       .failure = failure,
                       .duration = 0.1};
    results_model_add(&f->rec.result, &r);
    free(id);
}

static int calls(const fixture_t *f)
{
    int n = 0;
    for (;; n++) {
        char *name = xasprintf("%s/call-%d.args", f->bin.dir, n);
        bool there = fs_exists(name);
        free(name);
        if (!there) return n;
    }
}

/* What call n got: "args" (one a line) or "body". Caller frees. */
static char *call_file(const fixture_t *f, int n, const char *what)
{
    char *name = xasprintf("%s/call-%d.%s", f->bin.dir, n, what);
    size_t len;
    char *text = fs_read_file(name, &len);
    assert_non_null(text);
    free(name);
    return text;
}

static void refuse_call(const fixture_t *f, int n)
{
    char *name = xasprintf("%s/refuse-%d", f->bin.dir, n);
    FILE *out = fopen(name, "w");
    assert_non_null(out);
    fclose(out);
    free(name);
}

static void failing_job_writes_its_section_to_the_error_box(void **state)
{
    fixture_t *f = *state;
    add_record(f, "tests/test_a.py", "test_x", ST_FAILED, "AssertionError: boom\nmore");
    add_record(f, "tests/test_a.py", "test_ok", ST_PASSED, NULL);
    f->rec.exit_status = 1;
    char *err = NULL;
    assert_true(report_annotate_send(&f->cfg, &f->rec, NULL, &err));
    assert_null(err);
    /* the section, the job's time, then the step's table of jobs: its row's key
     * set, the keys read, the table written, the keys read once more (rows
     * were missing) */
    assert_int_equal(calls(f), 6);
    char *args = call_file(f, 0, "args");
    assert_string_equal(args, "annotate\n--append\n--style\nerror\n--context\n"
                              "test-engine-pytest-step-1\n");
    char *body = call_file(f, 0, "body");
    /* wrapped to stand on its own in the box, whatever joins the bodies */
    const char *opening = "<!-- test-engine-pytest: job 2 of 3 -->\n\n**:x: ";
    assert_true(strncmp(body, opening, strlen(opening)) == 0);
    assert_non_null(strstr(body, "\n\n<!-- /test-engine-pytest -->\n"));
    assert_non_null(strstr(body, "**:x: Unit tests** · [job 2 of 3]"
                                 "(https://buildkite.com/acme/shop/builds/7#job-2)"));
    assert_non_null(strstr(body, "failed (exit status 1)"));
    assert_non_null(strstr(body, "1 failed · 1 passed"));
    assert_non_null(strstr(body, "- `tests/test_a.py::test_x`: AssertionError: boom\n"));
    assert_null(strstr(body, "more")); /* only the failure's first line */
    assert_non_null(strstr(body, "Reproduce locally: `python3 -m pytest tests/test_a.py::test_x`"));
    free(args);
    free(body);
    args = call_file(f, 1, "args");
    assert_string_equal(args, "annotate\n--append\n--style\ninfo\n--context\n"
                              "test-engine-pytest-step-1-time\n--priority\n1\n");
    free(args);
}

/* Nothing for the failures and notes boxes: only its time, in the info box. */
static void a_passing_job_with_nothing_to_say_writes_only_its_time(void **state)
{
    fixture_t *f = *state;
    add_record(f, "tests/test_a.py", "test_ok", ST_PASSED, NULL);
    char *err = NULL;
    assert_true(report_annotate_send(&f->cfg, &f->rec, NULL, &err));
    assert_int_equal(calls(f), 5); /* its time, then the step's table (4 calls) */
    char *args = call_file(f, 0, "args");
    assert_non_null(strstr(args, "--context\ntest-engine-pytest-step-1-time\n"));
    free(args);
    char *body = call_file(f, 0, "body");
    assert_non_null(strstr(body, "**:stopwatch: Unit tests** · [job 2 of 3]"
                                 "(https://buildkite.com/acme/shop/builds/7#job-2): no estimate"));
    free(body);
    /* ... and after an upload that went fine: nothing more. */
    report_upload_summary_t up = {.records = 1, .total = 1, .requests = 1};
    assert_true(report_annotate_send(&f->cfg, &f->rec, &up, &err));
    assert_int_equal(calls(f), 5);
}

/* An agent without --priority: the time goes in without it. */
static void an_agent_without_priorities_still_gets_the_time(void **state)
{
    fixture_t *f = *state;
    char *flag = xasprintf("%s/no-priority", f->bin.dir);
    FILE *out = fopen(flag, "w");
    assert_non_null(out);
    fclose(out);
    free(flag);
    add_record(f, "tests/test_a.py", "test_ok", ST_PASSED, NULL);
    char *err = NULL;
    assert_true(report_annotate_send(&f->cfg, &f->rec, NULL, &err));
    assert_int_equal(calls(f), 7); /* the time and the table: each refused once */
    char *args = call_file(f, 1, "args");
    assert_string_equal(args, "annotate\n--append\n--style\ninfo\n--context\n"
                              "test-engine-pytest-step-1-time\n");
    free(args);
    args = call_file(f, 5, "args");
    assert_string_equal(args,
                        "annotate\n--style\ninfo\n--context\ntest-engine-pytest-step-1-jobs\n");
    free(args);
}

/* A fallback plan is the step's note: written whole (no --append), under a
 * context named after its text, so every job writing it leaves one box. */
static void a_fallback_plan_is_the_steps_note(void **state)
{
    fixture_t *f = *state;
    add_record(f, "tests/test_a.py", "test_ok", ST_PASSED, NULL);
    free(f->rec.plan_source);
    f->rec.plan_source = xstrdup("fallback");
    f->rec.plan_reason = xstrdup("Timeout: Test Engine API did not answer (2 attempts)");
    char *err = NULL;
    assert_true(report_annotate_send(&f->cfg, &f->rec, NULL, &err));
    assert_int_equal(calls(f), 6); /* its time, the step's table, then the step's note */
    char *args = call_file(f, 5, "args");
    assert_null(strstr(args, "--append"));
    assert_non_null(strstr(args, "annotate\n--style\nwarning\n--context\n"
                                 "test-engine-pytest-step-1-note-"));
    char *body = call_file(f, 5, "body");
    assert_non_null(strstr(body, "1 of 3 jobs split locally, not by Test Engine**"));
    assert_non_null(strstr(body, "Timeout: Test Engine API did not answer (2 attempts)"));
    assert_null(strstr(body, "job 2 of 3")); /* the step's, not this job's */
    /* another job, another attempt count: the same note's box */
    free(f->rec.plan_reason);
    f->rec.plan_reason = xstrdup("Timeout: Test Engine API did not answer (3 attempts)");
    f->cfg.parallel_job = 2;
    assert_true(report_annotate_send(&f->cfg, &f->rec, NULL, &err));
    assert_int_equal(calls(f), 12);
    char *again = call_file(f, 11, "args");
    assert_string_equal(again, args);
    free(again);
    free(args);
    free(body);
    /* no Test Engine configured: planning locally is the plan, not a problem */
    f->cfg.offline = true;
    assert_true(report_annotate_send(&f->cfg, &f->rec, NULL, &err));
    assert_int_equal(calls(f), 17);
}

/* Failed, then passed on an in-job retry: a note in the warning box. */
static void a_flaky_test_goes_to_the_notes_box(void **state)
{
    fixture_t *f = *state;
    add_record(f, "tests/test_b.py", "test_flaky", ST_FAILED, "timeout");
    add_record(f, "tests/test_b.py", "test_flaky", ST_PASSED, NULL);
    char *err = NULL;
    assert_true(report_annotate_send(&f->cfg, &f->rec, NULL, &err));
    assert_int_equal(calls(f), 6); /* the note, the job's time, the step's table */
    char *args = call_file(f, 0, "args");
    assert_string_equal(args, "annotate\n--append\n--style\nwarning\n--context\n"
                              "test-engine-pytest-step-1-notes\n");
    char *body = call_file(f, 0, "body");
    assert_non_null(strstr(body, "**:warning: Unit tests**"));
    assert_non_null(strstr(body, "- `tests/test_b.py::test_flaky`\n"));
    free(args);
    free(body);
}

/* The agent refuses the section (the box is full): false with its reason,
 * and one short line goes in its place. */
static void a_refused_section_becomes_one_line(void **state)
{
    fixture_t *f = *state;
    add_record(f, "tests/test_a.py", "test_x", ST_FAILED, "boom");
    f->rec.exit_status = 1;
    refuse_call(f, 0);
    char *err = NULL;
    assert_false(report_annotate_send(&f->cfg, &f->rec, NULL, &err));
    assert_string_equal(err, "buildkite-agent annotate --append exited 1: fatal: annotation body "
                             "is too large");
    free(err);
    assert_int_equal(calls(f), 7); /* refused, the line instead, the job's time, the table */
    char *body = call_file(f, 1, "body");
    assert_non_null(strstr(body, "failed (1 failed · 0 passed); the annotation is full, details "
                                 "are in the job log\n\n<!-- /test-engine-pytest -->\n"));
    /* the opening comment, a blank line, the one line, a blank line, the closing comment */
    size_t lines = 0;
    for (const char *p = body; *p; p++) lines += *p == '\n';
    assert_int_equal(lines, 5);
    free(body);
}

/* After the upload: a failing job links its Test Engine run; an upload
 * that fell short is the step's note, without this job's counts. */
static void the_upload_line(void **state)
{
    fixture_t *f = *state;
    add_record(f, "tests/test_a.py", "test_x", ST_FAILED, "boom");
    f->rec.exit_status = 1;
    report_upload_summary_t up = {.records = 1, .total = 1, .requests = 1};
    up.run_url = "https://buildkite.com/organizations/acme/analytics/runs/42";
    char *err = NULL;
    assert_true(report_annotate_send(&f->cfg, &f->rec, &up, &err));
    assert_int_equal(calls(f), 1);
    char *body = call_file(f, 0, "body");
    assert_non_null(strstr(
        body, ":link: Unit tests** · [job 2 of 3](https://buildkite.com/acme/shop/builds/7#job-2)"
              ": results in [Test Engine](https://buildkite.com/organizations/acme/analytics/"
              "runs/42)\n"));
    free(body);

    f->rec.exit_status = 0;
    results_model_free(&f->rec.result);
    results_model_init(&f->rec.result, NULL, 0);
    up = (report_upload_summary_t){.records = 0, .total = 3, .requests = 2, .failed_requests = 2};
    up.end = REPORT_UPLOAD_STOPPED_AUTH;
    up.last_error = "HTTP 401: unauthorized";
    assert_true(report_annotate_send(&f->cfg, &f->rec, &up, &err));
    assert_int_equal(calls(f), 2);
    char *args = call_file(f, 1, "args");
    assert_non_null(strstr(args, "annotate\n--style\nwarning\n--context\n"
                                 "test-engine-pytest-step-1-note-"));
    assert_null(strstr(args, "--append"));
    body = call_file(f, 1, "body");
    assert_non_null(
        strstr(body, ":warning: Unit tests · results not all uploaded to Test Engine**"));
    assert_non_null(strstr(body, "Upload: the upload API refused the token (HTTP 401: "
                                 "unauthorized); check BUILDKITE\\_ANALYTICS\\_TOKEN"));
    assert_null(strstr(body, "job 2 of 3"));
    assert_null(strstr(body, "3 not sent")); /* this job's count is in its log */
    free(args);
    free(body);
}

/* The step's table of jobs: this job's row goes into a meta-data key, the
 * table is written whole from every row the keys hold (another step's rows
 * left out; a retried job's first attempt with its retry beside it), the plan
 * note counts the jobs that planned locally; a one-job step has no table. */
static void the_steps_table_of_jobs(void **state)
{
    fixture_t *f = *state;
    add_record(f, "tests/test_a.py", "test_ok", ST_PASSED, NULL);
    free(f->rec.plan_source);
    f->rec.plan_source = xstrdup("fallback");
    f->rec.plan_reason = xstrdup("Timeout: Test Engine API did not answer");
    f->rec.timing.estimate_s = 2.5;
    char *keys = xasprintf("%s/keys", f->bin.dir);
    FILE *out = fopen(keys, "w");
    assert_non_null(out);
    fputs("test-engine-pytest:time:step-1:0:0:3000:2900:40:0:l:job-1\n"
          "test-engine-pytest:time:step-1:2:0:1000:9000:7:1:l:job-3\n"
          "test-engine-pytest:time:step-1:2:1:1000:1100:7:0:l:job-3b\n"
          "test-engine-pytest:time:step-9:1:0:1:1:1:0:s:other\n"
          "retry-selectors\n",
          out);
    fclose(out);
    free(keys);
    char *err = NULL;
    assert_true(report_annotate_send(&f->cfg, &f->rec, NULL, &err));
    assert_int_equal(calls(f), 5); /* time, key, keys, table (all 3 rows: no second look), note */
    char *args = call_file(f, 1, "args");
    assert_string_equal(args,
                        "meta-data\nset\ntest-engine-pytest:time:step-1:1:0:2500:-:1:0:l:job-2\n");
    free(args);
    char *value = call_file(f, 1, "body");
    assert_string_equal(value, "job 2 of 3, retry 0 (the key holds its row)");
    free(value);
    args = call_file(f, 2, "args");
    assert_string_equal(args, "meta-data\nkeys\n");
    free(args);
    args = call_file(f, 3, "args");
    assert_string_equal(args, "annotate\n--style\ninfo\n--context\ntest-engine-pytest-step-1-jobs\n"
                              "--priority\n1\n");
    free(args);
    char *body = call_file(f, 3, "body");
    assert_non_null(strstr(body, "(3 of 3 jobs reported)"));
    assert_non_null(strstr(body, "| [1 of 3](https://buildkite.com/acme/shop/builds/7#job-1) | "
                                 "planned locally | 3.0s | 2.9s | -3% | 40 |\n"
                                 "| [2 of 3](https://buildkite.com/acme/shop/builds/7#job-2) | "
                                 "planned locally | 2.5s | – | – | 1 |\n"
                                 "| [3 of 3](https://buildkite.com/acme/shop/builds/7#job-3) | "
                                 "planned locally | 1.0s | 9.0s | +800% | 7, 1 failed; retry 1: "
                                 "passed (1.1s) |\n"));
    assert_null(strstr(body, "other"));
    free(body);
    body = call_file(f, 4, "body");
    assert_non_null(strstr(body, "Unit tests · 3 of 3 jobs split locally, not by Test Engine**"));
    free(body);
    /* one job: no table, no meta-data */
    f->cfg.parallel_job_count = 1;
    f->cfg.parallel_job = 0;
    assert_true(report_annotate_send(&f->cfg, &f->rec, NULL, &err));
    assert_int_equal(calls(f), 7); /* its time and the note */
    body = call_file(f, 6, "body");
    assert_non_null(strstr(body, "Unit tests · split locally, not by Test Engine**"));
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_test_fixture(failing_job_writes_its_section_to_the_error_box),
        unit_test_fixture(a_passing_job_with_nothing_to_say_writes_only_its_time),
        unit_test_fixture(an_agent_without_priorities_still_gets_the_time),
        unit_test_fixture(a_fallback_plan_is_the_steps_note),
        unit_test_fixture(a_flaky_test_goes_to_the_notes_box),
        unit_test_fixture(a_refused_section_becomes_one_line),
        unit_test_fixture(the_upload_line),
        unit_test_fixture(the_steps_table_of_jobs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
