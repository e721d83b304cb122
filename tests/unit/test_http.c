#include "unit.h"
#include "http.h"
#include "planapi.h"

static void rate_limit_headers(void **state)
{
    (void)state;
    assert_float_equal(http_rate_limit_wait("3", NULL, 0), 3.0, 1e-9);
    assert_float_equal(http_rate_limit_wait(NULL, "7", 0), 7.0, 1e-9);
    assert_float_equal(http_rate_limit_wait("2", "9", 0), 2.0, 1e-9); /* RateLimit-Reset first */
    double now = 784111777.0 - 5;                                       /* 5 s before the date */
    assert_float_equal(http_rate_limit_wait(NULL, "Sun, 06 Nov 1994 08:49:37 GMT", now), 5.0, 1e-6);
    assert_float_equal(http_rate_limit_wait(NULL, "Sun, 06 Nov 1994 08:49:37 GMT", now + 100), 0.0, 1e-9);
    assert_true(http_rate_limit_wait(NULL, "soon", 0) < 0);
    assert_true(http_rate_limit_wait("", "", 0) < 0);
}

static api_outcome_t classify(long status, const char *body, bool get)
{
    http_response_t r;
    http_response_init(&r);
    r.status = status;
    buf_puts(&r.body, body);
    api_answer_t a;
    api_classify(&r, get, &a);
    api_outcome_t o = a.outcome;
    api_answer_free(&a);
    http_response_free(&r);
    return o;
}

static void classification(void **state)
{
    (void)state;
    assert_int_equal(classify(200, "{}", false), API_OK);
    assert_int_equal(classify(404, "{}", true), API_CACHE_MISS);
    assert_int_equal(classify(404, "{}", false), API_FALLBACK);
    assert_int_equal(classify(401, "{\"message\":\"x\"}", true), API_FATAL);
    assert_int_equal(classify(403, "{\"message\":\"Billing Error: x\"}", false), API_FALLBACK);
    assert_int_equal(classify(403, "{\"message\":\"no\"}", false), API_FATAL);
    assert_int_equal(classify(400, "", false), API_FATAL);
    assert_int_equal(classify(422, "", false), API_FALLBACK);
    http_response_t r;
    http_response_init(&r);
    r.transport_error = r.tls_error = true;
    api_answer_t a;
    api_classify(&r, false, &a);
    assert_int_equal(a.outcome, API_FATAL);
    assert_non_null(strstr(a.message, "BUILDKITE_TEST_ENGINE_CA_BUNDLE"));
    api_answer_free(&a);
    http_response_free(&r);
}

static void prefixes(void **state)
{
    (void)state;
    char *s = api_prefixed("svc/", "tests/a.py");
    assert_string_equal(s, "svc/tests/a.py");
    free(s);
    s = api_prefixed("./", "./a.py");
    assert_string_equal(s, "./a.py");
    free(s);
    s = api_prefixed("", "a.py");
    assert_string_equal(s, "a.py");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rate_limit_headers),
        cmocka_unit_test(classification),
        cmocka_unit_test(prefixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
