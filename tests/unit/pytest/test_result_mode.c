/* result_mode: the result mode and the commands, decided before anything runs.
 * The command's Python is a fake `python3` on a temp PATH that answers the
 * probe as told (TEP_FAKE_PROBE) and notes its arguments, so every branch
 * is reached with a real child: options named in the command, a registered,
 * merely importable or missing collector, autoload off, -p, pytest missing,
 * a Python that answers nonsense, an unknown interpreter, shell syntax; and
 * the plan phase's question ahead, whose answer run reads from the state
 * folder instead of asking again. */
#include "unit.h"
#include "base/buf.h"
#include "config/config.h"
#include "base/fs.h"
#include "pytest/result_mode.h"
#include "fake_agent.h"
#include "pytest/interp_cache.h"
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static fake_bin_t bin;
static char args_file[96]; /* the fake python3 notes its last argument here */

static int setup(void **state)
{
    (void)state;
    fake_bin_open(&bin, "tep-run-mode");
    snprintf(args_file, sizeof args_file, "%s/args", bin.dir);
    /* notes its last argument: "collector" when asked about the collector */
    char *py = xasprintf("#!/bin/sh\nfor a; do last=$a; done\nprintf '%%s' \"$last\" > '%s'\n"
                         "printf '%%s\\n' \"$TEP_FAKE_PROBE\"\n",
                         args_file);
    fake_bin_script(&bin, "python3", py);
    free(py);
    fake_bin_script(&bin, "wrap", "#!/bin/sh\nexec \"$@\"\n");
    unsetenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD");
    unsetenv("PYTEST_PLUGINS");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_bin_close(&bin);
    return 0;
}

static config_t config_with(const char *test_cmd, const char *retry_cmd, const char *python)
{
    config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.test_cmd = (char *)test_cmd;
    cfg.retry_cmd = (char *)retry_cmd;
    cfg.python = (char *)python;
    return cfg;
}

/* Resolves with the fake Python answering `answer`; true when it resolved. */
static bool resolve(const char *test_cmd, const char *retry_cmd, const char *answer, run_setup_t *s,
                    char **err)
{
    setenv("TEP_FAKE_PROBE", answer, 1);
    unlink(args_file);
    config_t cfg = config_with(test_cmd, retry_cmd, "");
    *err = NULL;
    return result_mode_resolve(&cfg, s, err);
}

/* The last argument the fake Python was started with, or NULL if it was not. */
static char *probe_args(void)
{
    return fs_read_file(args_file, NULL);
}

static void option_in_the_command_decides(void **state)
{
    (void)state;
    run_setup_t s;
    char *err = NULL;
    assert_true(resolve("python3 -m pytest {{testExamples}} --json={{resultPath}}", "",
                        "tep-probe pytest=1 collector=0 registered=0", &s, &err));
    assert_int_equal(s.mode, MODE_JSON);
    assert_string_equal(s.why, "the test command names --json");
    assert_string_equal(s.test_cmd, "python3 -m pytest {{testExamples}} --json={{resultPath}}");
    assert_string_equal(s.retry_cmd, s.test_cmd);
    char *args = probe_args(); /* asked about pytest only, not the collector */
    assert_non_null(args);
    assert_string_not_equal(args, "collector");
    assert_non_null(strstr(args, "tep-probe")); /* the probe script itself */
    free(args);
    result_mode_free(&s);
    assert_true(resolve("python3 -m pytest --junitxml {{resultPath}}", "python3 -m pytest -x",
                        "tep-probe pytest=1 collector=1 registered=1", &s, &err));
    assert_int_equal(s.mode, MODE_JUNIT);
    assert_string_equal(s.why, "the test command names --junit-xml");
    assert_string_equal(s.test_cmd, "python3 -m pytest --junitxml {{resultPath}}");
    assert_string_equal(s.retry_cmd, "python3 -m pytest -x --junit-xml={{resultPath}}");
    result_mode_free(&s);
}

static void registered_collector_means_json(void **state)
{
    (void)state;
    run_setup_t s;
    char *err = NULL;
    assert_true(resolve("python3 -m pytest {{testExamples}}",
                        "python3 -m pytest -x {{testExamples}}",
                        "tep-probe pytest=1 collector=1 registered=1", &s, &err));
    assert_int_equal(s.mode, MODE_JSON);
    assert_string_equal(s.why,
                        "buildkite-test-collector is a registered pytest plugin for python3");
    assert_string_equal(s.test_cmd, "python3 -m pytest {{testExamples}} --json={{resultPath}}");
    assert_string_equal(s.retry_cmd, "python3 -m pytest -x {{testExamples}} --json={{resultPath}}");
    char *args = probe_args();
    assert_string_equal(args, "collector");
    free(args);
    result_mode_free(&s);
}

static void collector_not_usable_means_junit(void **state)
{
    (void)state;
    run_setup_t s;
    char *err = NULL;
    assert_true(
        resolve("python3 -m pytest", "", "tep-probe pytest=1 collector=1 registered=0", &s, &err));
    assert_int_equal(s.mode, MODE_JUNIT);
    assert_non_null(strstr(s.why, "buildkite-test-collector is importable by python3 but not "
                                  "registered as a pytest plugin"));
    assert_string_equal(s.test_cmd, "python3 -m pytest --junit-xml={{resultPath}}");
    result_mode_free(&s);
    assert_true(
        resolve("python3 -m pytest", "", "tep-probe pytest=1 collector=0 registered=0", &s, &err));
    assert_int_equal(s.mode, MODE_JUNIT);
    assert_string_equal(s.why, "buildkite-test-collector is not importable by python3");
    result_mode_free(&s);
}

static void autoload_and_explicit_plugin(void **state)
{
    (void)state;
    run_setup_t s;
    char *err = NULL;
    setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1", 1);
    assert_true(
        resolve("python3 -m pytest", "", "tep-probe pytest=1 collector=1 registered=1", &s, &err));
    assert_int_equal(s.mode, MODE_JUNIT);
    assert_non_null(strstr(s.why, "PYTEST_DISABLE_PLUGIN_AUTOLOAD keeps pytest from loading it"));
    result_mode_free(&s);
    assert_true(resolve("python3 -m pytest -p buildkite_test_collector.pytest_plugin", "",
                        "tep-probe pytest=1 collector=1 registered=1", &s, &err));
    assert_int_equal(s.mode, MODE_JSON);
    assert_string_equal(s.why, "buildkite-test-collector is loaded with -p for python3");
    result_mode_free(&s);
    unsetenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD");
}

static void pytest_missing_is_a_configuration_error(void **state)
{
    (void)state;
    run_setup_t s;
    char *err = NULL;
    assert_false(resolve("python3 -m pytest {{testExamples}}", "",
                         "tep-probe pytest=0 collector=0 registered=0", &s, &err));
    assert_string_equal(err,
                        "pytest is not installed for python3, the Python that "
                        "BUILDKITE_TEST_ENGINE_TEST_CMD ('python3 -m pytest {{testExamples}}') "
                        "runs (No module named pytest); install pytest for that Python or "
                        "point the test command at the Python that has it");
    free(err);
    result_mode_free(&s);
}

static void python_that_does_not_answer(void **state)
{
    (void)state;
    run_setup_t s;
    char *err = NULL;
    assert_true(resolve("python3 -m pytest", "", "no idea", &s, &err));
    assert_int_equal(s.mode, MODE_JUNIT);
    assert_string_equal(
        s.why, "could not ask python3 about buildkite-test-collector: it answered: no idea");
    result_mode_free(&s);
}

/* A wrapper script: unknown Python, unless BUILDKITE_TEST_ENGINE_PYTHON names
 * one; that one is asked, and its missing pytest is not held against the
 * command (the command does not say it runs that Python). */
static void unknown_interpreter(void **state)
{
    (void)state;
    run_setup_t s;
    char *err = NULL;
    assert_true(
        resolve("wrap pytest", "", "tep-probe pytest=1 collector=1 registered=1", &s, &err));
    assert_int_equal(s.mode, MODE_JUNIT);
    char *want =
        xasprintf("cannot tell which Python runs the test command ('%s/wrap' is not a "
                  "Python script (no python in its #! line)); set "
                  "BUILDKITE_TEST_ENGINE_PYTHON to look for buildkite-test-collector there",
                  bin.dir);
    assert_string_equal(s.why, want);
    free(want);
    char *args = probe_args();
    assert_null(args); /* nobody was asked */
    result_mode_free(&s);
    setenv("TEP_FAKE_PROBE", "tep-probe pytest=0 collector=1 registered=1", 1);
    config_t cfg = config_with("wrap pytest", "", "python3");
    assert_true(result_mode_resolve(&cfg, &s, &err));
    assert_int_equal(s.mode, MODE_JSON);
    result_mode_free(&s);
}

static void shell_syntax_refused(void **state)
{
    (void)state;
    run_setup_t s;
    char *err = NULL;
    assert_false(resolve("python3 -m pytest 2>/dev/null", "python3 -m pytest x;",
                         "tep-probe pytest=1 collector=1 registered=1", &s, &err));
    assert_non_null(strstr(err, "BUILDKITE_TEST_ENGINE_TEST_CMD: '2>/dev/null' needs a shell"));
    assert_non_null(strstr(err, "; BUILDKITE_TEST_ENGINE_RETRY_CMD: 'x;' needs a shell"));
    char *args = probe_args();
    assert_null(args); /* refused before any child ran */
    free(err);
    err = NULL;
    assert_false(resolve("python3 -m pytest 'open", "", "", &s, &err));
    assert_string_equal(err, "BUILDKITE_TEST_ENGINE_TEST_CMD: unterminated single quote");
    free(err);
    result_mode_free(&s);
}

/* A state folder as plan leaves it (0700, marked) in bin.dir; no user cache
 * (a fresh container). Returns the folder; HOME as it was goes to *home. */
static char *job_setup(const char *name, char **home)
{
    const char *h = getenv("HOME");
    *home = h ? xstrdup(h) : NULL;
    setenv("HOME", "/dev/null", 1);
    unsetenv("XDG_CACHE_HOME");
    char *dir = xasprintf("%s/%s", bin.dir, name); /* its own: a failed test leaves it */
    assert_int_equal(mkdir(dir, 0700), 0);
    char *marker = xasprintf("%s/" STATE_DIR_MARKER, dir);
    assert_true(fs_write_file(marker, "", 0));
    free(marker);
    return dir;
}

static void job_teardown(char *dir, char *home)
{
    char *copy = xasprintf("%s/" INTERP_CACHE_JOB_FILE, dir);
    char *marker = xasprintf("%s/" STATE_DIR_MARKER, dir);
    unlink(copy);
    unlink(marker);
    assert_int_equal(rmdir(dir), 0);
    if (home) setenv("HOME", home, 1);
    free(copy);
    free(marker);
    free(home);
    free(dir);
}

static void asked_ahead_by_plan_then_read_by_run(void **state)
{
    (void)state;
    char *home = NULL;
    char *dir = job_setup("state-ahead", &home);
    char *answer = xasprintf("tep-probe-path %s\ntep-probe pytest=1 collector=1 registered=1", dir);
    setenv("TEP_FAKE_PROBE", answer, 1);
    unlink(args_file);
    config_t cfg = config_with("python3 -m pytest {{testExamples}}", "", "");
    cfg.state_dir = dir;
    result_mode_probe_ahead(&cfg); /* plan */
    char *args = probe_args();
    assert_non_null(args);
    assert_string_equal(args, "collector"); /* the question run would ask */
    free(args);
    unlink(args_file);
    setenv("TEP_FAKE_PROBE", "tep-probe pytest=1 collector=0 registered=0", 1);
    run_setup_t s;
    char *err = NULL;
    assert_true(result_mode_resolve(&cfg, &s, &err)); /* run */
    assert_null(probe_args());                        /* nobody was asked: the plan's answer */
    assert_int_equal(s.mode, MODE_JSON);
    result_mode_free(&s);
    result_mode_probe_ahead(&cfg); /* a second plan finds it too */
    assert_null(probe_args());
    /* run's command names --junit-xml: another question, asked again */
    config_t other =
        config_with("python3 -m pytest {{testExamples}} --junit-xml={{resultPath}}", "", "");
    other.state_dir = dir;
    assert_true(result_mode_resolve(&other, &s, &err));
    args = probe_args();
    assert_non_null(args);
    free(args);
    result_mode_free(&s);
    free(answer);
    job_teardown(dir, home);
}

static void plan_asks_nothing_it_cannot_keep_or_run(void **state)
{
    (void)state;
    char *home = NULL;
    char *dir = job_setup("state-nothing", &home);
    char *answer = xasprintf("tep-probe-path %s\ntep-probe pytest=1 collector=1 registered=1", dir);
    setenv("TEP_FAKE_PROBE", answer, 1);
    unlink(args_file);
    /* a venv the step command makes or activates: not there for plan */
    config_t cfg = config_with("venv/bin/python -m pytest {{testExamples}}", "", "");
    cfg.state_dir = dir;
    result_mode_probe_ahead(&cfg);
    config_t unknown = config_with("wrap pytest", "", ""); /* no Python to ask */
    unknown.state_dir = dir;
    result_mode_probe_ahead(&unknown);
    config_t broken = config_with("python3 -m pytest 'open", "", ""); /* run will say */
    broken.state_dir = dir;
    result_mode_probe_ahead(&broken);
    /* nowhere to keep the answer: no user cache, and a folder that is not ours */
    config_t unmarked = config_with("python3 -m pytest {{testExamples}}", "", "");
    unmarked.state_dir = bin.dir;
    result_mode_probe_ahead(&unmarked);
    unmarked.state_dir = NULL;
    result_mode_probe_ahead(&unmarked);
    assert_null(probe_args()); /* nobody was asked */
    char *copy = xasprintf("%s/" INTERP_CACHE_JOB_FILE, dir);
    assert_false(fs_exists(copy));
    free(copy);
    free(answer);
    job_teardown(dir, home);
}

static void extensions(void **state)
{
    (void)state;
    assert_string_equal(result_mode_ext(MODE_JSON), "json");
    assert_string_equal(result_mode_ext(MODE_JUNIT), "xml");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(option_in_the_command_decides),
        cmocka_unit_test(registered_collector_means_json),
        cmocka_unit_test(collector_not_usable_means_junit),
        cmocka_unit_test(autoload_and_explicit_plugin),
        cmocka_unit_test(pytest_missing_is_a_configuration_error),
        cmocka_unit_test(python_that_does_not_answer),
        cmocka_unit_test(unknown_interpreter),
        cmocka_unit_test(shell_syntax_refused),
        cmocka_unit_test(asked_ahead_by_plan_then_read_by_run),
        cmocka_unit_test(plan_asks_nothing_it_cannot_keep_or_run),
        cmocka_unit_test(extensions),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
