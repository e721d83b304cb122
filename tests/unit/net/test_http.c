#include "unit.h"
#include "base/fs.h"
#include "net/http.h"
#include "net/engine_api.h"
#include "base/strlist.h"
#include "te_server.h"
#include <stdio.h>

static void rate_limit_headers(void **state)
{
    (void)state;
    assert_float_equal(http_retry_rate_limit_wait("3", NULL, 0), 3.0, 1e-9);
    assert_float_equal(http_retry_rate_limit_wait(NULL, "7", 0), 7.0, 1e-9);
    /* RateLimit-Reset first */
    assert_float_equal(http_retry_rate_limit_wait("2", "9", 0), 2.0, 1e-9);
    double now = 784111777.0 - 5; /* 5 s before the date */
    assert_float_equal(http_retry_rate_limit_wait(NULL, "Sun, 06 Nov 1994 08:49:37 GMT", now), 5.0,
                       1e-6);
    assert_float_equal(http_retry_rate_limit_wait(NULL, "Sun, 06 Nov 1994 08:49:37 GMT", now + 100),
                       0.0, 1e-9);
    assert_true(http_retry_rate_limit_wait(NULL, "soon", 0) < 0);
    assert_true(http_retry_rate_limit_wait("", "", 0) < 0);
}

static void client(http_client_t *c, long backoff_ms)
{
    memset(c, 0, sizeof *c);
    c->backoff_ms = backoff_ms;
}

/* A server's "retry after 0" must not make retries immediate (issue: 180
 * requests in 8 s); the backoff step is the floor, the server may lengthen it. */
static void retry_wait_has_a_floor(void **state)
{
    (void)state;
    http_client_t c;
    client(&c, 1000);
    for (int i = 0; i < 50; i++) {
        double w = http_retry_wait(&c, 1, 0.0);
        assert_true(w >= 0.5 && w <= 1.0); /* 1 s step, jitter 50-100% */
        w = http_retry_wait(&c, 3, 0.0);
        assert_true(w >= 2.0 && w <= 4.0);                /* doubled twice */
        assert_true(http_retry_wait(&c, 30, -1) <= 20.0); /* capped */
    }
    assert_float_equal(http_retry_wait(&c, 1, 7.0), 7.0, 1e-9); /* a longer server wait wins */
    client(&c, 0); /* even a configured backoff of 0 keeps a floor */
    for (int i = 0; i < 50; i++) {
        double w = http_retry_wait(&c, 1, 0.0);
        assert_true(w >= HTTP_MIN_BACKOFF_MS / 2000.0 && w <= HTTP_MIN_BACKOFF_MS / 1000.0);
    }
}

static engine_api_outcome_t run_classify(long status, const char *body, bool get)
{
    http_response_t r;
    http_response_init(&r);
    r.status = status;
    buf_puts(&r.body, body);
    engine_api_answer_t a;
    engine_api_classify(&r, get, &a);
    engine_api_outcome_t o = a.outcome;
    engine_api_answer_free(&a);
    http_response_free(&r);
    return o;
}

static void classification(void **state)
{
    (void)state;
    assert_int_equal(run_classify(200, "{}", false), ENGINE_API_OK);
    assert_int_equal(run_classify(404, "{}", true), ENGINE_API_CACHE_MISS);
    assert_int_equal(run_classify(404, "{}", false), ENGINE_API_FALLBACK);
    assert_int_equal(run_classify(401, "{\"message\":\"x\"}", true), ENGINE_API_FATAL);
    assert_int_equal(run_classify(403, "{\"message\":\"Billing Error: x\"}", false),
                     ENGINE_API_FALLBACK);
    assert_int_equal(run_classify(403, "{\"message\":\"no\"}", false), ENGINE_API_FATAL);
    assert_int_equal(run_classify(400, "", false), ENGINE_API_FATAL);
    assert_int_equal(run_classify(422, "", false), ENGINE_API_FALLBACK);
    http_response_t r;
    http_response_init(&r);
    r.transport_error = r.tls_error = true;
    engine_api_answer_t a;
    engine_api_classify(&r, false, &a);
    assert_int_equal(a.outcome, ENGINE_API_FATAL);
    assert_non_null(strstr(a.message, "BUILDKITE_TEST_ENGINE_CA_BUNDLE"));
    engine_api_answer_free(&a);
    http_response_free(&r);
}

static char *classify_message(http_response_t *r)
{
    engine_api_answer_t a;
    engine_api_classify(r, false, &a);
    assert_int_equal(a.outcome, ENGINE_API_FALLBACK);
    char *m = a.message;
    a.message = NULL;
    engine_api_answer_free(&a);
    return m;
}

static void fallback_messages(void **state)
{
    (void)state;
    http_response_t r;
    http_response_init(&r);
    r.status = 403;
    buf_puts(&r.body, "{\"message\":\"Billing Error: plan limit\"}");
    char *m = classify_message(&r);
    assert_string_equal(
        m, "Billing Error: plan limit"); /* once, not "Billing Error: Billing Error: ..." */
    free(m);

    http_response_free(&r);
    http_response_init(&r);
    r.transport_error = r.unreachable = true;
    r.attempts = 1;
    err_set(&r.error, "Failed to connect to 127.0.0.1 port 9: Connection refused");
    m = classify_message(&r);
    assert_non_null(strstr(m, "Unreachable: Failed to connect to 127.0.0.1 port 9"));
    assert_non_null(strstr(m, "not retried"));
    free(m);

    r.unreachable = false;
    r.too_large = true;
    err_set(&r.error, "the answer is larger than 32 MiB; not read further");
    m = classify_message(&r);
    assert_string_equal(m, "Invalid Answer: the answer is larger than 32 MiB; not read further");
    free(m);
    http_response_free(&r);
}

static void wipe(void **state)
{
    (void)state;
    char secret[] = "Authorization: Bearer tok";
    http_wipe(secret);
    for (size_t i = 0; i < sizeof secret; i++) assert_int_equal(secret[i], 0);
    http_wipe(NULL);
}

static void prefixes(void **state)
{
    (void)state;
    char *s = engine_api_prefixed("svc/", "tests/a.py");
    assert_string_equal(s, "svc/tests/a.py");
    free(s);
    s = engine_api_prefixed("./", "./a.py");
    assert_string_equal(s, "./a.py");
    free(s);
    s = engine_api_prefixed("", "a.py");
    assert_string_equal(s, "a.py");
    free(s);
}

static void collect_line(void *user, const char *line)
{
    strlist_push(user, line);
}

/* http prints nothing: each failed attempt is one line to the client's
 * warn_fn, the last one saying the budget is used up. Nothing listens on
 * loopback port 1. */
static void failed_attempts_go_to_the_warn_fn(void **state)
{
    (void)state;
    http_global_init();
    http_client_t c;
    http_client_init(&c, "Test Engine API", NULL, 2, 1.0, 100, "Authorization: Bearer tok");
    strlist_t lines;
    strlist_init(&lines);
    c.warn = collect_line;
    c.warn_user = &lines;
    http_response_t r;
    http_response_init(&r);
    http_request(&c, "GET", "https://127.0.0.1:1/v2/x?q=1", NULL, NULL, NULL, &r);
    assert_true(r.gave_up);
    assert_true(r.unreachable);
    assert_true(r.attempts >= 2);
    assert_int_equal(lines.len, (size_t)r.attempts);
    for (size_t i = 0; i < lines.len; i++) {
        char *head = xasprintf("Test Engine API GET /v2/x?q=1 failed (attempt %zu): ", i + 1);
        assert_non_null(strstr(lines.items[i], head));
        assert_null(strstr(lines.items[i], "tok")); /* never the token */
        bool last = i + 1 == lines.len;
        assert_true(strstr(lines.items[i],
                           last ? "; retry budget of 1s used up after" : "; retrying in ") != NULL);
        free(head);
    }
    assert_non_null(strstr(lines.items[0], r.error));
    assert_false(http_status_ok(&r));
    http_response_free(&r);
    assert_null(r.error);
    strlist_free(&lines);
    http_client_free(&c);
    curl_global_cleanup();
}

/* An unreachable host gets the client's unreachable_attempts and no more,
 * and a client whose deadline has come starts nothing. Port 1: nothing
 * listens. */
static void unreachable_attempts_and_the_deadline(void **state)
{
    (void)state;
    http_global_init();
    http_client_t c;
    http_client_init(&c, "upload", NULL, 2, 30.0, 100, NULL);
    c.unreachable_attempts = 2;
    strlist_t lines;
    strlist_init(&lines);
    c.warn = collect_line;
    c.warn_user = &lines;
    http_response_t r;
    http_response_init(&r);
    double t0 = fs_monotonic();
    http_request(&c, "POST", "https://127.0.0.1:1/v1/uploads", "{}", NULL, NULL, &r);
    assert_true(r.unreachable);
    assert_int_equal(r.attempts, 2);
    assert_true(fs_monotonic() - t0 < 10); /* one short wait, not the 30 s budget */
    assert_int_equal(lines.len, 2);
    assert_non_null(strstr(lines.items[1], "; not retried (unreachable)"));
    http_response_free(&r);
    http_client_set_ceiling(&c, -1); /* already past */
    http_response_init(&r);
    http_request(&c, "POST", "https://127.0.0.1:1/v1/uploads", "{}", NULL, NULL, &r);
    assert_true(r.out_of_time);
    assert_false(http_status_ok(&r));
    assert_string_equal(r.error, "upload: the phase's time limit is reached");
    http_response_free(&r);
    strlist_free(&lines);
    http_client_free(&c);
    curl_global_cleanup();
}

static void status_ok_is_2xx_with_an_answer(void **state)
{
    (void)state;
    http_response_t r;
    http_response_init(&r);
    long ok[] = {200, 201, 204, 299};
    long not_ok[] = {0, 199, 300, 404, 503};
    for (size_t i = 0; i < 4; i++) {
        r.status = ok[i];
        assert_true(http_status_ok(&r));
    }
    for (size_t i = 0; i < 5; i++) {
        r.status = not_ok[i];
        assert_false(http_status_ok(&r));
    }
    r.status = 200;
    r.transport_error = true; /* e.g. the body was cut off */
    assert_false(http_status_ok(&r));
    http_response_free(&r);
}

/* The number of lines (requests) in the stand-in's requests.jsonl. */
static size_t requests_received(const te_server_t *s)
{
    char *text = te_server_requests(s);
    size_t n = 0;
    for (const char *p = text; *p; p++) n += *p == '\n';
    free(text);
    return n;
}

/* Which answers are tried again, over real HTTPS to the stand-in: a 409 (the
 * plan is being made, "conflict"), a 429 and a 5xx are; a 400 or a 404 is
 * the answer. */
static void retried_answers(void **state)
{
    (void)state;
    http_global_init();
    te_server_t s;
    te_server_start(&s);
    const struct {
        long status;
        int attempts;
    } cases[] = {{409, 2}, {429, 2}, {503, 2}, {400, 1}, {404, 1}};
    size_t before = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *faults = xasprintf(
            "{\"metadata\": [{\"status\": %ld, \"body\": {\"message\": \"x\"}}]}", cases[i].status);
        te_server_faults(&s, faults);
        free(faults);
        http_client_t c;
        http_client_init(&c, "Test Engine API", s.ca, 10, 60.0, 10, NULL);
        http_response_t r;
        http_response_init(&r);
        char *url =
            xasprintf("%s/v2/analytics/organizations/acme/suites/shop/test_plan_metadata", s.url);
        http_request(&c, "POST", url, "{}", NULL, NULL, &r);
        assert_int_equal(r.attempts, cases[i].attempts);
        size_t now = requests_received(&s);
        assert_int_equal(now - before, (size_t)cases[i].attempts);
        before = now;
        if (cases[i].attempts == 1) assert_int_equal(r.status, cases[i].status);
        free(url);
        http_response_free(&r);
        http_client_free(&c);
    }
    te_server_stop(&s);
    curl_global_cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rate_limit_headers),
        cmocka_unit_test(retry_wait_has_a_floor),
        cmocka_unit_test(fallback_messages),
        cmocka_unit_test(wipe),
        cmocka_unit_test(classification),
        cmocka_unit_test(prefixes),
        cmocka_unit_test(failed_attempts_go_to_the_warn_fn),
        cmocka_unit_test(unreachable_attempts_and_the_deadline),
        cmocka_unit_test(status_ok_is_2xx_with_an_answer),
        cmocka_unit_test(retried_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
