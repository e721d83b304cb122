/* plan_estimate: each entry's estimate and where it came from; a later note
 * for an entry wins whether the notes were recorded sorted or not; Test
 * Engine's timing_metadata read, and its absurd values left out. */
#include "unit.h"
#include "model/plan_estimate.h"

static void notes_are_found_and_the_later_wins(void **state)
{
    (void)state;
    plan_estimates_t *e = plan_estimates_new();
    plan_estimates_add(e, "b.py", 2, 5, PLAN_EST_SERVER_TIMING, PLAN_EST_FORMAT_SELECTOR);
    plan_estimates_add(e, "a.py", 1, 0, PLAN_EST_SERVER_DEFAULT, PLAN_EST_FORMAT_FILE);
    plan_estimates_add(e, "c.py::t", -1, -1, PLAN_EST_NONE, PLAN_EST_FORMAT_EXAMPLE);
    plan_estimates_add(e, "b.py", 7, -1, PLAN_EST_DURATIONS_REST, PLAN_EST_FORMAT_FILE);
    const plan_est_t *b = plan_estimates_find(e, "b.py");
    assert_non_null(b);
    assert_float_equal(b->seconds, 7, 1e-9);
    assert_int_equal(b->source, PLAN_EST_DURATIONS_REST);
    assert_int_equal(e->len, 3); /* the earlier note for b.py is gone */
    assert_int_equal(plan_estimates_find(e, "a.py")->samples, 0);
    assert_null(plan_estimates_find(e, "d.py"));
    /* once sorted, a new note for a known entry replaces it in place */
    plan_estimates_add(e, "a.py", 3, 9, PLAN_EST_SERVER_TIMING, PLAN_EST_FORMAT_FILE);
    assert_int_equal(e->len, 3);
    assert_int_equal(plan_estimates_find(e, "a.py")->samples, 9);
    plan_estimates_delete(e);
    plan_estimates_delete(NULL);
}

static void test_engines_timing_metadata(void **state)
{
    (void)state;
    plan_estimates_t *e = plan_estimates_new();
    cJSON *plan = cJSON_Parse(
        "{\"timing_metadata\": {\"selector\": {\"median_duration\": null, \"default_duration\": "
        "1000.0}, \"example\": {\"default_duration\": -5}, \"file\": {\"default_duration\": "
        "\"x\"}}, \"known_timings_ratio\": 0.25}");
    plan_estimates_read_server(e, plan);
    assert_float_equal(e->server_default_s[PLAN_EST_FORMAT_SELECTOR], 1.0, 1e-9);
    assert_float_equal(e->server_default_s[PLAN_EST_FORMAT_EXAMPLE], -1, 1e-9); /* negative */
    assert_float_equal(e->server_default_s[PLAN_EST_FORMAT_FILE], -1, 1e-9);    /* a string */
    assert_float_equal(e->known_timings_ratio, 0.25, 1e-9);
    assert_non_null(strstr(e->timing_metadata_json, "\"median_duration\":null"));
    cJSON_Delete(plan);
    /* a ratio that is not one is left out */
    plan = cJSON_Parse("{\"known_timings_ratio\": 7}");
    plan_estimates_t *f = plan_estimates_new();
    plan_estimates_read_server(f, plan);
    assert_float_equal(f->known_timings_ratio, -1, 1e-9);
    assert_null(f->timing_metadata_json);
    cJSON_Delete(plan);
    plan_estimates_delete(f);
    plan_estimates_delete(e);
}

static void words_tokens_and_history(void **state)
{
    (void)state;
    for (int s = PLAN_EST_NONE; s <= PLAN_EST_MEAN_OF_KNOWN; s++) {
        assert_string_not_equal(plan_est_source_words((plan_est_source_t)s), "?");
        assert_string_not_equal(plan_est_source_token((plan_est_source_t)s), "?");
    }
    assert_string_equal(plan_est_source_token(PLAN_EST_SERVER_TIMING), "test_engine_timing");
    assert_true(plan_est_has_history(PLAN_EST_SERVER_TIMING));
    assert_true(plan_est_has_history(PLAN_EST_DURATIONS_TEST));
    assert_false(plan_est_has_history(PLAN_EST_SERVER_DEFAULT));
    assert_false(plan_est_has_history(PLAN_EST_MEAN_OF_KNOWN));
    assert_false(plan_est_has_history(PLAN_EST_NONE));
    assert_int_equal(plan_est_format_parse("selector"), PLAN_EST_FORMAT_SELECTOR);
    assert_int_equal(plan_est_format_parse("example"), PLAN_EST_FORMAT_EXAMPLE);
    assert_int_equal(plan_est_format_parse(""), PLAN_EST_FORMAT_FILE);
    assert_int_equal(plan_est_format_parse(NULL), PLAN_EST_FORMAT_FILE);
    assert_string_equal(plan_est_format_name(PLAN_EST_FORMAT_EXAMPLE), "example");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(notes_are_found_and_the_later_wins),
        cmocka_unit_test(test_engines_timing_metadata),
        cmocka_unit_test(words_tokens_and_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
