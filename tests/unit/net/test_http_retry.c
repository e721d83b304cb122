/* http_retry: the waits of the retry policy (http.h). test_http.c covers the
 * basics (each header alone, RateLimit-Reset first, one IMF date, the floor
 * under a server's "0", attempts 1 and 3); this file covers the rest of the
 * contract: which header values count, the other two HTTP date forms, the
 * whole doubling sequence up to its cap, a configured first step, a server
 * wait beyond the cap, and that the jitter really spreads the waits. */
#include "unit.h"
#include "net/http.h"
#include <limits.h>
#include <math.h>

/* 1994-11-06 08:49:37 UTC, the date RFC 9110 uses in its examples. */
#define DATE_T 784111777.0

static void values_that_are_not_a_wait_fall_through(void **state)
{
    (void)state;
    /* a bad RateLimit-Reset gives way to Retry-After */
    assert_float_equal(http_retry_rate_limit_wait("-1", "4", 0), 4.0, 1e-9);
    assert_float_equal(http_retry_rate_limit_wait("3s", "4", 0), 4.0, 1e-9);
    assert_float_equal(http_retry_rate_limit_wait("soon", "4", 0), 4.0, 1e-9);
    assert_float_equal(http_retry_rate_limit_wait("", "4", 0), 4.0, 1e-9);
    /* ... and then nothing is left */
    assert_true(http_retry_rate_limit_wait("-1", NULL, 0) < 0);
    assert_true(http_retry_rate_limit_wait("3s", "", 0) < 0);
    assert_true(http_retry_rate_limit_wait(NULL, "-5", 0) < 0);
    assert_true(http_retry_rate_limit_wait(NULL, "4 seconds", 0) < 0);
    assert_true(http_retry_rate_limit_wait(NULL, NULL, 0) < 0);
}

/* "0" is a wait of nothing (the backoff step then decides), not "no header";
 * fractions are kept. */
static void zero_and_fractions_are_waits(void **state)
{
    (void)state;
    assert_float_equal(http_retry_rate_limit_wait("0", "9", 0), 0.0, 0);
    assert_float_equal(http_retry_rate_limit_wait(NULL, "0", 0), 0.0, 0);
    assert_float_equal(http_retry_rate_limit_wait("1.5", NULL, 0), 1.5, 1e-9);
    assert_float_equal(http_retry_rate_limit_wait(NULL, "0.25", 0), 0.25, 1e-9);
}

/* Retry-After may be any of HTTP's three date forms; a date counts from now. */
static void all_http_date_forms_count_from_now(void **state)
{
    (void)state;
    const char *forms[] = {
        "Sun, 06 Nov 1994 08:49:37 GMT",  /* IMF-fixdate */
        "Sunday, 06-Nov-94 08:49:37 GMT", /* RFC 850 */
        "Sun Nov  6 08:49:37 1994",       /* asctime */
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        double w = http_retry_rate_limit_wait(NULL, forms[i], DATE_T - 42);
        if (fabs(w - 42) > 1e-6) fail_msg("'%s': waited %g, not 42", forms[i], w);
        /* a date already past is a wait of nothing */
        assert_float_equal(http_retry_rate_limit_wait(NULL, forms[i], DATE_T + 1), 0.0, 0);
        assert_float_equal(http_retry_rate_limit_wait(NULL, forms[i], DATE_T), 0.0, 0);
    }
    /* a bad RateLimit-Reset does not hide a good date */
    assert_float_equal(http_retry_rate_limit_wait("x", forms[0], DATE_T - 7), 7.0, 1e-6);
}

static http_client_t client_with_backoff(long backoff_ms)
{
    http_client_t c;
    memset(&c, 0, sizeof c);
    c.backoff_ms = backoff_ms;
    return c;
}

/* Smallest and largest wait of 200 calls. */
static void wait_range(const http_client_t *c, int attempt, double server_wait, double *lo,
                       double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int i = 0; i < 200; i++) {
        double w = http_retry_wait(c, attempt, server_wait);
        if (w < *lo) *lo = w;
        if (w > *hi) *hi = w;
    }
}

/* Each step doubles the last, jittered to 50-100%, until the 20 s cap. */
static void steps_double_up_to_the_cap(void **state)
{
    (void)state;
    http_client_t c = client_with_backoff(1000);
    double step = 1.0;
    for (int attempt = 1; attempt <= 9; attempt++) {
        double full = step < 20.0 ? step : 20.0;
        double lo, hi;
        wait_range(&c, attempt, -1, &lo, &hi);
        if (lo < full / 2 - 1e-9 || hi > full + 1e-9)
            fail_msg("attempt %d: waits %g..%g, not within %g..%g", attempt, lo, hi, full / 2,
                     full);
        step *= 2;
    }
    /* however many attempts: still capped, no overflow, no long loop */
    double lo, hi;
    wait_range(&c, INT_MAX, -1, &lo, &hi);
    assert_true(lo >= 10.0 && hi <= 20.0);
}

/* The configured first step is used when it is above the floor, and a step
 * above the cap is cut to it from the first attempt. */
static void the_first_step_is_the_configured_one(void **state)
{
    (void)state;
    http_client_t c = client_with_backoff(250);
    double lo, hi;
    wait_range(&c, 1, -1, &lo, &hi);
    assert_true(lo >= 0.125 && hi <= 0.25);
    wait_range(&c, 2, -1, &lo, &hi);
    assert_true(lo >= 0.25 && hi <= 0.5);
    c = client_with_backoff(HTTP_MIN_BACKOFF_MS - 1); /* below the floor: the floor */
    wait_range(&c, 1, -1, &lo, &hi);
    assert_true(lo >= HTTP_MIN_BACKOFF_MS / 2000.0 && hi <= HTTP_MIN_BACKOFF_MS / 1000.0);
    c = client_with_backoff(60000);
    wait_range(&c, 1, -1, &lo, &hi);
    assert_true(lo >= 10.0 && hi <= 20.0);
}

/* The server may lengthen a wait past the cap (it knows when it will take
 * requests again); a shorter server wait leaves the step as it is. */
static void a_server_wait_only_ever_lengthens(void **state)
{
    (void)state;
    http_client_t c = client_with_backoff(1000);
    assert_float_equal(http_retry_wait(&c, 1, 60.0), 60.0, 0);
    assert_float_equal(http_retry_wait(&c, 9, 45.5), 45.5, 0);
    double lo, hi;
    wait_range(&c, 2, 0.3, &lo, &hi); /* step 1..2 s, longer than the server's 0.3 */
    assert_true(lo >= 1.0 && hi <= 2.0);
}

/* Jitter spreads a parallel step's jobs apart: the waits of one attempt
 * differ and cover the band. 200 draws with none in the lowest (or the
 * highest) fifth of it happen by chance about once in 10^19 runs. */
static void jitter_spreads_the_waits(void **state)
{
    (void)state;
    http_client_t c = client_with_backoff(1000);
    double lo, hi;
    wait_range(&c, 1, -1, &lo, &hi);
    assert_true(lo < 0.6);
    assert_true(hi > 0.9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(values_that_are_not_a_wait_fall_through),
        cmocka_unit_test(zero_and_fractions_are_waits),
        cmocka_unit_test(all_http_date_forms_count_from_now),
        cmocka_unit_test(steps_double_up_to_the_cap),
        cmocka_unit_test(the_first_step_is_the_configured_one),
        cmocka_unit_test(a_server_wait_only_ever_lengthens),
        cmocka_unit_test(jitter_spreads_the_waits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
