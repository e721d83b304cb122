/* results_timing: the 10 slowest tests (one entry per test, slowest run), skip
 * reasons (first 20 distinct, counted; the rest counted together), reasons as
 * pytest's JUnit writer words them, the estimate-against-actual line, and
 * memory that stays flat at a million records. */
#include "unit.h"
#include "base/buf.h"
#include "results/results_timing.h"
#include <math.h>
#include <stdio.h>

static test_record_t passed(const char *id, double seconds)
{
    return (test_record_t){
        .scope = "", .name = id, .node_id = id, .status = ST_PASSED, .duration = seconds};
}

static test_record_t skipped(const char *id, const char *message)
{
    return (test_record_t){.scope = "",
                           .name = id,
                           .node_id = id,
                           .status = ST_SKIPPED,
                           .failure = message,
                           .duration = 0};
}

static void the_ten_slowest_of_a_thousand(void **state)
{
    (void)state;
    results_timing_t t;
    results_timing_init(&t);
    char id[32];
    /* a permutation of 0..999 (37 is coprime to 1000): seconds = i / 100 */
    for (int k = 0; k < 1000; k++) {
        int i = (k * 37) % 1000;
        snprintf(id, sizeof id, "t.py::t%03d", i);
        test_record_t r = passed(id, i / 100.0);
        results_timing_add(&t, &r);
    }
    assert_int_equal(t.n_slowest, RESULTS_TIMING_SLOWEST);
    assert_int_equal(t.timed, 1000);
    assert_float_equal(t.tests_s, 4995.0, 1e-6);
    results_timing_test_t slow[RESULTS_TIMING_SLOWEST];
    results_timing_slowest(&t, slow);
    for (int k = 0; k < RESULTS_TIMING_SLOWEST; k++) {
        snprintf(id, sizeof id, "t.py::t%03d", 999 - k);
        assert_string_equal(slow[k].node_id, id);
        assert_float_equal(slow[k].seconds, (999 - k) / 100.0, 1e-9);
    }
    results_timing_free(&t);
}

/* A test run again (an in-job retry, a rerun) is one entry, at its slowest;
 * ties go by node id, so every run lists them alike. */
static void one_entry_per_test_ties_by_name(void **state)
{
    (void)state;
    results_timing_t t;
    results_timing_init(&t);
    const char *ids[] = {"c", "a", "b"};
    for (int i = 0; i < 3; i++) {
        test_record_t r = passed(ids[i], 1.0);
        results_timing_add(&t, &r);
    }
    test_record_t again = passed("c", 5.0), quicker = passed("a", 0.5);
    results_timing_add(&t, &again);
    results_timing_add(&t, &quicker);
    assert_int_equal(t.n_slowest, 3);
    results_timing_test_t slow[RESULTS_TIMING_SLOWEST];
    results_timing_slowest(&t, slow);
    assert_string_equal(slow[0].node_id, "c");
    assert_float_equal(slow[0].seconds, 5.0, 1e-9);
    assert_string_equal(slow[1].node_id, "a"); /* its slowest run, 1.0, ties with b */
    assert_string_equal(slow[2].node_id, "b");
    /* no duration, a collection error, NaN: not timed */
    test_record_t none = passed("d", -1), nan_ = passed("e", NAN);
    test_record_t coll = passed("f.py", 9);
    coll.collection_error = true;
    results_timing_add(&t, &none);
    results_timing_add(&t, &nan_);
    results_timing_add(&t, &coll);
    assert_int_equal(t.n_slowest, 3);
    assert_int_equal(t.timed, 5);
    results_timing_free(&t);
}

static void reasons_as_junit_words_them(void **state)
{
    (void)state;
    struct {
        const char *in, *want;
    } cases[] = {
        {"Skipped: needs network", "needs network"},
        {"needs network", "needs network"},
        {"reason: bug 12", "bug 12"},
        {"xfail: reason: bug 12", "xfail: bug 12"},
        {"xfail: bug 12", "xfail: bug 12"},
        {"Skipped: first line\nsecond line", "first line"},
        {"trailing  \t", "trailing"},
        {NULL, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = results_timing_reason_text(cases[i].in);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
    /* a long reason is cut on a character, with "..." */
    buf_t b = BUF_INIT;
    for (int i = 0; i < 200; i++) buf_puts(&b, "\xc3\xa9"); /* 400 bytes of é */
    char *got = results_timing_reason_text(buf_str(&b));
    assert_true(strlen(got) <= RESULTS_TIMING_REASON_MAX);
    assert_string_equal(got + strlen(got) - 3, "...");
    assert_int_equal((strlen(got) - 3) % 2, 0);
    free(got);
    buf_free(&b);
}

static void the_first_twenty_reasons_are_counted(void **state)
{
    (void)state;
    results_timing_t t;
    results_timing_init(&t);
    char id[32], why[32];
    for (int i = 0; i < 50; i++) { /* 25 reasons, each twice */
        snprintf(id, sizeof id, "t.py::t%d", i);
        snprintf(why, sizeof why, "Skipped: reason %d", i % 25);
        test_record_t r = skipped(id, why);
        results_timing_add(&t, &r);
    }
    assert_int_equal(t.skipped, 50);
    assert_int_equal(t.n_reasons, RESULTS_TIMING_REASONS);
    assert_string_equal(t.reasons[0].reason, "reason 0");
    assert_int_equal(t.reasons[0].count, 2);
    assert_string_equal(t.reasons[0].example, "t.py::t0"); /* the first skipped for it */
    assert_int_equal(t.skipped_other, 10);                 /* reasons 20..24, twice each */
    results_timing_free(&t);
}

static results_timing_t estimate(double seconds, const char *basis, long samples)
{
    results_timing_t t;
    results_timing_init(&t);
    t.estimate_s = seconds;
    free(t.estimate_basis);
    t.estimate_basis = xstrdup(basis);
    t.samples = samples;
    t.with_history = 3;
    t.entries = 4;
    return t;
}

static void assert_words(results_timing_t *t, double took, const char *want)
{
    char *got = results_timing_words(t, took);
    assert_string_equal(got, want);
    free(got);
    results_timing_free(t);
}

static void the_estimate_against_the_time(void **state)
{
    (void)state;
    results_timing_t t = estimate(12, "test_engine", 340);
    assert_words(&t, 13.4,
                 "estimated 12.0s by Test Engine (340 timing samples, 3 of 4 entries with "
                 "history), took 13.4s (1.4s more, +12%)");
    t = estimate(12, "test_engine", -1);
    assert_words(&t, 9, "estimated 12.0s by Test Engine, took 9.0s (3.0s less, -25%)");
    t = estimate(2, "durations_file", -1);
    assert_words(&t, 2.02,
                 "estimated 2.0s from the durations file (3 of 4 entries known), took "
                 "2.0s (as estimated)");
    t = estimate(0.2, "durations_file", -1);
    assert_words(&t, 0.5,
                 "estimated 0.2s from the durations file (3 of 4 entries known), took "
                 "0.5s (0.3s more)"); /* under a second: no percentage */
    t = estimate(-1, "none", -1);
    assert_words(&t, 4, "no estimate, took 4.0s");
    t = estimate(-1, "none", -1);
    t.entries = 0;
    assert_words(&t, -1, "no tests on this job");
}

/* A million results: the same few entries as ten. */
static void memory_is_flat_at_a_million(void **state)
{
    (void)state;
    results_timing_t t;
    results_timing_init(&t);
    char id[48], why[48];
    for (int i = 0; i < 1000000; i++) {
        snprintf(id, sizeof id, "tests/t%d.py::test_%d", i % 997, i);
        snprintf(why, sizeof why, "Skipped: because %d", i % 101);
        test_record_t r =
            i % 3 ? passed(id, (double)(((long)i * 7919) % 100003) / 1000.0) : skipped(id, why);
        results_timing_add(&t, &r);
    }
    assert_int_equal(t.n_slowest, RESULTS_TIMING_SLOWEST);
    assert_int_equal(t.n_reasons, RESULTS_TIMING_REASONS);
    assert_int_equal(t.skipped, 333334);
    size_t counted = t.skipped_other;
    for (size_t i = 0; i < t.n_reasons; i++) counted += t.reasons[i].count;
    assert_int_equal(counted, t.skipped);
    results_timing_free(&t);
}

/* run.json's entries come back through the same bounds. */
static void stored_entries_come_back_bounded(void **state)
{
    (void)state;
    results_timing_t t;
    results_timing_init(&t);
    for (int i = 0; i < 30; i++) {
        char id[16];
        snprintf(id, sizeof id, "t%d", i);
        results_timing_put_slow(&t, id, i);
        results_timing_put_reason(&t, id, 2, id);
    }
    results_timing_put_slow(&t, "bad", -1);
    assert_int_equal(t.n_slowest, RESULTS_TIMING_SLOWEST);
    assert_int_equal(t.n_reasons, RESULTS_TIMING_REASONS);
    assert_int_equal(t.skipped_other, 20);
    buf_t long_id = BUF_INIT;
    for (int i = 0; i < 2000; i++) buf_putc(&long_id, 'x');
    results_timing_put_slow(&t, buf_str(&long_id), 1000);
    results_timing_test_t slow[RESULTS_TIMING_SLOWEST];
    results_timing_slowest(&t, slow);
    assert_int_equal(strlen(slow[0].node_id), RESULTS_TIMING_ID_MAX);
    buf_free(&long_id);
    results_timing_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_ten_slowest_of_a_thousand),
        cmocka_unit_test(one_entry_per_test_ties_by_name),
        cmocka_unit_test(reasons_as_junit_words_them),
        cmocka_unit_test(the_first_twenty_reasons_are_counted),
        cmocka_unit_test(the_estimate_against_the_time),
        cmocka_unit_test(memory_is_flat_at_a_million),
        cmocka_unit_test(stored_entries_come_back_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
