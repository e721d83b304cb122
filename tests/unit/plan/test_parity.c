/* bktec parity: the dynamic-parallelism estimate, when a failure is promised,
 * the tag-filter setting, and what the plan requests carry. */
#include "unit.h"
#include "plan/collect_only.h"
#include "config/config.h"
#include "plan/plan_dynamic.h"
#include "net/engine_api.h"
#include "run/run_promise.h"

static void estimate_is_ceil_of_total_over_target(void **state)
{
    (void)state;
    char *how = NULL;
    assert_int_equal(plan_dynamic_estimate(10, 1, 60, 250.0, 100, &how), 5);
    assert_non_null(strstr(how, "ceil(250.0 s of tests / target 60 s) = 5 jobs"));
    free(how);
    assert_int_equal(plan_dynamic_estimate(10, 1, 60, 240.0, 100, &how),
                     4); /* exact: no extra job */
    free(how);
    assert_int_equal(plan_dynamic_estimate(10, 1, 60, 0.5, 100, &how), 1); /* never below 1 */
    free(how);
}

static void estimate_is_capped(void **state)
{
    (void)state;
    char *how = NULL;
    assert_int_equal(plan_dynamic_estimate(3, 1, 60, 250.0, 100, &how), 3);
    assert_non_null(strstr(how, "capped at BUILDKITE_TEST_ENGINE_MAX_PARALLELISM 3"));
    free(how);
    assert_int_equal(plan_dynamic_estimate(10, 1, 10, 250.0, 4, &how), 4);
    assert_non_null(strstr(how, "capped at the 4 entries to run"));
    free(how);
}

static void estimate_without_target_or_durations(void **state)
{
    (void)state;
    char *how = NULL;
    assert_int_equal(plan_dynamic_estimate(7, 2, 0, 250.0, 100, &how), 7);
    assert_non_null(strstr(how, "no target time"));
    free(how);
    assert_int_equal(plan_dynamic_estimate(7, 2, 60, -1, 100, &how), 7);
    assert_non_null(strstr(how, "no local durations"));
    free(how);
    assert_int_equal(plan_dynamic_estimate(0, 2, 0, -1, 100, &how), 2); /* bktec: --parallelism */
    assert_non_null(strstr(how, "BUILDKITE_PARALLEL_JOB_COUNT"));
    free(how);
}

/* One record of a result file, as the parsers hand it out. */
static void add(results_model_t *r, const char *scope, const char *name, const char *node_id,
                test_status_t status, const char *failure, bool collection_error)
{
    test_record_t t = {.scope = scope,
                       .name = name,
                       .node_id = node_id,
                       .file = name[0] ? "t.py" : node_id,
                       .status = status,
                       .failure = failure,
                       .collection_error = collection_error,
                       .duration = -1};
    results_model_add(r, &t);
}

/* A record with one hard failure, one muted failure and one collection error. */
static void make_record(run_record_t *rec, bool terminal)
{
    memset(rec, 0, sizeof *rec);
    plan_test_ref_t muted = {"t.py", "test_muted"};
    results_model_init(&rec->result, &muted, 1);
    add(&rec->result, "t.py", "test_hard", "t.py::test_hard", ST_FAILED, "boom", false);
    add(&rec->result, "t.py", "test_muted", "t.py::test_muted", ST_FAILED, "boom", false);
    add(&rec->result, "t.py", "test_ok", "t.py::test_ok", ST_PASSED, NULL, false);
    if (terminal) add(&rec->result, "", "u.py", "u.py", ST_FAILED, "import", true);
    rec->terminal = terminal;
}

static void promise_only_for_the_failure_status(void **state)
{
    (void)state;
    config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.promise_failure = true;
    cfg.failure_exit_status = 1;
    run_record_t rec;
    make_record(&rec, false);
    assert_int_equal(run_promise_failures_due(&cfg, &rec, 1), 1); /* the muted one does not count */
    assert_int_equal(run_promise_failures_due(&cfg, &rec, 0), 0);
    assert_int_equal(run_promise_failures_due(&cfg, &rec, 143), 0); /* killed: not a test failure */
    cfg.promise_failure = false;
    assert_int_equal(run_promise_failures_due(&cfg, &rec, 1), 0);
    run_record_free(&rec);
    cfg.promise_failure = true;
    make_record(&rec, true);
    assert_int_equal(run_promise_failures_due(&cfg, &rec, 65), 0);
    cfg.terminal_exit_status = 1; /* even when the statuses coincide */
    assert_int_equal(run_promise_failures_due(&cfg, &rec, 1), 0);
    run_record_free(&rec);
}

static void tag_filter_must_be_key_value(void **state)
{
    (void)state;
    const char *bad[] = {"team", "team:", ":payments"};
    for (size_t i = 0; i < 3; i++) {
        setenv("BUILDKITE_TEST_ENGINE_TAG_FILTERS", bad[i], 1);
        config_t c;
        config_load(&c);
        assert_false(config_validate(&c, PHASE_RUN));
        assert_non_null(strstr(c.problems.items[0], "is not key:value"));
        config_free(&c);
    }
    setenv("BUILDKITE_TEST_ENGINE_TAG_FILTERS", "url:https://x:8080",
           1); /* split at the first ':' */
    config_t c;
    config_load(&c);
    assert_true(config_validate(&c, PHASE_RUN));
    config_free(&c);
    unsetenv("BUILDKITE_TEST_ENGINE_TAG_FILTERS");
}

static void dynamic_fields_only_in_dynamic_mode(void **state)
{
    (void)state;
    setenv("BUILDKITE_TEST_ENGINE_MAX_PARALLELISM", "12", 1);
    setenv("BUILDKITE_TEST_ENGINE_TARGET_TIME", "4m30s", 1);
    setenv("BUILDKITE_TEST_ENGINE_TAG_FILTERS", "team:payments", 1);
    config_t c;
    config_load(&c);
    cJSON *body = cJSON_CreateObject();
    engine_api_add_dynamic_fields(body, &c);
    assert_int_equal(cJSON_GetArraySize(body), 0);
    c.dynamic = true;
    engine_api_add_dynamic_fields(body, &c);
    assert_int_equal(cJSON_GetObjectItem(body, "max_parallelism")->valueint, 12);
    assert_int_equal(cJSON_GetObjectItem(body, "target_time")->valueint, 270);
    cJSON *env = engine_api_env_payload(&c);
    assert_string_equal(cJSON_GetObjectItem(env, "BUILDKITE_TEST_ENGINE_TAG_FILTERS")->valuestring,
                        "team:payments");
    cJSON_Delete(env);
    cJSON_Delete(body);
    config_free(&c);
    unsetenv("BUILDKITE_TEST_ENGINE_MAX_PARALLELISM");
    unsetenv("BUILDKITE_TEST_ENGINE_TARGET_TIME");
    unsetenv("BUILDKITE_TEST_ENGINE_TAG_FILTERS");
}

/* Ids outside the requested files (pytest's rootdir is not the cwd) are
 * counted, never taken: a tag filter must not silently lose them. */
static void collection_counts_foreign_ids(void **state)
{
    (void)state;
    strlist_t files;
    strlist_init(&files);
    strlist_push(&files, "tests/a.py");
    collect_only_result_t res;
    memset(&res, 0, sizeof res);
    strlist_init(&res.node_ids);
    strlist_init(&res.whole_files);
    strlist_init(&res.broken_files);
    const char *text = "{\"id\": \"tests/a.py::t\"}\n{\"id\": \"sub/tests/b.py::u\"}\n"
                       "{\"id\": \"sub/tests/b.py::v\"}\n{\"done\": 3}\n";
    assert_true(collect_only_read_records(text, &files, &res));
    assert_int_equal(res.node_ids.len, 1);
    assert_int_equal(res.foreign_ids, 2);
    assert_string_equal(res.foreign_example, "sub/tests/b.py::u");
    collect_only_result_free(&res);
    strlist_free(&files);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(estimate_is_ceil_of_total_over_target),
        cmocka_unit_test(estimate_is_capped),
        cmocka_unit_test(estimate_without_target_or_durations),
        cmocka_unit_test(promise_only_for_the_failure_status),
        cmocka_unit_test(tag_filter_must_be_key_value),
        cmocka_unit_test(dynamic_fields_only_in_dynamic_mode),
        cmocka_unit_test(collection_counts_foreign_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
