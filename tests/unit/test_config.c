#include "unit.h"
#include "config.h"

static void clear_env(void)
{
    const char *names[] = {"BUILDKITE_TEST_ENGINE_SUITE_SLUG", "BUILDKITE_TEST_ENGINE_RETRY_COUNT",
                           "BUILDKITE_PLUGIN_CONFIGURATION", "BUILDKITE_TEST_ENGINE_DEBUG_ENABLED",
                           "BUILDKITE_BUILD_ID", "BUILDKITE_STEP_ID", "BUILDKITE_TEST_ENGINE_PLAN_IDENTIFIER",
                           "BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT", "BUILDKITE_TEST_ENGINE_TAGS",
                           "BUILDKITE_ANALYTICS_LOCATION_PREFIX", "BUILDKITE_TEST_ENGINE_LOCATION_PREFIX",
                           "BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN", "BUILDKITE_ORGANIZATION_SLUG"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unsetenv(names[i]);
}

static int setup(void **state)
{
    (void)state;
    clear_env();
    return 0;
}

static void defaults(void **state)
{
    (void)state;
    config_t c;
    config_load(&c);
    assert_int_equal(c.problems.len, 0);
    assert_string_equal(c.test_file_pattern, "**/{*_test,test_*}.py");
    assert_string_equal(c.base_url, "https://api.buildkite.com");
    assert_int_equal(c.parallel_job_count, 1);
    assert_int_equal(c.api_retry_budget, 60);
    assert_int_equal(c.terminal_exit_status, 65);
    assert_true(c.disable_retry_for_muted);
    config_free(&c);
}

static void booleans(void **state)
{
    (void)state;
    const char *yes[] = {"true", "TRUE", "1", "On"}, *no[] = {"false", "0", "OFF", "False"};
    bool v;
    for (int i = 0; i < 4; i++) {
        assert_true(config_parse_bool(yes[i], &v));
        assert_true(v);
        assert_true(config_parse_bool(no[i], &v));
        assert_false(v);
    }
    assert_false(config_parse_bool("yes", &v));
    assert_false(config_parse_bool("", &v));
}

static void every_problem_listed(void **state)
{
    (void)state;
    setenv("BUILDKITE_TEST_ENGINE_RETRY_COUNT", "-1", 1);
    setenv("BUILDKITE_TEST_ENGINE_DEBUG_ENABLED", "sometimes", 1);
    setenv("BUILDKITE_TEST_ENGINE_TAGS", "team=a,broken,=x", 1);
    setenv("BUILDKITE_PARALLEL_JOB", "4", 1);
    setenv("BUILDKITE_PARALLEL_JOB_COUNT", "4", 1);
    config_t c;
    config_load(&c);
    assert_false(config_validate(&c, PHASE_PLAN));
    /* retry count, debug, 2 tags, parallel job, slug, token, org, identifier */
    assert_int_equal(c.problems.len, 9);
    assert_non_null(strstr(c.problems.items[0], "BUILDKITE_TEST_ENGINE_RETRY_COUNT: -1 is out of range"));
    config_free(&c);
}

static void plugin_json_and_env_precedence(void **state)
{
    (void)state;
    setenv("BUILDKITE_PLUGIN_CONFIGURATION",
           "{\"suite-slug\":\"plug\",\"retry-count\":2,\"debug-enabled\":true,\"tags\":[\"a=1\",\"b=2\"],\"binary\":\"x\"}", 1);
    config_t c;
    config_load(&c);
    assert_int_equal(c.problems.len, 0);
    assert_string_equal(c.suite_slug, "plug");
    assert_int_equal(c.retry_count, 2);
    assert_true(c.debug);
    assert_string_equal(c.tags, "a=1,b=2");
    assert_true(config_is_set(&c, "BUILDKITE_TEST_ENGINE_SUITE_SLUG"));
    config_free(&c);
    setenv("BUILDKITE_TEST_ENGINE_SUITE_SLUG", "env", 1);
    config_load(&c);
    assert_string_equal(c.suite_slug, "env");
    config_free(&c);
}

static void identifier_and_alias(void **state)
{
    (void)state;
    setenv("BUILDKITE_BUILD_ID", "b", 1);
    setenv("BUILDKITE_STEP_ID", "s", 1);
    setenv("BUILDKITE_ANALYTICS_LOCATION_PREFIX", "svc/", 1);
    config_t c;
    config_load(&c);
    assert_string_equal(c.identifier, "b/s");
    assert_string_equal(c.location_prefix, "svc/");
    config_free(&c);
    setenv("BUILDKITE_TEST_ENGINE_PLAN_IDENTIFIER", "mine", 1);
    config_load(&c);
    assert_string_equal(c.identifier, "mine");
    config_free(&c);
}

static void durations(void **state)
{
    (void)state;
    assert_int_equal(config_duration_seconds("7200"), 7200);
    assert_int_equal(config_duration_seconds("2h"), 7200);
    assert_int_equal(config_duration_seconds("1h30m"), 5400);
    assert_int_equal(config_duration_seconds("300s"), 300);
    assert_int_equal(config_duration_seconds("forever"), -1);
    assert_int_equal(config_duration_seconds("2d"), -1);
    assert_int_equal(config_duration_seconds(""), -1);
}

static void bad_plugin_json(void **state)
{
    (void)state;
    setenv("BUILDKITE_PLUGIN_CONFIGURATION", "[1,2", 1);
    config_t c;
    config_load(&c);
    assert_int_equal(c.problems.len, 1);
    assert_non_null(strstr(c.problems.items[0], "BUILDKITE_PLUGIN_CONFIGURATION: not a JSON object"));
    config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(defaults, setup),
        cmocka_unit_test_setup(booleans, setup),
        cmocka_unit_test_setup(every_problem_listed, setup),
        cmocka_unit_test_setup(plugin_json_and_env_precedence, setup),
        cmocka_unit_test_setup(identifier_and_alias, setup),
        cmocka_unit_test_setup(bad_plugin_json, setup),
        cmocka_unit_test_setup(durations, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
