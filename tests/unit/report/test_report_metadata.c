/* report_metadata: the test_plan_metadata body built from a run record: the
 * version, bktec's env payload, one start and end event per attempt (named
 * as bktec names them, RFC 3339 times) and the run's statistics, where
 * collection errors count as failed. */
#include "unit.h"
#include "config/config.h"
#include "report/report_metadata.h"
#include "state/run_record.h"
#include <cjson/cJSON.h>

static const cJSON *member(const cJSON *o, const char *name)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!m) fail_msg("no %s", name);
    return m;
}

/* Three attempts; 10 tests only counted, four tracked: one failed, one
 * passed on retry, one collection error, one muted failure. */
static void fill_record(run_record_t *rec, attempt_t attempts[3])
{
    memset(rec, 0, sizeof *rec);
    for (int i = 0; i < 3; i++) {
        memset(&attempts[i], 0, sizeof attempts[i]);
        attempts[i].index = i;
        attempts[i].started = 1700000000.0 + 100 * i;
        attempts[i].ended = 1700000000.25 + 100 * i + 50;
    }
    rec->attempts = attempts;
    rec->n_attempts = 3;
    results_model_init(&rec->result, NULL, 0);
    rec->result.settled.total = 10;
    rec->result.settled.passed_first = 7;
    rec->result.settled.skipped = 3;
    results_model_track(&rec->result, "t.py::fails", NULL, ST_FAILED, "boom", false);
    test_result_t *retried =
        results_model_track(&rec->result, "t.py::flaky", NULL, ST_PASSED, NULL, false);
    retried->attempts = 2;
    retried->failed_before = true;
    results_model_track(&rec->result, "broken.py", "broken.py", ST_FAILED, "ImportError", true);
    test_result_t *muted =
        results_model_track(&rec->result, "t.py::muted", NULL, ST_FAILED, "x", false);
    muted->muted = true;
}

static void body_has_version_env_timeline_and_statistics(void **state)
{
    (void)state;
    unsetenv("BUILDKITE_PLUGIN_CONFIGURATION");
    setenv("BUILDKITE_BUILD_ID", "b-123", 1);
    config_t cfg;
    config_load(&cfg);
    run_record_t rec;
    attempt_t attempts[3];
    fill_record(&rec, attempts);
    char *json = report_metadata_body(&cfg, &rec);
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root);
    assert_string_equal(member(root, "version")->valuestring, TEP_VERSION);
    const cJSON *env = member(root, "env");
    assert_string_equal(member(env, "BUILDKITE_BUILD_ID")->valuestring, "b-123");
    assert_string_equal(member(env, "BUILDKITE_TEST_ENGINE_TEST_RUNNER")->valuestring, "pytest");

    const cJSON *timeline = member(root, "timeline");
    const char *names[] = {"test_start",  "test_end",      "retry_1_start",
                           "retry_1_end", "retry_2_start", "retry_2_end"};
    const char *times[] = {"2023-11-14T22:13:20.000000Z", "2023-11-14T22:14:10.250000Z",
                           "2023-11-14T22:15:00.000000Z", "2023-11-14T22:15:50.250000Z",
                           "2023-11-14T22:16:40.000000Z", "2023-11-14T22:17:30.250000Z"};
    assert_int_equal(cJSON_GetArraySize(timeline), 6);
    for (int i = 0; i < 6; i++) {
        const cJSON *e = cJSON_GetArrayItem(timeline, i);
        assert_string_equal(member(e, "event")->valuestring, names[i]);
        assert_string_equal(member(e, "timestamp")->valuestring, times[i]);
    }

    const cJSON *st = member(root, "statistics");
    assert_int_equal(member(st, "total")->valueint, 14);
    assert_int_equal(member(st, "passed_on_first_run")->valueint, 7);
    assert_int_equal(member(st, "passed_on_retry")->valueint, 1);
    assert_int_equal(member(st, "muted_passed")->valueint, 0);
    assert_int_equal(member(st, "muted_failed")->valueint, 1);
    assert_int_equal(member(st, "failed")->valueint, 2); /* the failure and the collection error */
    assert_int_equal(member(st, "skipped")->valueint, 3);
    assert_int_equal(cJSON_GetArraySize(st), 7);
    cJSON_Delete(root);
    free(json);
    results_model_free(&rec.result);
    config_free(&cfg);
    unsetenv("BUILDKITE_BUILD_ID");
}

/* A run with no attempt recorded (stopped before pytest ran) still has a
 * well-formed body: an empty timeline. */
static void no_attempts_means_an_empty_timeline(void **state)
{
    (void)state;
    config_t cfg;
    config_load(&cfg);
    run_record_t rec;
    memset(&rec, 0, sizeof rec);
    results_model_init(&rec.result, NULL, 0);
    char *json = report_metadata_body(&cfg, &rec);
    cJSON *root = cJSON_Parse(json);
    assert_int_equal(cJSON_GetArraySize(member(root, "timeline")), 0);
    assert_int_equal(member(member(root, "statistics"), "total")->valueint, 0);
    cJSON_Delete(root);
    free(json);
    results_model_free(&rec.result);
    config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(body_has_version_env_timeline_and_statistics),
        cmocka_unit_test(no_attempts_means_an_empty_timeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
