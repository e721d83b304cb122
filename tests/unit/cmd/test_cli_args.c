/* cli_args: run's and plan's flags. pytest-split's --splits N --group I are
 * --jobs / --job (1-based); pytest's own arguments go after --, and come back
 * word for word from the command template's sh-like splitting; a bad flag is
 * one line naming it and what to do. */
#include "unit.h"
#include "cmd/cli_args.h"
#include "base/buf.h"
#include "config/template.h"

/* argv from a NULL-terminated list (argv[0] is the subcommand). */
static bool parse(cli_args_cmd_t cmd, const char *const *words, cli_args_t *a, char **err)
{
    int argc = 0;
    while (words[argc]) argc++;
    return cli_args_parse(cmd, argc, (char **)words, a, err);
}

static void run_flags_and_their_pytest_split_names(void **state)
{
    (void)state;
    cli_args_t a;
    char *err = NULL;
    const char *w1[] = {"run", "--job", "2", "--jobs", "3", NULL};
    assert_true(parse(CLI_ARGS_RUN, w1, &a, &err));
    assert_int_equal(a.job, 2);
    assert_int_equal(a.jobs, 3);
    assert_false(a.help);
    cli_args_free(&a);
    const char *w2[] = {"run", "--splits=4", "--group=1", "--durations-path", ".test_durations",
                        NULL};
    assert_true(parse(CLI_ARGS_RUN, w2, &a, &err));
    assert_int_equal(a.job, 1);
    assert_int_equal(a.jobs, 4);
    assert_string_equal(a.durations_path, ".test_durations");
    cli_args_free(&a);
    const char *w3[] = {"run", "--jobs", "2", "--", "-k", "not slow", "--", "-x", NULL};
    assert_true(parse(CLI_ARGS_RUN, w3, &a, &err));
    assert_int_equal(a.extra.len, 4); /* everything after the first -- */
    assert_string_equal(a.extra.items[1], "not slow");
    assert_string_equal(a.extra.items[2], "--");
    cli_args_free(&a);
    const char *w4[] = {"run", "-h", NULL};
    assert_true(parse(CLI_ARGS_RUN, w4, &a, &err));
    assert_true(a.help);
    cli_args_free(&a);
}

static void assert_refused(cli_args_cmd_t cmd, const char *const *words, const char *said)
{
    cli_args_t a;
    char *err = NULL;
    assert_false(parse(cmd, words, &a, &err));
    if (!err || !strstr(err, said)) fail_msg("'%s' not in '%s'", said, err ? err : "(none)");
    assert_null(strchr(err, '\n'));
    free(err);
    cli_args_free(&a);
}

static void bad_flags_say_what_to_do(void **state)
{
    (void)state;
    const char *k[] = {"run", "-k", "x", NULL};
    assert_refused(CLI_ARGS_RUN, k,
                   "unexpected argument '-k'; pytest's own arguments go after --, as in "
                   "test-engine-pytest run -- -k");
    const char *zero[] = {"run", "--group", "0", NULL};
    assert_refused(CLI_ARGS_RUN, zero, "--group '0': give a whole number from 1 to 1000");
    const char *big[] = {"run", "--splits", "1001", NULL};
    assert_refused(CLI_ARGS_RUN, big, "from 1 to 1000");
    const char *word[] = {"run", "--jobs=two", NULL};
    assert_refused(CLI_ARGS_RUN, word, "--jobs 'two': give a whole number");
    const char *missing[] = {"run", "--job", NULL};
    assert_refused(CLI_ARGS_RUN, missing, "--job needs a value");
    const char *stray[] = {"run", "tests/", NULL};
    assert_refused(CLI_ARGS_RUN, stray, "unexpected argument 'tests/'");
    const char *plan_job[] = {"plan", "--job", "1", NULL}; /* plan explains every job */
    assert_refused(CLI_ARGS_PLAN, plan_job, "unexpected argument '--job'");
    const char *both[] = {"plan", "--json", "--pipeline-upload", "t.yml", NULL};
    assert_refused(CLI_ARGS_PLAN, both, "exclude each other");
    const char *mixed[] = {"plan", "--explain", "--json", NULL};
    assert_refused(CLI_ARGS_PLAN, mixed, "use one or the other");
    const char *empty[] = {"plan", "--plan-out=", NULL};
    assert_refused(CLI_ARGS_PLAN, empty, "--plan-out: give the file");
}

static void plan_flags(void **state)
{
    (void)state;
    cli_args_t a;
    char *err = NULL;
    const char *w[] = {"plan", "--explain", "--plan-out", "plan.json", "--splits", "8", NULL};
    assert_true(parse(CLI_ARGS_PLAN, w, &a, &err));
    assert_true(a.explain);
    assert_string_equal(a.plan_out, "plan.json");
    assert_int_equal(a.jobs, 8);
    cli_args_free(&a);
    const char *d[] = {"plan", "--pipeline-upload=tmpl.yml", NULL};
    assert_true(parse(CLI_ARGS_PLAN, d, &a, &err));
    assert_string_equal(a.pipeline_upload, "tmpl.yml");
    cli_args_free(&a);
}

static void exported_as_the_variables_they_spell(void **state)
{
    (void)state;
    unsetenv("BUILDKITE_PARALLEL_JOB");
    unsetenv("BUILDKITE_PARALLEL_JOB_COUNT");
    unsetenv("BUILDKITE_TEST_ENGINE_DURATIONS_FILE");
    cli_args_t a = {.job = 2, .jobs = 3, .durations_path = "d.json"};
    char *err = NULL;
    assert_true(cli_args_export(&a, &err));
    assert_string_equal(getenv("BUILDKITE_PARALLEL_JOB"), "1"); /* 0-based */
    assert_string_equal(getenv("BUILDKITE_PARALLEL_JOB_COUNT"), "3");
    assert_string_equal(getenv("BUILDKITE_TEST_ENGINE_DURATIONS_FILE"), "d.json");
    /* --job alone: the count from the environment */
    setenv("BUILDKITE_PARALLEL_JOB_COUNT", "5", 1);
    a = (cli_args_t){.job = 5};
    assert_true(cli_args_export(&a, &err));
    assert_string_equal(getenv("BUILDKITE_PARALLEL_JOB"), "4");
    a = (cli_args_t){.job = 6};
    assert_false(cli_args_export(&a, &err));
    assert_non_null(strstr(err, "--job 6 is not one of the 5 jobs (BUILDKITE_PARALLEL_JOB_COUNT)"));
    free(err);
    err = NULL;
    /* --jobs alone: this job from the environment must fit */
    setenv("BUILDKITE_PARALLEL_JOB", "3", 1);
    a = (cli_args_t){.jobs = 2};
    assert_false(cli_args_export(&a, &err));
    assert_non_null(strstr(err, "this is job 4 (BUILDKITE_PARALLEL_JOB + 1), not one of --jobs 2"));
    free(err);
    err = NULL;
    a = (cli_args_t){.job = 3, .jobs = 2};
    assert_false(cli_args_export(&a, &err));
    assert_non_null(strstr(err, "--job 3 is not one of the 2 jobs: give 1 to 2"));
    free(err);
    /* nothing given: nothing changed */
    setenv("BUILDKITE_PARALLEL_JOB", "7", 1);
    a = (cli_args_t){0};
    err = NULL;
    assert_true(cli_args_export(&a, &err));
    assert_string_equal(getenv("BUILDKITE_PARALLEL_JOB"), "7");
}

/* The words after -- come back whole from the template's splitting. */
static void extra_words_survive_the_template(void **state)
{
    (void)state;
    const char *words[] = {"-k", "not slow and 'quoted'", "$HOME", "a\\b", "--tb=short", "", NULL};
    cli_args_t a = {0};
    for (size_t i = 0; words[i]; i++) strlist_push(&a.extra, words[i]);
    config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.test_cmd = xstrdup("");
    cfg.retry_cmd = xstrdup("python3 -m pytest {{testExamples}} --lf");
    char *err = NULL;
    assert_true(cli_args_extend_commands(&a, &cfg, &err));
    strlist_t argv = STRLIST_INIT, ex = STRLIST_INIT;
    strlist_push(&ex, "t.py");
    assert_true(template_expand(cfg.test_cmd, &ex, "r.json", &argv, &err));
    /* the default command, then each word as it was */
    assert_string_equal(argv.items[0], "pytest");
    assert_string_equal(argv.items[1], "t.py");
    for (size_t i = 0; words[i]; i++) assert_string_equal(argv.items[2 + i], words[i]);
    assert_int_equal(argv.len, 8);
    strlist_clear(&argv);
    assert_true(template_expand(cfg.retry_cmd, &ex, "r.json", &argv, &err));
    assert_string_equal(argv.items[4], "--lf");
    assert_string_equal(argv.items[6], "not slow and 'quoted'");
    strlist_free(&argv);
    strlist_free(&ex);
    free(cfg.test_cmd);
    free(cfg.retry_cmd);
    cli_args_free(&a);
}

static void a_placeholder_after_dashes_is_refused(void **state)
{
    (void)state;
    cli_args_t a = {0};
    strlist_push(&a.extra, "--json={{resultPath}}");
    config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.test_cmd = xstrdup("pytest {{testExamples}}");
    cfg.retry_cmd = xstrdup("");
    char *err = NULL;
    assert_false(cli_args_extend_commands(&a, &cfg, &err));
    assert_non_null(strstr(err, "'{{' would be read as a placeholder"));
    assert_string_equal(cfg.test_cmd, "pytest {{testExamples}}"); /* unchanged */
    free(err);
    free(cfg.test_cmd);
    free(cfg.retry_cmd);
    cli_args_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_flags_and_their_pytest_split_names),
        cmocka_unit_test(bad_flags_say_what_to_do),
        cmocka_unit_test(plan_flags),
        cmocka_unit_test(exported_as_the_variables_they_spell),
        cmocka_unit_test(extra_words_survive_the_template),
        cmocka_unit_test(a_placeholder_after_dashes_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
