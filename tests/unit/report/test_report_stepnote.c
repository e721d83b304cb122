/* report_stepnote: the notes every job of a step shares, said once. Jobs
 * meeting one outage name the same context (digits and the details in
 * parentheses aside), another cause names another; a note carries no job's
 * count; nothing to say when every result was sent. */
#include "unit.h"
#include "report/report_stepnote.h"

static void one_outage_one_context(void **state)
{
    (void)state;
    char *a = report_stepnote_context("step-1", "plan",
                                      "Timeout: Test Engine API did not give a usable answer "
                                      "within the retry budget (1 attempt, last error: HTTP 503)");
    char *b = report_stepnote_context("step-1", "plan",
                                      "Timeout: Test Engine API did not give a usable answer "
                                      "within the retry budget (2 attempts, last error: HTTP 502)");
    char *c = report_stepnote_context("step-1", "plan", "Unavailable: suite is being migrated");
    char *d = report_stepnote_context("step-2", "plan", "Unavailable: suite is being migrated");
    char *e = report_stepnote_context("step-1", "upload", "Unavailable: suite is being migrated");
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_string_not_equal(c, d); /* another step's note */
    assert_string_not_equal(c, e); /* another kind of note */
    assert_true(strncmp(a, "test-engine-pytest-step-1-note-", 31) == 0);
    assert_int_equal(strlen(a), 31 + 12);
    free(a);
    free(b);
    free(c);
    free(d);
    free(e);
    char long_id[300];
    memset(long_id, 's', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    a = report_stepnote_context(long_id, "plan", "x");
    assert_true(strlen(a) <= 100);
    free(a);
}

static void the_plan_note(void **state)
{
    (void)state;
    report_stepnote_t n;
    report_stepnote_plan("step-1", ":pytest: Unit *tests*", "Error Plan: no tasks <b>", 0, 8, &n);
    const char *body = buf_str(&n.body);
    assert_non_null(strstr(body, "**:warning: :pytest: Unit \\*tests\\* · split locally, not by "
                                 "Test Engine**\n\n"));
    assert_non_null(strstr(body, "Test Engine's plan API could not be used: Error Plan: no tasks "
                                 "\\<b\\>"));
    assert_null(strstr(body, "[job"));  /* no job named on the step's note */
    assert_null(strstr(body, " of 8")); /* no count known: none given */
    report_stepnote_free(&n);
    /* with the step's table of jobs: how many planned locally */
    report_stepnote_plan("step-1", "Unit", "Error Plan: no tasks", 5, 8, &n);
    assert_non_null(strstr(buf_str(&n.body), "**:warning: Unit · 5 of 8 jobs split locally, not by "
                                             "Test Engine**\n\n"));
    char *ctx = xstrdup(n.context);
    report_stepnote_free(&n);
    report_stepnote_plan("step-1", "Unit", "Error Plan: no tasks", 8, 8, &n);
    assert_string_equal(ctx, n.context); /* one note, whatever the count: said once */
    free(ctx);
    report_stepnote_free(&n);
    report_stepnote_plan("step-1", "Unit", "Error Plan: no tasks", 1, 1,
                         &n); /* one job: no count */
    assert_non_null(strstr(buf_str(&n.body), "Unit · split locally, not by Test Engine**"));
    report_stepnote_free(&n);
}

static void the_upload_note(void **state)
{
    (void)state;
    report_stepnote_t n;
    report_upload_summary_t up = {.records = 5, .total = 5, .requests = 1};
    assert_false(report_stepnote_upload("step-1", "Unit", &up, &n)); /* all sent */
    struct {
        report_upload_end_t end;
        size_t failed_requests;
        const char *said;
    } cases[] = {
        {REPORT_UPLOAD_STOPPED_AUTH, 1, "Upload: the upload API refused the token (HTTP 401)"},
        {REPORT_UPLOAD_STOPPED_TLS, 1, "Upload: the upload stopped: HTTP 401"},
        {REPORT_UPLOAD_STOPPED_BUDGET, 3,
         "Upload: the upload retry budget ran out (last error: "
         "HTTP 401)"},
        {REPORT_UPLOAD_STOPPED_SIGNAL, 0, "Upload: the upload was interrupted by SIGTERM"},
        {REPORT_UPLOAD_DONE, 2, "Upload: some upload requests failed (last error: HTTP 401)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        up = (report_upload_summary_t){.records = 2,
                                       .total = 5,
                                       .requests = 3,
                                       .failed_requests = cases[i].failed_requests,
                                       .end = cases[i].end,
                                       .signal = 15,
                                       .last_error = "HTTP 401"};
        assert_true(report_stepnote_upload("step-1", "Unit", &up, &n));
        const char *body = buf_str(&n.body);
        if (!strstr(body, cases[i].said)) fail_msg("case %zu: %s", i, body);
        assert_non_null(
            strstr(body, "**:warning: Unit · results not all uploaded to Test Engine**"));
        assert_null(strstr(body, "2 of 5")); /* this job's count is in its log */
        report_stepnote_free(&n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_outage_one_context),
        cmocka_unit_test(the_plan_note),
        cmocka_unit_test(the_upload_note),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
