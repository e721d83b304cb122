/* run_exit4 by cause: what pytest printed, heard line by line, on real pytest
 * 7.2.1 output (fixtures/conformance/...-real-repos/, the .log files: a broken
 * conftest, an unknown node id, a usage error) and on a real unknown `-p`
 * plugin (pytest run here); which selector pytest could not find; and how an
 * unknown id is widened. The retries and forensics are in test_run_exit4.c. */
#include "unit.h"
#include "scratch.h"
#include "pytest/childenv.h"
#include "base/process.h"
#include "run/run_exit4.h"

#define REAL "fixtures/conformance/pytest-7.2.1-collector-1.8.0-real-repos/"

/* Hears every line of a fixture log; returns pytest's exit status for it. */
static int hear_fixture(const char *name, run_exit4_said_t *s)
{
    memset(s, 0, sizeof *s);
    char *log = xasprintf(REAL "%s.log", name);
    char *exit_file = xasprintf(REAL "%s.exit", name);
    char *text = fs_read_file(log, NULL);
    char *code = fs_read_file(exit_file, NULL);
    assert_non_null(text);
    assert_non_null(code);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        run_exit4_hear(s, line);
    int exit_code = atoi(code);
    free(text);
    free(code);
    free(log);
    free(exit_file);
    return exit_code;
}

/* pytest exits 4 before any test: a collection error in all but name. */
static void broken_conftest(void **state)
{
    (void)state;
    run_exit4_said_t s;
    int code = hear_fixture("conftest-broken", &s);
    assert_int_equal(code, 4);
    assert_int_equal(run_exit4_cause(&s, code), EXIT4_CONFTEST);
    assert_string_equal(s.conftest, "<tmp>/conftest-broken/tests/conftest.py");
    assert_non_null(s.conftest_text.data);
    assert_non_null(strstr(s.conftest_text.data,
                           "ModuleNotFoundError: No module named 'module_that_does_not_exist'"));
    assert_non_null(strstr(s.conftest_text.data, "tests/conftest.py:1: in <module>"));
    assert_null(s.missing_path);
    assert_int_equal(s.not_found.len, 0);
    /* the same words with another exit status explain nothing */
    assert_int_equal(run_exit4_cause(&s, 1), EXIT4_NONE);
    run_exit4_said_free(&s);
}

static void unknown_node_id(void **state)
{
    (void)state;
    run_exit4_said_t s;
    int code = hear_fixture("id-not-found", &s);
    assert_int_equal(code, 4);
    assert_int_equal(run_exit4_cause(&s, code), EXIT4_NOT_FOUND);
    assert_int_equal(s.not_found.len, 1);
    assert_string_equal(s.not_found.items[0], "<tmp>/id-not-found/tests/test_ids.py::test_p[gone]");
    assert_null(s.conftest);
    assert_null(s.usage);
    run_exit4_said_free(&s);
}

static void usage_error(void **state)
{
    (void)state;
    run_exit4_said_t s;
    int code = hear_fixture("usage-error", &s);
    assert_int_equal(code, 4);
    assert_int_equal(run_exit4_cause(&s, code), EXIT4_USAGE);
    assert_string_equal(s.usage, "unrecognized arguments: --no-such-option");
    run_exit4_said_free(&s);
}

/* A run that failed or passed says nothing about an exit 4. */
static void ordinary_runs_have_no_cause(void **state)
{
    (void)state;
    const char *cases[] = {"monorepo-rootdir", "setup-error", "teardown-error", "rerunfailures"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_exit4_said_t s;
        int code = hear_fixture(cases[i], &s);
        assert_int_equal(run_exit4_cause(&s, code), EXIT4_NONE);
        assert_int_equal(run_exit4_cause(&s, 4), EXIT4_NONE); /* nothing said explains one */
        assert_null(s.conftest);
        assert_null(s.usage);
        assert_int_equal(s.not_found.len, 0);
        run_exit4_said_free(&s);
    }
}

/* The vanishing file, as before: its path. */
static void missing_path_cause(void **state)
{
    (void)state;
    run_exit4_said_t s = {0};
    run_exit4_hear(&s, "ERROR: file or directory not found: tests/test_gone.py");
    run_exit4_hear(&s, "");
    assert_int_equal(run_exit4_cause(&s, 4), EXIT4_MISSING_PATH);
    assert_string_equal(s.missing_path, "tests/test_gone.py");
    run_exit4_said_free(&s);
}

/* A broken conftest's traceback is kept up to its bound, however long. */
static void conftest_text_is_bounded(void **state)
{
    (void)state;
    run_exit4_said_t s = {0};
    run_exit4_hear(&s, "ImportError while loading conftest '/w/conftest.py'.");
    char line[200];
    memset(line, 'x', sizeof line - 1);
    line[sizeof line - 1] = '\0';
    for (int i = 0; i < 10000; i++) run_exit4_hear(&s, line);
    assert_true(s.conftest_text.len <= RUN_EXIT4_CONFTEST_KEEP + sizeof line + 1);
    assert_string_equal(s.conftest, "/w/conftest.py");
    run_exit4_said_free(&s);
}

/* Several unknown ids: each one heard. */
static void several_unknown_ids(void **state)
{
    (void)state;
    run_exit4_said_t s = {0};
    run_exit4_hear(&s, "ERROR: not found: /w/tests/a.py::test_x[{1, 2}]");
    run_exit4_hear(&s, "(no name '/w/tests/a.py::test_x[{1, 2}]' in any of [<Module a.py>])");
    run_exit4_hear(&s, "");
    run_exit4_hear(&s, "ERROR: not found: /w/tests/b.py::TestK::test_renamed");
    run_exit4_hear(&s, "(no name '/w/tests/b.py::TestK::test_renamed' in any of [<Class TestK>])");
    assert_int_equal(run_exit4_cause(&s, 4), EXIT4_NOT_FOUND);
    assert_int_equal(s.not_found.len, 2);
    assert_string_equal(s.not_found.items[0], "/w/tests/a.py::test_x[{1, 2}]");
    assert_string_equal(s.not_found.items[1], "/w/tests/b.py::TestK::test_renamed");
    run_exit4_said_free(&s);
}

static void on_stderr(const char *line, void *user)
{
    run_exit4_hear(user, line);
}

/* An unknown `-p` plugin: real pytest prints a traceback and exits 1; it is
 * the command that is wrong. */
static void unknown_plugin_in_real_pytest(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-exit4-plugin");
    scratch_put(dir, "test_a.py", "def test_a():\n    pass\n");
    strlist_t env;
    strlist_init(&env);
    childenv_build(&env);
    childenv_set(&env, "PYTEST_ADDOPTS", "");
    childenv_set(&env, "PYTEST_PLUGINS", "");
    char *const argv[] = {"/usr/bin/python3",   "-m", "pytest", "-p", "no:cacheprovider", "-p",
                          "tep_no_such_plugin", "-q", NULL};
    run_exit4_said_t s = {0};
    buf_t out = BUF_INIT;
    process_opts_t o = {.argv = argv,
                        .env = &env,
                        .cwd = dir,
                        .capture = &out,
                        .on_stderr = on_stderr,
                        .user = &s,
                        .timeout_s = 600};
    process_result_t r;
    process_run(&o, &r);
    if (r.start_failed) fail_msg("cannot run /usr/bin/python3: %s", r.error);
    assert_int_equal(r.exit_code, 1);
    assert_int_equal(run_exit4_cause(&s, r.exit_code), EXIT4_USAGE);
    assert_non_null(s.usage);
    assert_non_null(strstr(s.usage, "tep_no_such_plugin"));
    assert_null(strchr(s.usage, '\n'));
    process_result_free(&r);
    run_exit4_said_free(&s);

    /* the same pytest, an ordinary failing test: exit 1 with no cause */
    scratch_put(dir, "test_a.py", "def test_a():\n    assert False\n");
    char *const plain[] = {"/usr/bin/python3", "-m", "pytest", "-p",
                           "no:cacheprovider", "-q", NULL};
    o.argv = plain;
    memset(&s, 0, sizeof s);
    buf_reset(&out);
    process_run(&o, &r);
    assert_int_equal(r.exit_code, 1);
    assert_int_equal(run_exit4_cause(&s, r.exit_code), EXIT4_NONE);
    process_result_free(&r);
    run_exit4_said_free(&s);
    buf_free(&out);
    strlist_free(&env);
    scratch_dir_remove(dir);
}

/* A conftest that cannot be parsed, or raises: pytest says it the same way,
 * and the real cause is in what follows. */
static void broken_conftest_in_real_pytest(void **state)
{
    (void)state;
    const char *bodies[] = {"def broken(:\n", "raise RuntimeError('conftest exploded')\n"};
    const char *causes[] = {"SyntaxError: invalid syntax", "RuntimeError: conftest exploded"};
    for (size_t i = 0; i < 2; i++) {
        char dir[64];
        scratch_dir(dir, sizeof dir, "tep-exit4-conftest");
        char *tests = fs_join(dir, "tests");
        assert_true(fs_mkdirs(tests));
        scratch_put(dir, "tests/test_a.py", "def test_a():\n    pass\n");
        scratch_put(dir, "tests/conftest.py", bodies[i]);
        strlist_t env;
        strlist_init(&env);
        childenv_build(&env);
        childenv_set(&env, "PYTEST_ADDOPTS", "");
        childenv_set(&env, "PYTHONDONTWRITEBYTECODE", "1");
        char *const argv[] = {"/usr/bin/python3", "-m", "pytest", "-p",
                              "no:cacheprovider", "-q", "tests",  NULL};
        run_exit4_said_t s = {0};
        buf_t out = BUF_INIT;
        process_opts_t o = {.argv = argv,
                            .env = &env,
                            .cwd = dir,
                            .capture = &out,
                            .on_stderr = on_stderr,
                            .user = &s,
                            .timeout_s = 600};
        process_result_t r;
        process_run(&o, &r);
        if (r.start_failed) fail_msg("cannot run /usr/bin/python3: %s", r.error);
        assert_int_equal(r.exit_code, 4);
        assert_int_equal(run_exit4_cause(&s, r.exit_code), EXIT4_CONFTEST);
        char *want = xasprintf("%s/tests/conftest.py", dir);
        assert_string_equal(s.conftest, want);
        assert_non_null(strstr(s.conftest_text.data, causes[i]));
        free(want);
        process_result_free(&r);
        run_exit4_said_free(&s);
        buf_free(&out);
        strlist_free(&env);
        free(tests);
        scratch_dir_remove(dir);
    }
}

static void which_selector(void **state)
{
    (void)state;
    strlist_t sel;
    strlist_init(&sel);
    strlist_push(&sel, "tests/a.py::test_x");
    strlist_push(&sel, "a.py::test_x");
    strlist_push(&sel, "services/api/tests/test_api.py::test_p[x/y::z]");
    strlist_push(&sel, "tests/b.py::TestK::test_m");
    /* under cwd: the exact selector */
    assert_string_equal(run_exit4_which_selector(&sel, "/w/repo/tests/a.py::test_x", "/w/repo"),
                        "tests/a.py::test_x");
    assert_string_equal(
        run_exit4_which_selector(&sel, "/w/repo/services/api/tests/test_api.py::test_p[x/y::z]",
                                 "/w/repo"),
        "services/api/tests/test_api.py::test_p[x/y::z]");
    assert_string_equal(run_exit4_which_selector(&sel, "/w/repo/a.py::test_x", "/w/repo"),
                        "a.py::test_x");
    /* cwd through a symlink (pytest prints the real path): the longest
     * selector it ends with, at a path boundary */
    assert_string_equal(
        run_exit4_which_selector(&sel, "/real/checkout/tests/a.py::test_x", "/link/checkout"),
        "tests/a.py::test_x");
    assert_string_equal(
        run_exit4_which_selector(&sel, "/real/checkout/tests/b.py::TestK::test_m", NULL),
        "tests/b.py::TestK::test_m");
    /* nothing it could be */
    assert_null(run_exit4_which_selector(&sel, "/w/repo/xtests/b.py::TestK::test_m", "/w/repo"));
    assert_null(run_exit4_which_selector(&sel, "/w/repo/tests/c.py::test_x", "/w/repo"));
    assert_null(run_exit4_which_selector(&sel, "/w/repo/tests/a.py::test_x2", "/w/repo"));
    strlist_t none;
    strlist_init(&none);
    assert_null(run_exit4_which_selector(&none, "/w/repo/tests/a.py::test_x", "/w/repo"));
    strlist_free(&none);
    strlist_free(&sel);
}

static void widen_is(const char *id, const char *want)
{
    char *w = run_exit4_widen(id);
    if (want) {
        assert_non_null(w);
        assert_string_equal(w, want);
    } else {
        assert_null(w);
    }
    free(w);
}

/* The function without its parameter id, then the class, then the file; a
 * file is as wide as it gets. Parameters may hold anything. */
static void widen(void **state)
{
    (void)state;
    widen_is("tests/a.py::test_p[{1, 2}]", "tests/a.py::test_p");
    widen_is("tests/a.py::test_p[a::b]", "tests/a.py::test_p");
    widen_is("tests/a.py::test_p[x[y]]", "tests/a.py::test_p");
    widen_is("tests/a.py::test_p[c.py::d]", "tests/a.py::test_p");
    widen_is("tests/a.py::TestK::test_p[a::b::c]", "tests/a.py::TestK::test_p");
    widen_is("tests/a.py::TestK::test_m", "tests/a.py::TestK");
    widen_is("tests/a.py::TestK::TestInner::test_m", "tests/a.py::TestK::TestInner");
    widen_is("tests/a.py::TestK", "tests/a.py");
    widen_is("tests/a.py::test_f", "tests/a.py");
    widen_is("tests/a.py", NULL);
    widen_is("tests/dir[1]/a.py::test_f", "tests/dir[1]/a.py");
    widen_is("tests/dir[1]/a.py::test_f[x]", "tests/dir[1]/a.py::test_f");
    /* widening again always gets shorter, and ends at the file */
    char *id = xstrdup("tests/a.py::TestK::test_p[a::b]");
    size_t steps = 0;
    for (char *w; (w = run_exit4_widen(id)) != NULL; steps++) {
        assert_true(strlen(w) < strlen(id));
        free(id);
        id = w;
    }
    assert_string_equal(id, "tests/a.py");
    assert_int_equal(steps, 3);
    free(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(broken_conftest),
        cmocka_unit_test(unknown_node_id),
        cmocka_unit_test(usage_error),
        cmocka_unit_test(ordinary_runs_have_no_cause),
        cmocka_unit_test(missing_path_cause),
        cmocka_unit_test(conftest_text_is_bounded),
        cmocka_unit_test(several_unknown_ids),
        cmocka_unit_test(unknown_plugin_in_real_pytest),
        cmocka_unit_test(broken_conftest_in_real_pytest),
        cmocka_unit_test(which_selector),
        cmocka_unit_test(widen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
