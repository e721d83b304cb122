/* options_file: the plan phase saves the plugin options it saw, the command
 * phase fills from them only what its own environment left unset; secrets
 * never reach the file; another version is refused and applies nothing. */
#include "unit.h"
#include "base/buf.h"
#include "config/config.h"
#include "base/fs.h"
#include "state/options_file.h"
#include "scratch.h"
#include <stdio.h>
#include <unistd.h>

static char dir[64];
static char *options_path;

static void clear_env(void)
{
    const char *names[] = {"BUILDKITE_TEST_ENGINE_SUITE_SLUG", "BUILDKITE_TEST_ENGINE_RETRY_COUNT",
                           "BUILDKITE_PLUGIN_CONFIGURATION", "BUILDKITE_TEST_ENGINE_TEST_CMD",
                           "BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unsetenv(names[i]);
}

static int make_dir(void **state)
{
    (void)state;
    clear_env();
    scratch_dir(dir, sizeof dir, "test_options_file");
    setenv("BUILDKITE_TEST_ENGINE_STATE_DIR", dir, 1);
    options_path = fs_join(dir, "options.json");
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    unsetenv("BUILDKITE_TEST_ENGINE_STATE_DIR");
    scratch_dir_remove(dir);
    free(options_path);
    return 0;
}

static int fresh_env(void **state)
{
    (void)state;
    clear_env();
    unlink(options_path);
    return 0;
}

static void write_options_text(const char *text)
{
    assert_true(fs_write_file(options_path, text, strlen(text)));
}

static void plan_phase_options_reach_the_command_phase(void **state)
{
    (void)state;
    setenv("BUILDKITE_PLUGIN_CONFIGURATION",
           "{\"suite-slug\":\"plug\",\"retry-count\":2,\"test-cmd\":\"pytest -x\"}", 1);
    setenv("BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN", "secret-token-value", 1);
    config_t plan;
    config_load(&plan);
    char *err = NULL;
    assert_true(options_file_write(&plan, &err));
    assert_null(err);
    config_free(&plan);
    char *text = fs_read_file(options_path, NULL);
    char *want = xasprintf("{\"version\":%d,\"options\":{", OPTIONS_FILE_VERSION);
    assert_true(strncmp(text, want, strlen(want)) == 0);
    assert_non_null(strstr(text, "\"BUILDKITE_TEST_ENGINE_SUITE_SLUG\":\"plug\""));
    assert_null(strstr(text, "secret-token-value")); /* a secret is not an option */
    free(want);
    free(text);
    /* The command phase: no plugin JSON, one option of its own. */
    clear_env();
    setenv("BUILDKITE_TEST_ENGINE_RETRY_COUNT", "5", 1);
    config_t run;
    config_load(&run);
    assert_string_equal(run.suite_slug, "");
    assert_true(options_file_apply(&run, &err));
    assert_null(err);
    assert_string_equal(run.suite_slug, "plug");
    assert_string_equal(run.test_cmd, "pytest -x");
    assert_int_equal(run.retry_count, 5); /* its own environment wins */
    assert_string_equal(run.state_dir, dir);
    config_free(&run);
}

static void no_options_file_changes_nothing(void **state)
{
    (void)state;
    config_t c;
    config_load(&c);
    long retries = c.retry_count;
    char *err = NULL;
    assert_true(options_file_apply(&c, &err));
    assert_null(err);
    assert_string_equal(c.suite_slug, "");
    assert_int_equal(c.retry_count, retries);
    config_free(&c);
}

static void another_version_applies_nothing(void **state)
{
    (void)state;
    char *want = xasprintf("%s was written by another version of test-engine-pytest; run the plan "
                           "phase again",
                           options_path);
    const char *texts[] = {
        "{\"version\": 1, \"options\": {\"BUILDKITE_TEST_ENGINE_SUITE_SLUG\": \"old\"}}",
        "{\"version\": 3, \"options\": {\"BUILDKITE_TEST_ENGINE_SUITE_SLUG\": \"old\"}}",
        "{\"options\": {\"BUILDKITE_TEST_ENGINE_SUITE_SLUG\": \"old\"}}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        write_options_text(texts[i]);
        config_t c;
        config_load(&c);
        char *err = NULL;
        assert_false(options_file_apply(&c, &err));
        assert_non_null(err);
        assert_string_equal(err, want);
        assert_string_equal(c.suite_slug, "");
        free(err);
        config_free(&c);
    }
    free(want);
    write_options_text("not json");
    config_t c;
    config_load(&c);
    char *err = NULL;
    assert_false(options_file_apply(&c, &err));
    assert_non_null(strstr(err, "options.json is not valid JSON; run the earlier phase again"));
    free(err);
    config_free(&c);
}

static void writer_names_the_file_it_cannot_write(void **state)
{
    (void)state;
    config_t c;
    config_load(&c);
    free(c.state_dir);
    c.state_dir = xstrdup("/nonexistent-dir/state");
    char *err = NULL;
    assert_false(options_file_write(&c, &err));
    assert_non_null(err);
    assert_string_equal(err, "cannot write /nonexistent-dir/state/options.json (No such file or "
                             "directory)");
    free(err);
    config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(plan_phase_options_reach_the_command_phase, fresh_env),
        cmocka_unit_test_setup(no_options_file_changes_nothing, fresh_env),
        cmocka_unit_test_setup(another_version_applies_nothing, fresh_env),
        cmocka_unit_test_setup(writer_names_the_file_it_cannot_write, fresh_env),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
