#include "unit.h"
#include "config/config.h"

static void clear_env(void)
{
    const char *names[] = {"BUILDKITE_TEST_ENGINE_SUITE_SLUG",
                           "BUILDKITE_TEST_ENGINE_RETRY_COUNT",
                           "BUILDKITE_PLUGIN_CONFIGURATION",
                           "BUILDKITE_TEST_ENGINE_DEBUG_ENABLED",
                           "BUILDKITE_BUILD_ID",
                           "BUILDKITE_STEP_ID",
                           "BUILDKITE_TEST_ENGINE_PLAN_IDENTIFIER",
                           "BUILDKITE_PARALLEL_JOB",
                           "BUILDKITE_PARALLEL_JOB_COUNT",
                           "BUILDKITE_TEST_ENGINE_TAGS",
                           "BUILDKITE_ANALYTICS_LOCATION_PREFIX",
                           "BUILDKITE_TEST_ENGINE_LOCATION_PREFIX",
                           "BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN",
                           "BUILDKITE_ORGANIZATION_SLUG",
                           "BUILDKITE_JOB_ID",
                           "BUILDKITE_TEST_ENGINE_OIDC_LIFETIME"};
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
    /* Nothing of the API configured: offline, so only the bad settings count:
     * retry count, debug, 2 tags, parallel job. */
    assert_true(c.offline);
    assert_false(config_validate(&c, PHASE_PLAN));
    assert_int_equal(c.problems.len, 5);
    assert_non_null(
        strstr(c.problems.items[0], "BUILDKITE_TEST_ENGINE_RETRY_COUNT: -1 is out of range"));
    config_free(&c);
    /* A suite slug says the API is meant: token, org and identifier are demanded too. */
    setenv("BUILDKITE_TEST_ENGINE_SUITE_SLUG", "shop", 1);
    config_load(&c);
    assert_false(c.offline);
    assert_false(config_validate(&c, PHASE_PLAN));
    assert_int_equal(c.problems.len, 8);
    config_free(&c);
    unsetenv("BUILDKITE_TEST_ENGINE_SUITE_SLUG");
}

static void parallelism_zero_is_one_problem(void **state)
{
    (void)state;
    setenv("BUILDKITE_PARALLEL_JOB_COUNT", "0", 1);
    config_t c;
    config_load(&c);
    assert_false(config_validate(&c, PHASE_RUN));
    assert_int_equal(c.problems.len, 1);
    assert_non_null(strstr(c.problems.items[0], "BUILDKITE_PARALLEL_JOB_COUNT: 0 is out of range"));
    config_free(&c);
    unsetenv("BUILDKITE_PARALLEL_JOB_COUNT");
}

static void misspelt_variable_gets_did_you_mean(void **state)
{
    (void)state;
    setenv("BUILDKITE_TEST_ENGINE_RETRY_COUTN", "2", 1);
    setenv("BUILDKITE_TEST_ENGINE_NONSENSE_THING_HERE", "1", 1);
    config_t c;
    config_load(&c);
    assert_int_equal(c.warnings.len, 2);
    const char *a = c.warnings.items[0], *b = c.warnings.items[1];
    const char *typo = strstr(a, "COUTN") ? a : b, *other = typo == a ? b : a;
    assert_string_equal(typo, "BUILDKITE_TEST_ENGINE_RETRY_COUTN is not an option; did you mean "
                              "BUILDKITE_TEST_ENGINE_RETRY_COUNT?");
    assert_non_null(strstr(other, "see test-engine-pytest --help"));
    assert_int_equal(c.problems.len, 0);
    config_free(&c);
    unsetenv("BUILDKITE_TEST_ENGINE_RETRY_COUTN");
    unsetenv("BUILDKITE_TEST_ENGINE_NONSENSE_THING_HERE");
}

/* People migrate from bktec with its variables still set: pytest as the
 * runner is quietly fine, another runner is a configuration problem, and
 * bktec's other variables and its pre-1.0 names say what replaced them. */
static void bktec_variables_say_what_to_do(void **state)
{
    (void)state;
    setenv("BUILDKITE_TEST_ENGINE_TEST_RUNNER", "pytest", 1);
    config_t c;
    config_load(&c);
    assert_int_equal(c.warnings.len, 0);
    assert_int_equal(c.problems.len, 0);
    config_free(&c);
    setenv("BUILDKITE_TEST_ENGINE_TEST_RUNNER", "rspec", 1);
    setenv("BUILDKITE_TEST_ENGINE_SELECTOR_SPLITTING", "true", 1);
    setenv("BUILDKITE_SPLITTER_SUITE_SLUG", "shop", 1);
    config_load(&c);
    assert_int_equal(c.problems.len, 1);
    assert_string_equal(c.problems.items[0], "BUILDKITE_TEST_ENGINE_TEST_RUNNER: 'rspec': this "
                                             "plugin runs pytest; unset it, or split that suite "
                                             "with bktec");
    assert_int_equal(c.warnings.len, 2);
    for (size_t i = 0; i < 2; i++) assert_null(strstr(c.warnings.items[i], "is not an option"));
    const char *renamed =
        strstr(c.warnings.items[0], "SPLITTER") ? c.warnings.items[0] : c.warnings.items[1];
    assert_string_equal(renamed, "BUILDKITE_SPLITTER_SUITE_SLUG was renamed "
                                 "BUILDKITE_TEST_ENGINE_SUITE_SLUG (bktec 1.0); set that instead: "
                                 "this one is not read");
    config_free(&c);
    unsetenv("BUILDKITE_TEST_ENGINE_TEST_RUNNER");
    unsetenv("BUILDKITE_TEST_ENGINE_SELECTOR_SPLITTING");
    unsetenv("BUILDKITE_SPLITTER_SUITE_SLUG");
}

static void run_phase_needs_no_api_credentials(void **state)
{
    (void)state;
    setenv("BUILDKITE_TEST_ENGINE_SUITE_SLUG", "shop", 1);
    config_t c;
    config_load(&c);
    assert_true(config_validate(&c, PHASE_RUN));
    config_free(&c);
    unsetenv("BUILDKITE_TEST_ENGINE_SUITE_SLUG");
}

static void saved_options_fill_only_what_is_unset(void **state)
{
    (void)state;
    setenv("BUILDKITE_PLUGIN_CONFIGURATION",
           "{\"suite-slug\":\"plug\",\"retry-count\":2,\"test-cmd\":\"pytest -x\"}", 1);
    config_t c;
    config_load(&c);
    cJSON *saved = config_saved_options(&c);
    char *text = cJSON_PrintUnformatted(saved);
    assert_string_equal(
        text, "{\"BUILDKITE_TEST_ENGINE_SUITE_SLUG\":\"plug\",\"BUILDKITE_TEST_ENGINE_TEST_CMD\":"
              "\"pytest -x\",\"BUILDKITE_TEST_ENGINE_RETRY_COUNT\":\"2\"}");
    free(text);
    config_free(&c);
    /* The command phase: no plugin JSON, one option from its own environment. */
    unsetenv("BUILDKITE_PLUGIN_CONFIGURATION");
    setenv("BUILDKITE_TEST_ENGINE_RETRY_COUNT", "5", 1);
    config_load(&c);
    assert_true(c.offline);
    config_apply_saved(&c, saved, "options.json");
    assert_string_equal(c.suite_slug, "plug");
    assert_string_equal(c.test_cmd, "pytest -x");
    assert_int_equal(c.retry_count, 5);
    assert_false(c.offline);
    config_free(&c);
    cJSON_Delete(saved);
    unsetenv("BUILDKITE_TEST_ENGINE_RETRY_COUNT");
}

static void plugin_json_and_env_precedence(void **state)
{
    (void)state;
    setenv("BUILDKITE_PLUGIN_CONFIGURATION",
           "{\"suite-slug\":\"plug\",\"retry-count\":2,\"debug-enabled\":true,\"tags\":[\"a=1\","
           "\"b=2\"],\"binary\":\"x\",\"release-url\":\"https://mirror/v{version}\"}",
           1);
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

/* A lifetime whose seconds do not fit is refused, never overflowed (UBSan
 * stopped 9999999999999999h) or wrapped (5124095576030432h became 3,584 s and
 * passed the 24 h check). */
static void durations_never_overflow_or_wrap(void **state)
{
    (void)state;
    assert_int_equal(config_duration_seconds("9999999999999999h"), -1);
    assert_int_equal(config_duration_seconds("5124095576030432h"), -1);
    assert_int_equal(config_duration_seconds("99999999999999999999"), -1);
    assert_int_equal(config_duration_seconds("1h9223372036854775807s"), -1);
    assert_int_equal(config_duration_seconds("-5m"), -1);
    assert_int_equal(config_duration_seconds("+5m"), -1);
    assert_int_equal(config_duration_seconds(" 5m"), -1);
    assert_int_equal(config_duration_seconds("1.5h"), -1);
    assert_int_equal(config_duration_seconds("24h"), 86400);
    setenv("BUILDKITE_TEST_ENGINE_OIDC_LIFETIME", "5124095576030432h", 1);
    config_t c;
    config_load(&c);
    assert_false(config_validate(&c, PHASE_RUN));
    assert_int_equal(c.problems.len, 1);
    assert_non_null(strstr(c.problems.items[0], "OIDC_LIFETIME: '5124095576030432h' is not a "
                                                "lifetime up to 24h"));
    config_free(&c);
}

/* A whole-number option given a fraction in the plugin's JSON is refused,
 * not cut ("retry-count: 20.5" was taken as 20); whole numbers still work. */
static void plugin_numbers_must_be_whole(void **state)
{
    (void)state;
    setenv("BUILDKITE_PLUGIN_CONFIGURATION", "{\"retry-count\":20.5,\"timeout\":1e300}", 1);
    config_t c;
    config_load(&c);
    assert_int_equal(c.problems.len, 2);
    assert_string_equal(c.problems.items[0], "plugin option 'retry-count': '20.5' is not a whole "
                                             "number; use a number from 0 to 20");
    assert_non_null(strstr(c.problems.items[1],
                           "plugin option 'timeout': '1.0000000000000001e+300' "
                           "is not a whole number"));
    config_free(&c);
    setenv("BUILDKITE_PLUGIN_CONFIGURATION", "{\"retry-count\":2.0,\"timeout\":-0}", 1);
    config_load(&c);
    assert_int_equal(c.problems.len, 0);
    assert_int_equal(c.retry_count, 2);
    assert_int_equal(c.run_timeout, 0);
    config_free(&c);
    setenv("BUILDKITE_TEST_ENGINE_RETRY_COUNT", "20.5", 1);
    config_load(&c);
    assert_int_equal(c.problems.len, 1);
    assert_non_null(strstr(c.problems.items[0], "'20.5' is not a whole number"));
    config_free(&c);
    unsetenv("BUILDKITE_TEST_ENGINE_RETRY_COUNT");
}

/* The job id names the state folder: one that is no plain name is a
 * configuration problem, and no path is made of it. */
static void job_ids_that_are_no_names_are_refused(void **state)
{
    (void)state;
    const char *bad[] = {"../../outside", "a/b",           "..",     ".hidden",    "-x",
                         "job 1",         "j\xc3\xb6\x62", "job\n1", "job\x1b[31m"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        setenv("BUILDKITE_JOB_ID", bad[i], 1);
        config_t c;
        config_load(&c);
        assert_non_null(c.state_dir_problem);
        assert_false(config_validate(&c, PHASE_RUN));
        assert_non_null(strstr(c.problems.items[0], "BUILDKITE_JOB_ID: '"));
        assert_non_null(strstr(c.problems.items[0], "' is not a job id"));
        assert_null(strstr(c.state_dir, bad[i]));
        config_free(&c);
    }
    /* Set but empty inside a Buildkite build: refused too; outside one, an
     * empty id is no id (a local run). */
    setenv("BUILDKITE_JOB_ID", "", 1);
    setenv("BUILDKITE_BUILD_ID", "b", 1);
    config_t c;
    config_load(&c);
    assert_non_null(c.state_dir_problem);
    config_free(&c);
    unsetenv("BUILDKITE_BUILD_ID");
    config_load(&c);
    assert_null(c.state_dir_problem);
    assert_string_equal(c.state_dir, STATE_DIR_NAME "/local-1-of-1");
    config_free(&c);
    setenv("BUILDKITE_JOB_ID", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", 1);
    config_load(&c);
    assert_null(c.state_dir_problem);
    assert_string_equal(c.state_dir, STATE_DIR_NAME "/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
    config_free(&c);
    unsetenv("BUILDKITE_JOB_ID");
}

static void bad_plugin_json(void **state)
{
    (void)state;
    setenv("BUILDKITE_PLUGIN_CONFIGURATION", "[1,2", 1);
    config_t c;
    config_load(&c);
    assert_int_equal(c.problems.len, 1);
    assert_non_null(
        strstr(c.problems.items[0], "BUILDKITE_PLUGIN_CONFIGURATION: not a JSON object"));
    config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(defaults, setup),
        cmocka_unit_test_setup(booleans, setup),
        cmocka_unit_test_setup(every_problem_listed, setup),
        cmocka_unit_test_setup(parallelism_zero_is_one_problem, setup),
        cmocka_unit_test_setup(misspelt_variable_gets_did_you_mean, setup),
        cmocka_unit_test_setup(bktec_variables_say_what_to_do, setup),
        cmocka_unit_test_setup(run_phase_needs_no_api_credentials, setup),
        cmocka_unit_test_setup(saved_options_fill_only_what_is_unset, setup),
        cmocka_unit_test_setup(plugin_json_and_env_precedence, setup),
        cmocka_unit_test_setup(identifier_and_alias, setup),
        cmocka_unit_test_setup(bad_plugin_json, setup),
        cmocka_unit_test_setup(durations, setup),
        cmocka_unit_test_setup(durations_never_overflow_or_wrap, setup),
        cmocka_unit_test_setup(plugin_numbers_must_be_whole, setup),
        cmocka_unit_test_setup(job_ids_that_are_no_names_are_refused, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
