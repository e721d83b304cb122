/* oidc: minting blank tokens with a fake `buildkite-agent oidc request-token`
 * (tests/unit/fake_agent.h): the audience and lifetime it is asked for, the
 * token read from stdout only, the note the phase shows, and every way it
 * declines or fails. */
#include "unit.h"
#include "config/config.h"
#include "fake_agent.h"
#include "net/oidc.h"

/* Prints $D/token (as written) on stdout and a log line on stderr; exits
 * with $D/status when there is one. */
static const char *const AGENT_SCRIPT =
    "printf '%s\\n' \"$*\" >> \"$D/calls\"\n"
    "echo '2026-01-01 00:00:00 INFO   Requesting OIDC token' >&2\n"
    "if [ -f \"$D/status\" ]; then echo 'buildkite-agent: fatal: not allowed' >&2; "
    "exit \"$(cat \"$D/status\")\"; fi\n"
    "cat \"$D/token\"\n";

#define API_VAR    "BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN"
#define UPLOAD_VAR "BUILDKITE_ANALYTICS_TOKEN"

typedef agent_fixture_t fixture_t;

static void put(fixture_t *f, const char *name, const char *text)
{
    fake_agent_put(&f->agent, name, text);
}

static int setup(void **state)
{
    const char *clear[] = {API_VAR, UPLOAD_VAR, "BUILDKITE_TEST_ENGINE_OIDC",
                           "BUILDKITE_TEST_ENGINE_BASE_URL", NULL};
    for (const char **c = clear; *c; c++) unsetenv(*c);
    setenv("BUILDKITE_ORGANIZATION_SLUG", "my org", 1);
    setenv("BUILDKITE_TEST_ENGINE_SUITE_SLUG", "suite", 1);
    setenv("BUILDKITE_TEST_ENGINE_OIDC_LIFETIME", "30m", 1);
    fixture_t *f = agent_fixture_new(AGENT_SCRIPT);
    put(f, "token", "  eyJ.token.sig  \n");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    agent_fixture_free(*state);
    unsetenv("BUILDKITE_ORGANIZATION_SLUG");
    unsetenv("BUILDKITE_TEST_ENGINE_SUITE_SLUG");
    unsetenv("BUILDKITE_TEST_ENGINE_OIDC_LIFETIME");
    return 0;
}

static void mints_a_blank_api_token(void **state)
{
    fixture_t *f = *state;
    char *note = NULL;
    char *err = NULL;
    assert_true(oidc_fill_api_token(&f->cfg, &note, &err));
    assert_null(err);
    assert_string_equal(note, "Using an OIDC token from buildkite-agent for " API_VAR);
    assert_string_equal(f->cfg.api_token, "eyJ.token.sig"); /* trimmed */
    char *calls = fake_agent_file(&f->agent, "calls");
    assert_string_equal(calls, "oidc request-token --audience "
                               "https://api.buildkite.com/v2/analytics/organizations/my%20org/"
                               "suites/suite --lifetime 1800\n");
    free(calls);
    free(note);
}

static void mints_a_blank_upload_token(void **state)
{
    fixture_t *f = *state;
    char *note = NULL;
    char *err = NULL;
    assert_true(oidc_fill_upload_token(&f->cfg, &note, &err));
    assert_string_equal(note, "Using an OIDC token from buildkite-agent for " UPLOAD_VAR);
    assert_string_equal(f->cfg.upload_token, "eyJ.token.sig");
    assert_string_equal(f->cfg.api_token, ""); /* only the slot asked for */
    free(note);
}

/* A set token, OIDC off, or missing slugs: nothing minted, no agent run. */
static void declines_when_nothing_is_to_be_done(void **state)
{
    fixture_t *f = *state;
    char *note = (char *)"stale";
    char *err = NULL;
    free(f->cfg.upload_token);
    f->cfg.upload_token = xstrdup("from-secrets");
    assert_true(oidc_fill_upload_token(&f->cfg, &note, &err));
    assert_null(note);
    assert_string_equal(f->cfg.upload_token, "from-secrets");
    f->cfg.oidc = false;
    assert_true(oidc_fill_api_token(&f->cfg, &note, &err));
    assert_null(note);
    f->cfg.oidc = true;
    free(f->cfg.suite_slug);
    f->cfg.suite_slug = xstrdup("");
    assert_true(oidc_fill_api_token(&f->cfg, &note, &err));
    assert_null(note);
    assert_string_equal(f->cfg.api_token, "");
    assert_null(err);
    char *calls = fake_agent_file(&f->agent, "calls");
    assert_string_equal(calls, "");
    free(calls);
}

static void agent_failure_names_the_variable_and_the_reason(void **state)
{
    fixture_t *f = *state;
    put(f, "status", "1");
    char *note = NULL;
    char *err = NULL;
    assert_false(oidc_fill_api_token(&f->cfg, &note, &err));
    assert_null(note);
    assert_string_equal(err,
                        API_VAR " is blank and minting an OIDC token failed (buildkite-agent oidc "
                                "request-token exited 1: buildkite-agent: fatal: not allowed); set "
                                "the variable, or run inside a Buildkite job whose agent may "
                                "request OIDC tokens (BUILDKITE_TEST_ENGINE_OIDC=false turns this "
                                "off)");
    assert_string_equal(f->cfg.api_token, "");
    free(err);
}

/* Nothing, or more than one line, on stdout is not a token. */
static void refuses_what_is_not_one_token(void **state)
{
    fixture_t *f = *state;
    const char *bad[] = {"", " \n\t\n", "first\nsecond\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put(f, "token", bad[i]);
        char *note = NULL;
        char *err = NULL;
        assert_false(oidc_fill_upload_token(&f->cfg, &note, &err));
        assert_non_null(strstr(err, UPLOAD_VAR " is blank and minting an OIDC token failed "
                                               "(buildkite-agent printed no single-line token)"));
        assert_string_equal(f->cfg.upload_token, "");
        free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_test_fixture(mints_a_blank_api_token),
        unit_test_fixture(mints_a_blank_upload_token),
        unit_test_fixture(declines_when_nothing_is_to_be_done),
        unit_test_fixture(agent_failure_names_the_variable_and_the_reason),
        unit_test_fixture(refuses_what_is_not_one_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
