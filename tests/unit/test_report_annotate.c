/* report_annotate: the run record turned into this job's part of the step's
 * annotation, sent with `buildkite-agent annotate --append`. A fake agent on
 * a temporary PATH records each call's arguments and the body it read from
 * stdin, and can refuse a call the way the real one does when the box is
 * full. */
#include "unit.h"
#include "fake_agent.h"
#include "buf.h"
#include "fs.h"
#include "report_annotate.h"
#include "run_record.h"
#include "run_result.h"
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* Call n writes call-n.args (one argument a line) and call-n.body; with a
 * file named refuse-n it then fails as the agent does on a full box. */
static const char *FAKE_AGENT = "#!/bin/sh\n"
                                "n=$(ls \"$FAKE_AGENT_DIR\" | grep -c '^call-.*\\.args$')\n"
                                "printf '%s\\n' \"$@\" > \"$FAKE_AGENT_DIR/call-$n.args\"\n"
                                "cat > \"$FAKE_AGENT_DIR/call-$n.body\"\n"
                                "if [ -e \"$FAKE_AGENT_DIR/refuse-$n\" ]; then\n"
                                "  echo 'fatal: annotation body is too large' >&2; exit 1\n"
                                "fi\n";

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
    run_result_init(&f->rec.result, NULL, 0);
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
    run_result_add(&f->rec.result, &r);
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
    assert_int_equal(calls(f), 1);
    char *args = call_file(f, 0, "args");
    assert_string_equal(args, "annotate\n--append\n--style\nerror\n--context\n"
                              "test-engine-pytest-step-1\n");
    char *body = call_file(f, 0, "body");
    assert_non_null(strstr(body, "**:x: Unit tests** · [job 2 of 3]"
                                 "(https://buildkite.com/acme/shop/builds/7#job-2)"));
    assert_non_null(strstr(body, "failed (exit status 1)"));
    assert_non_null(strstr(body, "1 failed · 1 passed"));
    assert_non_null(strstr(body, "- `tests/test_a.py::test_x`: AssertionError: boom\n"));
    assert_null(strstr(body, "more")); /* only the failure's first line */
    assert_non_null(strstr(body, "Reproduce locally: `python3 -m pytest tests/test_a.py::test_x`"));
    free(args);
    free(body);
}

static void a_passing_job_with_nothing_to_say_writes_nothing(void **state)
{
    fixture_t *f = *state;
    add_record(f, "tests/test_a.py", "test_ok", ST_PASSED, NULL);
    char *err = NULL;
    assert_true(report_annotate_send(&f->cfg, &f->rec, NULL, &err));
    assert_int_equal(calls(f), 0);
    /* ... and after an upload that went fine: nothing either. */
    report_upload_summary_t up = {.records = 1, .total = 1, .requests = 1};
    assert_true(report_annotate_send(&f->cfg, &f->rec, &up, &err));
    assert_int_equal(calls(f), 0);
}

/* Failed, then passed on an in-job retry: a note in the warning box. */
static void a_flaky_test_goes_to_the_notes_box(void **state)
{
    fixture_t *f = *state;
    add_record(f, "tests/test_b.py", "test_flaky", ST_FAILED, "timeout");
    add_record(f, "tests/test_b.py", "test_flaky", ST_PASSED, NULL);
    char *err = NULL;
    assert_true(report_annotate_send(&f->cfg, &f->rec, NULL, &err));
    assert_int_equal(calls(f), 1);
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
    assert_int_equal(calls(f), 2);
    char *body = call_file(f, 1, "body");
    assert_non_null(strstr(body, "failed (1 failed · 0 passed); the annotation is full, details "
                                 "are in the job log\n"));
    assert_null(strchr(strchr(body + 1, '\n') + 1, '\n')); /* one line after the blank */
    free(body);
}

/* After the upload: a failing job links its Test Engine run; an upload
 * that fell short says so, in the notes box when the job passed. */
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
    run_result_free(&f->rec.result);
    run_result_init(&f->rec.result, NULL, 0);
    up = (report_upload_summary_t){.records = 0, .total = 3, .requests = 2, .failed_requests = 2};
    up.end = REPORT_UPLOAD_STOPPED_AUTH;
    assert_true(report_annotate_send(&f->cfg, &f->rec, &up, &err));
    assert_int_equal(calls(f), 2);
    char *args = call_file(f, 1, "args");
    assert_non_null(strstr(args, "--style\nwarning\n--context\ntest-engine-pytest-step-1-notes\n"));
    body = call_file(f, 1, "body");
    assert_non_null(strstr(body, ":warning: Unit tests** · [job 2 of 3]"));
    assert_non_null(strstr(body, "upload problem: "));
    assert_non_null(strstr(body, "0 of 3 results sent; 3 not sent"));
    free(args);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_test_fixture(failing_job_writes_its_section_to_the_error_box),
        unit_test_fixture(a_passing_job_with_nothing_to_say_writes_nothing),
        unit_test_fixture(a_flaky_test_goes_to_the_notes_box),
        unit_test_fixture(a_refused_section_becomes_one_line),
        unit_test_fixture(the_upload_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
