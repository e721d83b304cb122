/* report_jobtable: the step's table of jobs. A row goes out as a meta-data
 * key and comes back from `meta-data keys` as it was; other steps' keys,
 * other keys and damaged ones are ignored; a job appears once (its first
 * attempt, the latest beside it); the table has a row per job, in job order, the ones not reported
 * yet said so; the slowest job and the local-plan count under it. */
#include "unit.h"
#include "report/report_jobtable.h"
#include <stdio.h>

static report_jobtable_row_t row(long job, long retry, long est, long took, char plan)
{
    report_jobtable_row_t r = {.job = job,
                               .retry = retry,
                               .estimate_ms = est,
                               .took_ms = took,
                               .tests = 120,
                               .failed = job == 1 ? 2 : 0,
                               .plan = plan};
    snprintf(r.job_id, sizeof r.job_id, "0190-job-%ld", job);
    return r;
}

static void a_row_round_trips_through_its_key(void **state)
{
    (void)state;
    report_jobtable_row_t in = row(1, 2, 12000, 13400, 's'), out[4];
    char *key = report_jobtable_key("step-1", &in);
    assert_string_equal(key, "test-engine-pytest:time:step-1:1:2:12000:13400:120:2:s:0190-job-1");
    assert_int_equal(report_jobtable_parse("step-1", key, strlen(key), 4, out), 1);
    assert_int_equal(out[0].job, 1);
    assert_int_equal(out[0].retry, 2);
    assert_int_equal(out[0].estimate_ms, 12000);
    assert_int_equal(out[0].took_ms, 13400);
    assert_int_equal(out[0].tests, 120);
    assert_int_equal(out[0].failed, 2);
    assert_int_equal(out[0].plan, (int)'s');
    assert_string_equal(out[0].job_id, "0190-job-1");
    free(key);
    /* no estimate, nothing ran; an odd step id and job id are made plain */
    in = row(0, 0, -1, -1, 'l');
    snprintf(in.job_id, sizeof in.job_id, "ab:c\nd");
    key = report_jobtable_key("st ep:9", &in);
    assert_string_equal(key, "test-engine-pytest:time:st_ep_9:0:0:-:-:120:0:l:abcd");
    assert_int_equal(report_jobtable_parse("st ep:9", key, strlen(key), 4, out), 1);
    assert_int_equal(out[0].estimate_ms, -1);
    assert_int_equal(out[0].took_ms, -1);
    assert_string_equal(out[0].job_id, "abcd");
    free(key);
}

static void the_key_list_is_untrusted(void **state)
{
    (void)state;
    const char *keys =
        "test-engine-pytest:retry-selectors:step-1:0\n"    /* another key of ours */
        "test-engine-pytest:time:step-2:0:0:1:1:1:0:s:x\n" /* another step */
        "test-engine-pytest:time:step-1:2:0:5000:6000:9:0:l:c\n"
        "test-engine-pytest:time:step-1:0:0:1000:2000:9:0:s:a\r\n"     /* CRLF */
        "test-engine-pytest:time:step-1:0:1:1000:3000:9:1:s:a2\n"      /* its retry */
        "test-engine-pytest:time:step-1:0:0:1000:9999:9:0:s:a\n"       /* its attempt again */
        "test-engine-pytest:time:step-1:9:0:1:1:1:0:s:x\n"             /* job >= count */
        "test-engine-pytest:time:step-1:1:0:-1:1:1:0:s:x\n"            /* -1 is not - */
        "test-engine-pytest:time:step-1:1:0:1:1:1:2:s:x\n"             /* failed > tests */
        "test-engine-pytest:time:step-1:1:0:1:1:1:0:q:x\n"             /* unknown plan */
        "test-engine-pytest:time:step-1:1:0:1:1:1:0:s:x/y\n"           /* job id */
        "test-engine-pytest:time:step-1:1:0:1:1:1:0:s\n"               /* cut short */
        "test-engine-pytest:time:step-1:1:0:1234567890123:1:1:0:s:x\n" /* 13 digits */
        "test-engine-pytest:time:step-1:1:0:1:1:1:0:s:x:y\n";          /* one more field */
    report_jobtable_row_t out[3];
    size_t n = report_jobtable_parse("step-1", keys, strlen(keys), 3, out);
    assert_int_equal(n, 2);
    assert_int_equal(out[0].job, 0); /* sorted by job */
    /* the first attempt's numbers (the first key listed for it), the retry beside them */
    assert_int_equal(out[0].retry, 0);
    assert_int_equal(out[0].took_ms, 2000);
    assert_string_equal(out[0].job_id, "a");
    assert_int_equal(out[0].later_retry, 1);
    assert_int_equal(out[0].later_took_ms, 3000);
    assert_int_equal(out[0].later_failed, 1);
    assert_int_equal(out[1].job, 2);
    assert_int_equal(report_jobtable_local(out, n), 1);
    assert_int_equal(report_jobtable_parse("step-1", keys, strlen(keys), 0, out), 0);
    /* this job's own row goes in place, or where its job belongs */
    report_jobtable_row_t mine = row(1, 0, 10, 20, 'r');
    n = report_jobtable_merge(out, n, &mine);
    assert_int_equal(n, 3);
    assert_int_equal(out[1].job, 1);
    assert_int_equal(out[2].job, 2);
    mine = row(2, 3, 10, 20, 's'); /* a retry of job 3: beside its first attempt */
    assert_int_equal(report_jobtable_merge(out, n, &mine), 3);
    assert_int_equal(out[2].retry, 0);
    assert_int_equal(out[2].took_ms, 6000);
    assert_int_equal(out[2].later_retry, 3);
    assert_int_equal(out[2].later_took_ms, 20);
    /* the same attempt again: its own numbers, the retry kept */
    mine = row(2, 0, 10, 7000, 'l');
    assert_int_equal(report_jobtable_merge(out, n, &mine), 3);
    assert_int_equal(out[2].took_ms, 7000);
    assert_int_equal(out[2].later_retry, 3);
    /* keys listed latest first: the earliest attempt still holds the row */
    const char *backwards = "test-engine-pytest:time:step-1:1:2:-:900:1:0:r:c\n"
                            "test-engine-pytest:time:step-1:1:1:-:800:1:1:r:b\n"
                            "test-engine-pytest:time:step-1:1:0:5000:4000:30:1:s:a\n";
    n = report_jobtable_parse("step-1", backwards, strlen(backwards), 3, out);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].retry, 0);
    assert_int_equal(out[0].took_ms, 4000);
    assert_int_equal(out[0].later_retry, 2);
    assert_int_equal(out[0].later_took_ms, 900);
    assert_int_equal(out[0].later_failed, 0);
}

/* What a job writes, it reads back: numbers past a key's 12 digits are
 * capped, the job id reduced to what keys carry; a retry that planned
 * locally counts as a local plan though its first attempt did not. */
static void what_a_job_writes_it_reads_back(void **state)
{
    (void)state;
    report_jobtable_row_t r = row(0, 0, 5000000000000L, 4000, 's'), out[2];
    r.tests = 9000000000000L;
    report_jobtable_set_job_id(&r, "0190_a.b-c");
    assert_string_equal(r.job_id, "0190ab-c");
    char *key = report_jobtable_key("s", &r);
    assert_int_equal(report_jobtable_parse("s", key, strlen(key), 2, out), 1);
    assert_int_equal(out[0].estimate_ms, 999999999999L);
    assert_int_equal(out[0].tests, 999999999999L);
    assert_string_equal(out[0].job_id, "0190ab-c");
    free(key);
    report_jobtable_row_t retry = row(0, 1, -1, 300, 'l');
    assert_int_equal(report_jobtable_local(out, 1), 0);
    assert_int_equal(report_jobtable_merge(out, 1, &retry), 1);
    assert_int_equal(out[0].plan, (int)'s');
    assert_int_equal(report_jobtable_local(out, 1), 1);
}

static void the_table(void **state)
{
    (void)state;
    report_jobtable_row_t rows[] = {row(0, 0, 12000, 13400, 'l'), row(1, 1, 60000, 125000, 'l'),
                                    row(3, 0, -1, 800, 'l')};
    rows[1].later_retry = 2; /* Buildkite retried it: only the failures, which passed */
    rows[1].later_took_ms = 900;
    buf_t b = BUF_INIT;
    report_jobtable_render(":pytest: Unit *tests*", "https://buildkite.com/acme/app/builds/7", 4,
                           rows, 3, &b);
    const char *t = buf_str(&b);
    assert_non_null(
        strstr(t, "**:stopwatch: :pytest: Unit \\*tests\\* · the split, job by job** "
                  "(3 of 4 jobs reported)\n\n"
                  "| job | plan | estimated | took | vs estimate | tests |\n"
                  "|---|---|--:|--:|--:|--:|\n"
                  "| [1 of 4](https://buildkite.com/acme/app/builds/7#0190-job-0) | "
                  "planned locally | 12.0s | 13.4s | +12% | 120 |\n"
                  "| [2 of 4](https://buildkite.com/acme/app/builds/7#0190-job-1) "
                  "(retry 1) | planned locally | 1m 00s | 2m 05s | +108% | 120, 2 failed; retry 2: "
                  "passed (900ms) |\n"
                  "| 3 of 4 | not reported yet | – | – | – | – |\n"
                  "| [4 of 4](https://buildkite.com/acme/app/builds/7#0190-job-3) | "
                  "planned locally | – | 800ms | – | 120 |\n"));
    assert_non_null(strstr(t, "Slowest job: 2 of 4, 2m 05s; quickest: 4 of 4, 800ms."));
    assert_non_null(strstr(t, "3 of 4 jobs planned locally"));
    /* a build URL that could break out of the link or the row: no links at all */
    const char *bad_urls[] = {"https://x/a)b",  "https://x/b\rnext", "https://x/a b",
                              "https://x/a\tb", "https://x/a|b",     "http://x/plain"};
    for (size_t i = 0; i < sizeof bad_urls / sizeof *bad_urls; i++) {
        buf_reset(&b);
        report_jobtable_render("Unit", bad_urls[i], 4, rows, 1, &b);
        if (strstr(buf_str(&b), "](")) fail_msg("linked: %s", bad_urls[i]);
    }
    buf_reset(&b);
    rows[0].plan = 's';
    report_jobtable_render("Unit", "", 2, rows, 1, &b);
    t = buf_str(&b);
    assert_non_null(strstr(t, "| 1 of 2 | Test Engine | 12.0s | 13.4s | +12% | 120 |\n"));
    assert_null(strstr(t, "planned locally"));
    assert_null(strstr(t, "Slowest job")); /* one job ran: nothing to compare */
    buf_free(&b);
    char *ctx = report_jobtable_context("0190abcd-step");
    assert_string_equal(ctx, "test-engine-pytest-0190abcd-step-jobs");
    free(ctx);
    char long_id[300];
    memset(long_id, 's', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    ctx = report_jobtable_context(long_id);
    assert_true(strlen(ctx) <= 100);
    free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_row_round_trips_through_its_key),
        cmocka_unit_test(the_key_list_is_untrusted),
        cmocka_unit_test(what_a_job_writes_it_reads_back),
        cmocka_unit_test(the_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
