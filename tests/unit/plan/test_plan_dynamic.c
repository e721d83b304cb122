/* plan_dynamic without the network: the local estimate and how it explains
 * itself, and the whole `plan --json` / `--pipeline-upload` path run offline
 * in a temp project, with a fake buildkite-agent (tests/unit/fake_agent.h)
 * for the upload. */
#include "unit.h"
#include "config/config.h"
#include "fake_agent.h"
#include "plan/plan_dynamic.h"
#include <fcntl.h>

#define MAX_VAR  "BUILDKITE_TEST_ENGINE_MAX_PARALLELISM"
#define JOBS_VAR "BUILDKITE_PARALLEL_JOB_COUNT"

static void expect_estimate(long max, long fallback, long target, double total, size_t entries,
                            long want, const char *how)
{
    char *got_how = NULL;
    assert_int_equal(plan_dynamic_estimate(max, fallback, target, total, entries, &got_how), want);
    assert_string_equal(got_how, how);
    free(got_how);
}

static void local_estimate_and_why(void **state)
{
    (void)state;
    expect_estimate(8, 2, 0, 500, 10, 8, "no target time: " MAX_VAR ", 8");
    expect_estimate(0, 2, 0, 500, 10, 2, "no target time: " JOBS_VAR ", 2");
    expect_estimate(8, 2, 60, -1, 10, 8,
                    "no local durations to estimate from (set "
                    "BUILDKITE_TEST_ENGINE_DURATIONS_FILE): " MAX_VAR ", 8");
    expect_estimate(20, 2, 60, 600, 50, 10, "ceil(600.0 s of tests / target 60 s) = 10 jobs");
    expect_estimate(20, 2, 60, 601, 50, 11, "ceil(601.0 s of tests / target 60 s) = 11 jobs");
    expect_estimate(8, 2, 60, 601, 50, 8,
                    "ceil(601.0 s of tests / target 60 s) = 11 jobs, capped at " MAX_VAR " 8");
    expect_estimate(20, 2, 60, 601, 5, 5,
                    "ceil(601.0 s of tests / target 60 s) = 11 jobs, capped at the 5 entries to "
                    "run");
    expect_estimate(20, 2, 60, 0, 5, 1, "ceil(0.0 s of tests / target 60 s) = 0 jobs"); /* >= 1 */
    expect_estimate(20, 2, 60, 30, 5, 1, "ceil(30.0 s of tests / target 60 s) = 1 job");
}

static void expect_refused(const char *body, const char *why)
{
    long n = -1;
    char *ident = NULL;
    char *err = NULL;
    assert_false(plan_dynamic_read_answer(body, &n, &ident, &err));
    assert_string_equal(err, why);
    assert_int_equal(n, -1);
    assert_null(ident);
    free(err);
}

static void server_answers_read_and_checked(void **state)
{
    (void)state;
    long n = 0;
    char *ident = NULL;
    char *err = NULL;
    assert_true(plan_dynamic_read_answer(
        "{\"parallelism\":4,\"identifier\":\"b/s\",\"tasks\":{\"0\":{}}}", &n, &ident, &err));
    assert_int_equal(n, 4);
    assert_string_equal(ident, "b/s");
    free(ident);
    assert_true(
        plan_dynamic_read_answer("{\"parallelism\":1000,\"tasks\":{\"0\":{}}}", &n, &ident, &err));
    assert_int_equal(n, 1000);
    assert_null(ident); /* none named: the caller uses its own */
    assert_null(err);
    const char *not_object = "Invalid Plan: the plan API answered with something that is not a "
                             "JSON object";
    const char *no_tasks = "Error Plan: the Test Engine API answered with a plan that has no tasks";
    const char *bad_count = "Invalid Plan: the plan's parallelism is not a whole number from 1 to "
                            "1000";
    expect_refused("<html>", not_object);
    expect_refused("[1]", not_object);
    expect_refused("{\"parallelism\":2}", no_tasks);
    expect_refused("{\"parallelism\":2,\"tasks\":{}}", no_tasks);
    expect_refused("{\"parallelism\":0,\"tasks\":{\"0\":{}}}", bad_count);
    expect_refused("{\"parallelism\":1001,\"tasks\":{\"0\":{}}}", bad_count);
    expect_refused("{\"parallelism\":2.5,\"tasks\":{\"0\":{}}}", bad_count);
    expect_refused("{\"parallelism\":\"3\",\"tasks\":{\"0\":{}}}", bad_count);
}

typedef struct {
    fake_agent_t agent; /* its dir is also the project */
    char *old_cwd;
    config_t cfg;
} fixture_t;

/* Records its argv, the two variables and its stdin; exits with $D/status. */
static const char *const AGENT_SCRIPT =
    "echo \"$*\" > \"$D/argv\"\n"
    "env | grep '^BUILDKITE_TEST_ENGINE_\\(PARALLELISM\\|PLAN_IDENTIFIER\\)=' | sort > \"$D/env\"\n"
    "cat > \"$D/stdin\"\n"
    "[ -f \"$D/status\" ] && exit \"$(cat \"$D/status\")\"\n"
    "exit 0\n";

static void put(const fixture_t *f, const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", f->agent.dir, name);
    assert_true(fs_write_file(path, text, strlen(text)));
    free(path);
}

static int setup(void **state)
{
    fixture_t *f = xcalloc(1, sizeof *f);
    const char *clear[] = {"BUILDKITE_TEST_ENGINE_SUITE_SLUG",
                           "BUILDKITE_ORGANIZATION_SLUG",
                           "BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN",
                           "BUILDKITE_PLUGIN_CONFIGURATION",
                           "BUILDKITE_TEST_ENGINE_TARGET_TIME",
                           "BUILDKITE_TEST_ENGINE_AGENT_CMD",
                           "BUILDKITE_TEST_ENGINE_DURATIONS_FILE",
                           "BUILDKITE_TEST_ENGINE_TAG_FILTERS",
                           NULL};
    for (const char **c = clear; *c; c++) unsetenv(*c);
    setenv(MAX_VAR, "3", 1);
    setenv("BUILDKITE_TEST_ENGINE_TEST_CMD", "/usr/bin/python3 -m pytest {{testExamples}}", 1);
    /* A value left over from an earlier step must not reach the agent. */
    setenv("BUILDKITE_TEST_ENGINE_PARALLELISM", "99", 1);
    fake_agent_install(&f->agent, AGENT_SCRIPT);
    char *tests = xasprintf("%s/tests", f->agent.dir);
    assert_int_equal(mkdir(tests, 0755), 0);
    free(tests);
    put(f, "tests/test_a.py", "def test_a():\n    pass\n");
    put(f, "tests/test_b.py", "def test_b():\n    pass\n");
    put(f, "pipeline.yml", "steps: []\n");
    f->old_cwd = getcwd(NULL, 0);
    assert_int_equal(chdir(f->agent.dir), 0);
    config_load(&f->cfg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    config_free(&f->cfg);
    assert_int_equal(chdir(f->old_cwd), 0);
    free(f->old_cwd);
    fake_agent_remove(&f->agent);
    unsetenv(MAX_VAR);
    unsetenv("BUILDKITE_TEST_ENGINE_TEST_CMD");
    unsetenv("BUILDKITE_TEST_ENGINE_PARALLELISM");
    free(f);
    return 0;
}

/* Runs plan_dynamic with stdout and stderr in files of the fixture dir. */
static int run_captured(fixture_t *f, const char *template_path)
{
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(STDOUT_FILENO);
    int saved_err = dup(STDERR_FILENO);
    int out = open("out.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open("err.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    int status = plan_dynamic(&f->cfg, template_path);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, STDOUT_FILENO);
    dup2(saved_err, STDERR_FILENO);
    close(saved_out);
    close(saved_err);
    close(out);
    close(err);
    return status;
}

/* Offline: max parallelism, said so; stdout carries the document alone. */
static void json_offline_is_one_document_on_stdout(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(run_captured(f, NULL), 0);
    char *out = fake_agent_file(&f->agent, "out.txt");
    char *err = fake_agent_file(&f->agent, "err.txt");
    assert_string_equal(out, "{\"parallelism\":3,\"identifier\":\"local\",\"source\":\"local "
                             "estimate\",\"reason\":\"no Test Engine suite or token "
                             "configured; estimated locally: no target time: " MAX_VAR ", "
                             "3\",\"BUILDKITE_TEST_ENGINE_PLAN_IDENTIFIER\":\"local\","
                             "\"BUILDKITE_TEST_ENGINE_PARALLELISM\":\"3\"}\n");
    assert_non_null(strstr(err, "dynamic parallelism: 3 jobs (local estimate)"));
    free(out);
    free(err);
    char *argv = fake_agent_file(&f->agent, "argv");
    assert_string_equal(argv, ""); /* --json runs no agent */
    free(argv);
}

static void pipeline_upload_gets_both_variables(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(run_captured(f, "pipeline.yml"), 0);
    char *argv = fake_agent_file(&f->agent, "argv");
    char *env = fake_agent_file(&f->agent, "env");
    char *in = fake_agent_file(&f->agent, "stdin");
    assert_string_equal(argv, "pipeline upload pipeline.yml\n");
    assert_string_equal(env, "BUILDKITE_TEST_ENGINE_PARALLELISM=3\n"
                             "BUILDKITE_TEST_ENGINE_PLAN_IDENTIFIER=local\n");
    assert_string_equal(in, ""); /* never our stdin: a terminal would block the agent */
    free(argv);
    free(env);
    free(in);
}

static void failing_upload_passes_on_the_agent_status(void **state)
{
    fixture_t *f = *state;
    put(f, "status", "7");
    assert_int_equal(run_captured(f, "pipeline.yml"), 7);
    char *err = fake_agent_file(&f->agent, "err.txt");
    assert_non_null(
        strstr(err, "buildkite-agent pipeline upload exited 7; the test step was not uploaded"));
    free(err);
}

static void missing_agent_is_a_configuration_error(void **state)
{
    fixture_t *f = *state;
    free(f->cfg.agent_cmd);
    f->cfg.agent_cmd = xstrdup("/nonexistent/buildkite-agent");
    assert_int_equal(run_captured(f, "pipeline.yml"), (int)f->cfg.config_exit_status);
    char *err = fake_agent_file(&f->agent, "err.txt");
    assert_non_null(strstr(err, "; the test step was not uploaded"));
    free(err);
}

static void missing_template_is_a_configuration_error(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(run_captured(f, "nope.yml"), (int)f->cfg.config_exit_status);
    char *err = fake_agent_file(&f->agent, "err.txt");
    assert_non_null(strstr(err, "plan --pipeline-upload: 'nope.yml' does not exist; give the "
                                "pipeline template to upload"));
    free(err);
    char *argv = fake_agent_file(&f->agent, "argv");
    assert_string_equal(argv, "");
    free(argv);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(local_estimate_and_why),
        cmocka_unit_test(server_answers_read_and_checked),
        T(json_offline_is_one_document_on_stdout),
        T(pipeline_upload_gets_both_variables),
        T(failing_upload_passes_on_the_agent_status),
        T(missing_agent_is_a_configuration_error),
        T(missing_template_is_a_configuration_error),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
