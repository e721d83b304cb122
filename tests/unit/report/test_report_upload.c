#include "unit.h"
#include "report/report_upload.h"
#include "config/config.h"
#include "te_server.h"
#include "report/report_walk.h"
#include "results/results_timing.h"
#include "state/run_record.h"
#include <cjson/cJSON.h>
#include <signal.h>

static report_upload_summary_t summary(size_t sent, size_t total, report_upload_end_t end)
{
    report_upload_summary_t s;
    memset(&s, 0, sizeof s);
    s.records = sent;
    s.total = total;
    s.end = end;
    return s;
}

static void nothing_to_say_when_all_was_sent(void **state)
{
    (void)state;
    report_upload_summary_t s = summary(12, 12, REPORT_UPLOAD_DONE);
    assert_null(report_upload_shortfall(&s));
    s = summary(0, 0, REPORT_UPLOAD_DONE);
    assert_null(report_upload_shortfall(&s));
}

static void interrupted_by_a_signal(void **state)
{
    (void)state;
    report_upload_summary_t s = summary(13000, 100000, REPORT_UPLOAD_STOPPED_SIGNAL);
    s.signal = SIGTERM;
    char *line = report_upload_shortfall(&s);
    assert_string_equal(
        line, "upload interrupted by SIGTERM: 13,000 of 100,000 results sent; 87,000 not sent");
    free(line);
    s = summary(0, 1, REPORT_UPLOAD_STOPPED_SIGNAL);
    s.signal = SIGINT;
    line = report_upload_shortfall(&s);
    assert_string_equal(line, "upload interrupted by SIGINT: 0 of 1 result sent; 1 not sent");
    free(line);
}

static void stopped_for_a_reason(void **state)
{
    (void)state;
    report_upload_summary_t s = summary(5000, 1234567, REPORT_UPLOAD_STOPPED_BUDGET);
    s.budget_s = 30;
    s.first_error = "HTTP 422: bad batch"; /* an earlier batch's own problem */
    s.last_error = "HTTP 503: {}";         /* what used the budget up */
    char *line = report_upload_shortfall(&s);
    assert_string_equal(
        line, "upload stopped: the retry budget of 30s is used up (last error: HTTP 503: {}): "
              "5,000 of 1,234,567 results sent; 1,229,567 not sent");
    free(line);
    s = summary(0, 12, REPORT_UPLOAD_STOPPED_AUTH);
    s.first_error = "HTTP 401: {}";
    line = report_upload_shortfall(&s);
    assert_non_null(strstr(line, "check BUILDKITE_ANALYTICS_TOKEN"));
    assert_non_null(strstr(line, "0 of 12 results sent; 12 not sent"));
    free(line);
    s = summary(7, 12, REPORT_UPLOAD_DONE); /* a batch refused (e.g. 422), the others sent */
    s.failed_requests = 1;
    s.first_error = "HTTP 422: bad";
    line = report_upload_shortfall(&s);
    assert_string_equal(line, "upload incomplete: 1 request failed (first: HTTP 422: bad): 7 of 12 "
                              "results sent; 5 not sent");
    free(line);
}

/* What the upload API refused or skipped is said by number, with its reason;
 * an unreachable API and the upload's ceiling have their own lines. */
static void skipped_too_large_unreachable_and_out_of_time(void **state)
{
    (void)state;
    report_upload_summary_t s = summary(8, 12, REPORT_UPLOAD_DONE);
    s.skipped = 4;
    s.skip_error = "test_order_reference: name is too long";
    char *line = report_upload_shortfall(&s);
    assert_string_equal(line, "Test Engine skipped 4 of 12 results (first error: "
                              "test_order_reference: name is too long): 8 of 12 results sent; 4 "
                              "not sent");
    free(line);
    s = summary(5, 12, REPORT_UPLOAD_DONE);
    s.skipped = 4;
    s.skip_error = "e";
    s.too_large = 3;
    line = report_upload_shortfall(&s);
    assert_string_equal(line, "Test Engine skipped 4 of 12 results (first error: e); 3 results "
                              "are too large for the upload API alone (HTTP 413): 5 of 12 results "
                              "sent; 7 not sent");
    free(line);
    s = summary(0, 12, REPORT_UPLOAD_STOPPED_UNREACHABLE);
    s.last_error = "Failed to connect to 127.0.0.1 port 9: Couldn't connect to server";
    line = report_upload_shortfall(&s);
    assert_string_equal(line, "upload stopped: the upload API is unreachable (Failed to connect to "
                              "127.0.0.1 port 9: Couldn't connect to server); tried twice: 0 of 12 "
                              "results sent; 12 not sent");
    free(line);
    s = summary(5000, 10000, REPORT_UPLOAD_STOPPED_TIME);
    s.ceiling_s = 92;
    s.last_error = "upload: the phase's time limit is reached";
    line = report_upload_shortfall(&s);
    assert_non_null(strstr(line, "upload stopped: the upload's time limit of 92s is reached"));
    assert_non_null(strstr(line, ": 5,000 of 10,000 results sent; 5,000 not sent"));
    free(line);
}

/* How many records each upload request the stand-in received carried. */
static void records_per_request(const te_server_t *s, buf_t *out)
{
    char *text = te_server_requests(s);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *r = cJSON_Parse(line);
        const cJSON *data = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "body"), "data");
        cJSON *records = cJSON_Parse(cJSON_GetStringValue(cJSON_GetObjectItem(data, "text")));
        buf_printf(out, "%s%d", out->len ? " " : "", cJSON_GetArraySize(records));
        cJSON_Delete(records);
        cJSON_Delete(r);
    }
    free(text);
}

/* A collector result file of `n` passing tests in dir/results/attempt-0.json,
 * and the run record that names it. */
static void one_attempt(const char *dir, int n, run_record_t *rec)
{
    char *results = fs_join(dir, "results");
    assert_true(fs_mkdirs(results));
    buf_t b = BUF_INIT;
    buf_putc(&b, '[');
    for (int i = 0; i < n; i++)
        buf_printf(&b,
                   "%s{\"id\":\"%d\",\"scope\":\"t.py\",\"name\":\"test_%d\","
                   "\"file_name\":\"t.py\",\"result\":\"passed\",\"history\":{\"duration\":0.1}}",
                   i ? "," : "", i, i);
    buf_putc(&b, ']');
    scratch_put(results, "attempt-0.json", b.data);
    buf_free(&b);
    free(results);
    memset(rec, 0, sizeof *rec);
    rec->mode = xstrdup("json");
    results_model_init(&rec->result, NULL, 0);
    results_timing_init(&rec->timing);
    rec->n_attempts = 1;
    rec->attempts = xcalloc(1, sizeof *rec->attempts);
    rec->attempts[0].result_file = xstrdup("results/attempt-0.json");
    rec->attempts[0].id_prefix = xstrdup("");
}

/* Collector records go up in batches of upload-batch-size, each posted once
 * it is full, the rest at the end: 5 records in batches of 2 are three
 * requests of 2, 2 and 1 (a result file walked as report walks it, over real
 * HTTPS to the stand-in). */
static void batches_cut_at_the_batch_size(void **state)
{
    (void)state;
    http_global_init();
    te_server_t s;
    te_server_start(&s);
    char dir[64];
    scratch_dir(dir, sizeof dir, "test_report_upload");
    run_record_t rec;
    one_attempt(dir, 5, &rec);
    setenv("BUILDKITE_ANALYTICS_TOKEN", "tok-upload", 1);
    setenv("BUILDKITE_TEST_ENGINE_UPLOAD_BASE_URL", s.url, 1);
    setenv("BUILDKITE_TEST_ENGINE_CA_BUNDLE", s.ca, 1);
    setenv("BUILDKITE_TEST_ENGINE_STATE_DIR", dir, 1);
    const char *sizes[] = {"2", "5", "1"};
    const char *want[] = {"2 2 1", "5", "1 1 1 1 1"};
    for (size_t k = 0; k < 3; k++) {
        setenv("BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE", sizes[k], 1);
        config_t cfg;
        config_load(&cfg);
        assert_true(config_validate(&cfg, PHASE_REPORT));
        report_upload_summary_t sum;
        report_uploader_t *u = report_upload_start(&cfg, true, 1000, NULL, &sum);
        report_walk_sink_t sink = report_upload_sink(u);
        report_walk_run(&cfg, &rec, &sink, 1, NULL);
        report_upload_finish(u);
        assert_int_equal(sum.records, 5);
        buf_t got = BUF_INIT;
        records_per_request(&s, &got);
        assert_string_equal(got.data, want[k]);
        buf_free(&got);
        char *log = fs_join(s.server_dir, "requests.jsonl");
        unlink(log); /* the next size's requests alone */
        free(log);
        report_upload_summary_free(&sum);
        config_free(&cfg);
    }
    unsetenv("BUILDKITE_TEST_ENGINE_UPLOAD_BATCH_SIZE");
    unsetenv("BUILDKITE_TEST_ENGINE_STATE_DIR");
    unsetenv("BUILDKITE_TEST_ENGINE_CA_BUNDLE");
    unsetenv("BUILDKITE_TEST_ENGINE_UPLOAD_BASE_URL");
    unsetenv("BUILDKITE_ANALYTICS_TOKEN");
    run_record_free(&rec);
    scratch_dir_remove(dir);
    te_server_stop(&s);
    curl_global_cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nothing_to_say_when_all_was_sent),
        cmocka_unit_test(interrupted_by_a_signal),
        cmocka_unit_test(stopped_for_a_reason),
        cmocka_unit_test(skipped_too_large_unreachable_and_out_of_time),
        cmocka_unit_test(batches_cut_at_the_batch_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
