#include "unit.h"
#include "report/report_upload.h"
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nothing_to_say_when_all_was_sent),
        cmocka_unit_test(interrupted_by_a_signal),
        cmocka_unit_test(stopped_for_a_reason),
        cmocka_unit_test(skipped_too_large_unreachable_and_out_of_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
