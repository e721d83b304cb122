/* config_check: config_validate collects one exact line per bad setting for
 * the phase at hand, and the two reports print them escaped, never raw. */
#include "unit.h"
#include "config/config.h"
#include <stdio.h>
#include <unistd.h>

extern char **environ;

/* Every BUILDKITE_ variable of the caller's environment would leak into the
 * loaded config: start each test from none. */
static int clean_env(void **state)
{
    (void)state;
    for (bool again = true; again;) {
        again = false;
        for (char **e = environ; *e; e++) {
            if (strncmp(*e, "BUILDKITE_", 10) != 0) continue;
            char name[256];
            size_t n = strcspn(*e, "=");
            assert_true(n < sizeof name);
            memcpy(name, *e, n);
            name[n] = '\0';
            unsetenv(name); /* environ changed: scan again from the start */
            again = true;
            break;
        }
    }
    return 0;
}

/* Loads, validates for phase, and checks the problems are exactly want. */
static void problems_are(phase_t phase, size_t n, const char *const *want)
{
    config_t c;
    config_load(&c);
    assert_int_equal(config_validate(&c, phase), n == 0);
    for (size_t i = 0; i < c.problems.len && i < n; i++)
        assert_string_equal(c.problems.items[i], want[i]);
    assert_int_equal(c.problems.len, n);
    config_free(&c);
}

static void upload_url_must_be_https_for_report_only(void **state)
{
    (void)state;
    setenv("BUILDKITE_TEST_ENGINE_UPLOAD_BASE_URL", "http://127.0.0.1:1", 1);
    const char *want[] = {
        "BUILDKITE_TEST_ENGINE_UPLOAD_BASE_URL: 'http://127.0.0.1:1' is not an https:// URL"};
    problems_are(PHASE_REPORT, 1, want);
    problems_are(PHASE_RUN, 0, NULL);
    setenv("BUILDKITE_TEST_ENGINE_UPLOAD_BASE_URL", "https://", 1); /* no host */
    problems_are(PHASE_REPORT, 1,
                 (const char *[]){
                     "BUILDKITE_TEST_ENGINE_UPLOAD_BASE_URL: 'https://' is not an https:// URL"});
}

static void online_plan_needs_what_the_api_needs(void **state)
{
    (void)state;
    setenv("BUILDKITE_TEST_ENGINE_SUITE_SLUG", "shop", 1); /* not offline any more */
    setenv("BUILDKITE_TEST_ENGINE_BASE_URL", "ftp://x", 1);
    const char *want[] = {
        "BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN: must not be blank; set it from your secrets "
        "manager, or leave BUILDKITE_TEST_ENGINE_OIDC on (the default) inside a Buildkite job",
        "BUILDKITE_ORGANIZATION_SLUG: must not be blank; Buildkite sets it, outside Buildkite set "
        "it yourself",
        "BUILDKITE_BUILD_ID and BUILDKITE_STEP_ID: both are needed for the plan identifier; or "
        "set BUILDKITE_TEST_ENGINE_PLAN_IDENTIFIER",
        "BUILDKITE_TEST_ENGINE_BASE_URL: 'ftp://x' is not an https:// URL",
    };
    problems_are(PHASE_PLAN, 4, want);
    problems_are(PHASE_RUN, 0, NULL); /* the run phase reads the saved plan */
}

static void tags_and_tag_filters_have_one_shape(void **state)
{
    (void)state;
    setenv("BUILDKITE_TEST_ENGINE_TAGS", "team=pay,lonely,=x,k=v=w", 1);
    setenv("BUILDKITE_TEST_ENGINE_TAG_FILTERS", "team", 1);
    const char *want[] = {
        "BUILDKITE_TEST_ENGINE_TAGS: 'lonely' must use key=value format, e.g. team=payments",
        "BUILDKITE_TEST_ENGINE_TAGS: '=x' has an empty key",
        /* parenthesised: one element split over two lines (clang -Wstring-concatenation) */
        ("BUILDKITE_TEST_ENGINE_TAG_FILTERS: 'team' is not key:value; give one execution tag, e.g. "
         "team:frontend"),
    };
    problems_are(PHASE_RUN, 3, want);
    unsetenv("BUILDKITE_TEST_ENGINE_TAGS");
    setenv("BUILDKITE_TEST_ENGINE_TAG_FILTERS", "team:a:b", 1); /* split at the first ':' */
    problems_are(PHASE_RUN, 0, NULL);
    const char *bad[] = {":x", "x:"};
    for (size_t i = 0; i < 2; i++) {
        setenv("BUILDKITE_TEST_ENGINE_TAG_FILTERS", bad[i], 1);
        config_t c;
        config_load(&c);
        assert_false(config_validate(&c, PHASE_RUN));
        assert_int_equal(c.problems.len, 1);
        config_free(&c);
    }
}

static void lifetimes_and_files_are_checked(void **state)
{
    (void)state;
    setenv("BUILDKITE_TEST_ENGINE_OIDC_LIFETIME", "24h", 1);
    problems_are(PHASE_RUN, 0, NULL);
    setenv("BUILDKITE_TEST_ENGINE_OIDC_LIFETIME", "24h1s", 1);
    setenv("BUILDKITE_TEST_ENGINE_CA_BUNDLE", "/nonexistent/ca.pem", 1);
    setenv("BUILDKITE_TEST_ENGINE_FILES", "/nonexistent/files.txt", 1);
    const char *want[] = {
        "BUILDKITE_TEST_ENGINE_CA_BUNDLE: '/nonexistent/ca.pem' does not exist; give the path of "
        "a PEM file",
        "BUILDKITE_TEST_ENGINE_FILES: '/nonexistent/files.txt' does not exist; give a file "
        "listing one test file per line",
        "BUILDKITE_TEST_ENGINE_OIDC_LIFETIME: '24h1s' is not a lifetime up to 24h; use seconds or "
        "a duration like 2h, 30m, 300s",
    };
    problems_are(PHASE_RUN, 3, want);
}

static void whole_numbers_may_carry_white_space_only_around(void **state)
{
    (void)state;
    setenv("BUILDKITE_TEST_ENGINE_RETRY_COUNT", " \t3\n", 1);
    config_t c;
    config_load(&c);
    assert_int_equal(c.problems.len, 0);
    assert_int_equal(c.retry_count, 3);
    config_free(&c);
    setenv("BUILDKITE_TEST_ENGINE_RETRY_COUNT", "3 4", 1);
    problems_are(PHASE_RUN, 1,
                 (const char *[]){"BUILDKITE_TEST_ENGINE_RETRY_COUNT: '3 4' is not a whole number; "
                                  "use a number from 0 to 20"});
    setenv("BUILDKITE_TEST_ENGINE_RETRY_COUNT", "21", 1);
    problems_are(PHASE_RUN, 1,
                 (const char *[]){"BUILDKITE_TEST_ENGINE_RETRY_COUNT: 21 is out of range; use a "
                                  "number from 0 to 20"});
    setenv("BUILDKITE_TEST_ENGINE_RETRY_COUNT", "99999999999999999999", 1); /* past long */
    config_load(&c);
    assert_int_equal(c.problems.len, 1);
    assert_non_null(strstr(c.problems.items[0], "is not a whole number"));
    config_free(&c);
}

/* What fn printed to a temporary stream. */
static char *printed(void (*fn)(const config_t *, FILE *), const config_t *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    fn(c, f);
    fclose(f);
    return text;
}

static void reports_escape_what_they_quote(void **state)
{
    (void)state;
    setenv("BUILDKITE_TEST_ENGINE_TAGS", "a\x1b[2J\nb", 1);
    setenv("BUILDKITE_TEST_ENGINE_RETRY_COUNTS", "1", 1); /* misspelt */
    config_t c;
    config_load(&c);
    assert_false(config_validate(&c, PHASE_RUN));
    char *out = printed(config_print_problems, &c);
    assert_string_equal(out, "test-engine-pytest: invalid configuration (1 problem):\n"
                             "  BUILDKITE_TEST_ENGINE_TAGS: 'a\\x1b[2J\\nb' must use key=value "
                             "format, e.g. team=payments\n");
    free(out);
    out = printed(config_print_warnings, &c);
    assert_string_equal(out, "test-engine-pytest: warning: BUILDKITE_TEST_ENGINE_RETRY_COUNTS is "
                             "not an option; did you mean BUILDKITE_TEST_ENGINE_RETRY_COUNT?\n");
    free(out);
    config_free(&c);
    unsetenv("BUILDKITE_TEST_ENGINE_RETRY_COUNTS");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(upload_url_must_be_https_for_report_only, clean_env),
        cmocka_unit_test_setup(online_plan_needs_what_the_api_needs, clean_env),
        cmocka_unit_test_setup(tags_and_tag_filters_have_one_shape, clean_env),
        cmocka_unit_test_setup(lifetimes_and_files_are_checked, clean_env),
        cmocka_unit_test_setup(whole_numbers_may_carry_white_space_only_around, clean_env),
        cmocka_unit_test_setup(reports_escape_what_they_quote, clean_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
