/* engine_api without a server: how every kind of answer is classified (and
 * what the user is told), prefixed and unprefixed paths, the endpoint URLs,
 * bktec's env payload, the dynamic fields, and the client it sets up. */
#include "unit.h"
#include "config/config.h"
#include "net/http.h"
#include "net/engine_api.h"
#include "scratch.h"
#include <unistd.h>
#include <cjson/cJSON.h>

static const char *const CLEARED[] = {"BUILDKITE_TEST_ENGINE_BASE_URL",
                                      "BUILDKITE_TEST_ENGINE_TEST_CMD",
                                      "BUILDKITE_TEST_ENGINE_TAG_FILTERS",
                                      "BUILDKITE_TEST_ENGINE_RETRY_CMD",
                                      "BUILDKITE_TEST_ENGINE_TEST_FILE_PATTERN",
                                      "BUILDKITE_TEST_ENGINE_TEST_FILE_EXCLUDE_PATTERN",
                                      "BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN",
                                      "BUILDKITE_PLUGIN_CONFIGURATION",
                                      "BUILDKITE_TEST_ENGINE_MAX_PARALLELISM",
                                      "BUILDKITE_TEST_ENGINE_TARGET_TIME",
                                      NULL};

static int setup(void **state)
{
    for (const char *const *c = CLEARED; *c; c++) unsetenv(*c);
    setenv("BUILDKITE_ORGANIZATION_SLUG", "my org", 1);
    setenv("BUILDKITE_TEST_ENGINE_SUITE_SLUG", "a/b", 1);
    config_t *cfg = xcalloc(1, sizeof *cfg);
    config_load(cfg);
    *state = cfg;
    return 0;
}

static int teardown(void **state)
{
    config_free(*state);
    free(*state);
    unsetenv("BUILDKITE_ORGANIZATION_SLUG");
    unsetenv("BUILDKITE_TEST_ENGINE_SUITE_SLUG");
    return 0;
}

/* A response as http_request leaves it. */
static http_response_t response(long status, const char *body)
{
    http_response_t r;
    http_response_init(&r);
    r.status = status;
    r.attempts = 1;
    buf_puts(&r.body, body);
    return r;
}

static void expect(http_response_t *r, bool cache_get, engine_api_outcome_t outcome,
                   const char *message)
{
    engine_api_answer_t a;
    engine_api_classify(r, cache_get, &a);
    assert_int_equal(a.outcome, outcome);
    if (message)
        assert_string_equal(a.message, message);
    else
        assert_null(a.message);
    engine_api_answer_free(&a);
    http_response_free(r);
}

static void answers_the_user_must_fix_are_fatal(void **state)
{
    (void)state;
    http_response_t r = response(401, "{\"message\":\"bad token\"}");
    expect(&r, false, ENGINE_API_FATAL,
           "Authentication Failed: bad token. Check BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN");
    r = response(403, "{\"message\":\"no scope\"}");
    expect(&r, false, ENGINE_API_FATAL,
           "Access Denied: no scope. The token needs read_suites, read_test_plan and "
           "write_test_plan");
    r = response(400, "{\"message\":\"parallelism must be > 0\"}");
    expect(&r, false, ENGINE_API_FATAL, "Invalid Request: parallelism must be > 0");
    r = response(0, "");
    r.transport_error = true;
    r.tls_error = true;
    err_set(&r.error, "SSL certificate problem: self-signed certificate");
    expect(&r, false, ENGINE_API_FATAL,
           "TLS verification failed: SSL certificate problem: self-signed certificate. The "
           "server's certificate is not trusted; if you use a private CA, point "
           "BUILDKITE_TEST_ENGINE_CA_BUNDLE at its PEM file");
}

static void answers_that_fall_back(void **state)
{
    (void)state;
    http_response_t r = response(404, "{\"message\":\"no suite\"}");
    expect(&r, false, ENGINE_API_FALLBACK,
           "Not Found: no suite. Check BUILDKITE_ORGANIZATION_SLUG and "
           "BUILDKITE_TEST_ENGINE_SUITE_SLUG are correct");
    r = response(422, "{\"message\":\"busy\"}");
    expect(&r, false, ENGINE_API_FALLBACK, "Unavailable: busy");
    r = response(418, "{\"message\":\"teapot\"}");
    expect(&r, false, ENGINE_API_FALLBACK, "Unexpected answer: HTTP 418: teapot");
    /* A body that is not JSON: a printable piece of it, control bytes blanked. */
    r = response(418, "<html>\n\x1b[31mno</html>");
    expect(&r, false, ENGINE_API_FALLBACK, "Unexpected answer: HTTP 418: <html>  [31mno</html>");
    r = response(418, "");
    expect(&r, false, ENGINE_API_FALLBACK, "Unexpected answer: HTTP 418: HTTP 418 with no message");
    r = response(503, "{}");
    r.gave_up = true;
    r.attempts = 4;
    err_set(&r.error, "HTTP 503");
    expect(&r, false, ENGINE_API_FALLBACK,
           "Timeout: Test Engine API did not give a usable answer within the retry budget (4 "
           "attempts, last error: HTTP 503)");
    /* Unreachable after the budget (not failing fast) is a timeout too. */
    r = response(0, "");
    r.transport_error = true;
    r.unreachable = true;
    r.gave_up = true;
    err_set(&r.error, "Connection refused");
    expect(&r, false, ENGINE_API_FALLBACK,
           "Timeout: Test Engine API did not give a usable answer within the retry budget (1 "
           "attempt, last error: Connection refused)");
}

/* The server's message is cut at 200 printable bytes. */
static void long_bodies_are_cut(void **state)
{
    (void)state;
    char body[1000];
    memset(body, 'x', sizeof body - 1);
    body[sizeof body - 1] = '\0';
    http_response_t r = response(418, body);
    engine_api_answer_t a;
    engine_api_classify(&r, false, &a);
    assert_int_equal(strlen(a.message), strlen("Unexpected answer: HTTP 418: ") + 200);
    engine_api_answer_free(&a);
    http_response_free(&r);
}

static void ok_and_cache_miss(void **state)
{
    (void)state;
    http_response_t r = response(200, "{\"tasks\":{}}");
    engine_api_answer_t a;
    engine_api_classify(&r, true, &a);
    assert_int_equal(a.outcome, ENGINE_API_OK);
    assert_string_equal(a.body, "{\"tasks\":{}}");
    engine_api_answer_free(&a);
    assert_null(a.body); /* freed and cleared */
    http_response_free(&r);
    r = response(404, "");
    expect(&r, true, ENGINE_API_CACHE_MISS, NULL);
}

static void prefixed_and_unprefixed(void **state)
{
    (void)state;
    const char *cases[][3] = {{"svc", "tests/a.py", "svc/tests/a.py"},
                              {"svc///", "tests/a.py", "svc/tests/a.py"},
                              {"./", "a.py", "./a.py"},
                              {"./", "./a.py", "./a.py"},
                              {"", "a.py", "a.py"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = engine_api_prefixed(cases[i][0], cases[i][1]);
        assert_string_equal(p, cases[i][2]);
        free(p);
    }
    char *none = engine_api_prefixed(NULL, "a.py");
    assert_string_equal(none, "a.py");
    free(none);
    assert_string_equal(engine_api_unprefixed("svc", "svc/tests/a.py"), "tests/a.py");
    assert_string_equal(engine_api_unprefixed("svc/", "svc//tests/a.py"), "tests/a.py");
    assert_string_equal(engine_api_unprefixed("svc", "svcx/a.py"), "svcx/a.py"); /* not a prefix */
    assert_string_equal(engine_api_unprefixed("", "a.py"), "a.py");
}

/* A file name that is not UTF-8 goes to Test Engine escaped and comes back
 * as the file it names; names that are UTF-8 (a '%' in them included) go as
 * they are, and an escaped-looking name that is a real file stays itself. */
static void names_that_are_not_utf8_survive_the_api(void **state)
{
    (void)state;
    char dir[64];
    char *old = scratch_enter(dir, sizeof dir, "tep-api-names");
    scratch_put(dir, "test_latin1_\xe9.py", "");
    scratch_put(dir, "test_50%E9.py", ""); /* a real file that looks escaped */
    buf_t b = BUF_INIT;
    engine_api_path_sent("test_latin1_\xe9.py::test_x", &b);
    assert_string_equal(b.data, "test_latin1_%E9.py::test_x");
    buf_reset(&b);
    engine_api_path_sent("test_caf\xc3\xa9_50%.py", &b); /* UTF-8: as it is */
    assert_string_equal(b.data, "test_caf\xc3\xa9_50%.py");
    buf_free(&b);
    char *back = engine_api_path_received("test_latin1_%E9.py::test_x");
    assert_string_equal(back, "test_latin1_\xe9.py::test_x");
    free(back);
    back = engine_api_path_received("test_50%E9.py"); /* exists as it is */
    assert_string_equal(back, "test_50%E9.py");
    free(back);
    back = engine_api_path_received("gone_%E9.py"); /* neither exists: as it came */
    assert_string_equal(back, "gone_%E9.py");
    free(back);
    scratch_leave(dir, old);
}

static void urls_escape_the_slugs(void **state)
{
    config_t *cfg = *state;
    free(cfg->base_url);
    cfg->base_url = xstrdup("https://te.example//");
    char *url = engine_api_url(cfg, "/test_plan");
    assert_string_equal(
        url, "https://te.example/v2/analytics/organizations/my%20org/suites/a%2Fb/test_plan");
    free(url);
}

static const cJSON *member(const cJSON *o, const char *name)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!m) fail_msg("no %s", name);
    return m;
}

/* Every key bktec sends is there; the user's settings only when the user
 * set them (a default is sent as ""). */
static void env_payload_has_every_key(void **state)
{
    (void)state;
    setenv("BUILDKITE_TEST_ENGINE_TEST_CMD", "pytest -x {{testExamples}}", 1);
    setenv("BUILDKITE_PARALLEL_JOB_COUNT", "4", 1);
    setenv("BUILDKITE_PARALLEL_JOB", "3", 1);
    config_t cfg;
    config_load(&cfg);
    cJSON *e = engine_api_env_payload(&cfg);
    static const char *const keys[] = {"BUILDKITE_BUILD_ID",
                                       "BUILDKITE_TEST_ENGINE_DEBUG_ENABLED",
                                       "BUILDKITE_TEST_ENGINE_IDENTIFIER",
                                       "BUILDKITE_JOB_ID",
                                       "BUILDKITE_RETRY_COUNT",
                                       "BUILDKITE_TEST_ENGINE_RETRY_COUNT",
                                       "BUILDKITE_PARALLEL_JOB",
                                       "BUILDKITE_ORGANIZATION_SLUG",
                                       "BUILDKITE_PARALLEL_JOB_COUNT",
                                       "BUILDKITE_TEST_ENGINE_RETRY_CMD",
                                       "BUILDKITE_TEST_ENGINE_SPLIT_BY_EXAMPLE",
                                       "BUILDKITE_STEP_ID",
                                       "BUILDKITE_TEST_ENGINE_SUITE_SLUG",
                                       "BUILDKITE_TEST_ENGINE_TAG_FILTERS",
                                       "BUILDKITE_TEST_ENGINE_TEST_CMD",
                                       "BUILDKITE_TEST_ENGINE_TEST_FILE_EXCLUDE_PATTERN",
                                       "BUILDKITE_TEST_ENGINE_TEST_FILE_PATTERN",
                                       "BUILDKITE_TEST_ENGINE_TEST_RUNNER"};
    assert_int_equal(cJSON_GetArraySize(e), sizeof keys / sizeof keys[0]);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) member(e, keys[i]);
    assert_string_equal(member(e, "BUILDKITE_TEST_ENGINE_TEST_CMD")->valuestring,
                        "pytest -x {{testExamples}}");
    assert_string_equal(member(e, "BUILDKITE_TEST_ENGINE_TEST_FILE_PATTERN")->valuestring, "");
    assert_string_equal(member(e, "BUILDKITE_TEST_ENGINE_TAG_FILTERS")->valuestring, "");
    assert_string_equal(member(e, "BUILDKITE_TEST_ENGINE_TEST_RUNNER")->valuestring, "pytest");
    assert_string_equal(member(e, "BUILDKITE_ORGANIZATION_SLUG")->valuestring, "my org");
    assert_true(cJSON_IsNumber(member(e, "BUILDKITE_PARALLEL_JOB_COUNT")));
    assert_int_equal(member(e, "BUILDKITE_PARALLEL_JOB")->valueint, 3);
    assert_true(cJSON_IsBool(member(e, "BUILDKITE_TEST_ENGINE_SPLIT_BY_EXAMPLE")));
    assert_true(cJSON_IsBool(member(e, "BUILDKITE_TEST_ENGINE_DEBUG_ENABLED")));
    cJSON_Delete(e);
    config_free(&cfg);
    unsetenv("BUILDKITE_PARALLEL_JOB_COUNT");
    unsetenv("BUILDKITE_PARALLEL_JOB");
}

static void dynamic_fields_only_when_dynamic(void **state)
{
    config_t *cfg = *state;
    cfg->max_parallelism = 12;
    free(cfg->target_time);
    cfg->target_time = xstrdup("4m30s");
    cJSON *body = cJSON_CreateObject();
    engine_api_add_dynamic_fields(body, cfg); /* a plain plan never sends them */
    assert_int_equal(cJSON_GetArraySize(body), 0);
    cfg->dynamic = true;
    engine_api_add_dynamic_fields(body, cfg);
    assert_int_equal(member(body, "max_parallelism")->valueint, 12);
    assert_int_equal(member(body, "target_time")->valueint, 270);
    cJSON_Delete(body);
    body = cJSON_CreateObject();
    cfg->max_parallelism = 0;
    free(cfg->target_time);
    cfg->target_time = xstrdup("");
    engine_api_add_dynamic_fields(body, cfg); /* zero: left out */
    assert_int_equal(cJSON_GetArraySize(body), 0);
    cJSON_Delete(body);
}

static void client_fails_fast_and_warns(void **state)
{
    config_t *cfg = *state;
    free(cfg->api_token);
    cfg->api_token = xstrdup("secret-token");
    http_client_t c;
    engine_api_client_init(&c, cfg);
    assert_string_equal(c.label, "Test Engine API");
    assert_string_equal(c.auth_header, "Authorization: Bearer secret-token");
    assert_int_equal(c.unreachable_attempts, 1);
    assert_true(c.deadline > 0);
    assert_false(c.low_speed);
    assert_non_null(c.warn); /* the phase prints each failed attempt */
    assert_int_equal(c.timeout_s, cfg->api_timeout);
    http_client_free(&c);
    assert_null(c.auth_header);
}

/* Nothing listens on loopback port 1: one attempt, the transport's reason. */
static void metadata_post_failure_says_why(void **state)
{
    config_t *cfg = *state;
    free(cfg->base_url);
    cfg->base_url = xstrdup("https://127.0.0.1:1");
    http_global_init();
    http_client_t c;
    engine_api_client_init(&c, cfg);
    char *err = NULL;
    assert_false(engine_api_post_metadata(&c, cfg, "{}", &err));
    assert_non_null(strstr(err, "127.0.0.1"));
    free(err);
    http_client_free(&c);
    curl_global_cleanup();
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(answers_the_user_must_fix_are_fatal),
        cmocka_unit_test(answers_that_fall_back),
        cmocka_unit_test(long_bodies_are_cut),
        cmocka_unit_test(ok_and_cache_miss),
        cmocka_unit_test(prefixed_and_unprefixed),
        cmocka_unit_test(names_that_are_not_utf8_survive_the_api),
        T(urls_escape_the_slugs),
        T(env_payload_has_every_key),
        T(dynamic_fields_only_when_dynamic),
        T(client_fails_fast_and_warns),
        T(metadata_post_failure_says_why),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
