/* recorder: the recorder plugin's private directory and environment, and
 * the recorder itself in real pytest (/usr/bin/python3 -m pytest): every
 * outcome pytest reports (pass, fail, skip, xfail, setup and teardown errors,
 * a collection error, a file name that is not UTF-8), pytest-rerunfailures'
 * tries and an xdist worker's crash, read back with results_events_read. pytest's
 * own words when it cannot import the recorder are produced here too. */
#include "unit.h"
#include "scratch.h"
#include "pytest/childenv.h"
#include "base/process.h"
#include "results/results_events.h"
#include "pytest/recorder.h"
#include <sys/stat.h>

static const char *value_of(const strlist_t *env, const char *name)
{
    size_t len = strlen(name), n = 0;
    const char *v = NULL;
    for (size_t i = 0; i < env->len; i++)
        if (strncmp(env->items[i], name, len) == 0 && env->items[i][len] == '=') {
            v = env->items[i] + len + 1;
            n++;
        }
    assert_true(n <= 1);
    return v;
}

static char *source_path(const char *rel)
{
    const char *src = getenv("TEP_SOURCE_DIR");
    return xasprintf("%s/%s", src && *src ? src : ".", rel);
}

/* The module is src/recorder.py as it is, in a private directory that
 * stop removes. */
static void start_writes_the_module_and_stop_removes_it(void **state)
{
    (void)state;
    recorder_t r;
    char *err = NULL;
    assert_true(recorder_start(&r, &err));
    assert_null(err);
    assert_true(recorder_on(&r));
    struct stat st;
    assert_int_equal(lstat(r.dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    const char *tmp = getenv("TMPDIR");
    char *base = xasprintf("%s/", tmp && *tmp ? tmp : "/tmp");
    assert_true(strncmp(r.dir, base, strlen(base)) == 0);
    char *module = fs_join(r.dir, RECORDER_MODULE ".py");
    char *written = fs_read_file(module, NULL);
    char *source = source_path("src/pytest/recorder.py");
    char *want = fs_read_file(source, NULL);
    assert_non_null(written);
    assert_non_null(want);
    assert_string_equal(written, want);
    char *dir = xstrdup(r.dir);
    recorder_stop(&r);
    assert_false(fs_exists(dir));
    assert_false(recorder_on(&r));
    recorder_stop(&r); /* twice is harmless */
    free(dir);
    free(base);
    free(module);
    free(written);
    free(source);
    free(want);
}

/* On once started, off once stopped or never started. (A run whose pytest
 * could not import it gives it to no further pytest: run_part's findings.) */
static void on_only_while_started(void **state)
{
    (void)state;
    recorder_t r;
    char *err = NULL;
    assert_true(recorder_start(&r, &err));
    assert_true(recorder_on(&r));
    recorder_stop(&r);
    assert_false(recorder_on(&r));
    recorder_t never = {0};
    assert_false(recorder_on(&never));
}

/* PYTHONPATH gets the directory first, PYTEST_PLUGINS the module after the
 * user's own, and the output variable the events path. */
static void env_keeps_the_users_own(void **state)
{
    (void)state;
    recorder_t r;
    char *err = NULL;
    assert_true(recorder_start(&r, &err));
    strlist_t env;
    strlist_init(&env);
    strlist_push(&env, "PYTHONPATH=/user/lib");
    strlist_push(&env, "PYTEST_PLUGINS=user_plugin,other.plugin");
    strlist_push(&env, "HOME=/home/u");
    recorder_env(&r, &env, "/tmp/x/events.jsonl");
    char *path = xasprintf("%s:/user/lib", r.dir);
    assert_string_equal(value_of(&env, "PYTHONPATH"), path);
    assert_string_equal(value_of(&env, "PYTEST_PLUGINS"),
                        "user_plugin,other.plugin," RECORDER_MODULE);
    assert_string_equal(value_of(&env, "TEP_RECORD_OUT"), "/tmp/x/events.jsonl");
    assert_string_equal(value_of(&env, "HOME"), "/home/u");
    free(path);
    strlist_free(&env);

    strlist_init(&env);
    strlist_push(&env, "PYTEST_PLUGINS=");
    recorder_env(&r, &env, "/e");
    assert_string_equal(value_of(&env, "PYTEST_PLUGINS"), RECORDER_MODULE);
    assert_string_equal(value_of(&env, "PYTHONPATH"), r.dir);
    strlist_free(&env);
    recorder_stop(&r);
}

/* ---- real pytest ---- */

typedef struct {
    strlist_t err_lines;
    buf_t out;
    int exit_code;
} pytest_run_t;

static void on_stderr(const char *line, void *user)
{
    strlist_push(user, line);
}

/* Runs /usr/bin/python3 -m pytest with args in dir under env. */
static void run_pytest(const char *dir, const strlist_t *env, const char *const *args,
                       pytest_run_t *pr)
{
    strlist_t argv;
    strlist_init(&argv);
    const char *head[] = {"/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider"};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++) strlist_push(&argv, head[i]);
    for (size_t i = 0; args[i]; i++) strlist_push(&argv, args[i]);
    strlist_init(&pr->err_lines);
    buf_init(&pr->out);
    process_opts_t o = {.argv = argv.items,
                        .env = env,
                        .cwd = dir,
                        .capture = &pr->out,
                        .on_stderr = on_stderr,
                        .user = &pr->err_lines,
                        .timeout_s = 600};
    process_result_t r;
    process_run(&o, &r);
    if (r.start_failed) fail_msg("cannot run /usr/bin/python3: %s", r.error);
    assert_false(r.timed_out);
    assert_int_equal(r.signal, 0);
    pr->exit_code = r.exit_code;
    process_result_free(&r);
    strlist_free(&argv);
}

static void pytest_run_free(pytest_run_t *pr)
{
    strlist_free(&pr->err_lines);
    buf_free(&pr->out);
}

/* The environment a test run gets, without anything of the caller's that
 * would change what pytest loads. */
static void base_env(strlist_t *env)
{
    strlist_init(env);
    childenv_build(env);
    childenv_set(env, "PYTEST_PLUGINS", "");
    childenv_set(env, "PYTEST_ADDOPTS", "");
    childenv_set(env, "PYTHONPATH", "");
    childenv_set(env, "PYTHONDONTWRITEBYTECODE", "1");
}

static size_t lines_recognised(const strlist_t *lines)
{
    size_t n = 0;
    for (size_t i = 0; i < lines->len; i++) n += recorder_load_failed(lines->items[i]);
    return n;
}

/* A launcher that drops PYTHONPATH but passes PYTEST_PLUGINS on: pytest's
 * real words are recognised; another plugin's are not. */
static void load_failure_is_recognised_in_real_pytest(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-recorder-load");
    scratch_put(dir, "test_a.py", "def test_a():\n    pass\n");
    strlist_t env;
    base_env(&env);
    childenv_set(&env, "PYTEST_PLUGINS", RECORDER_MODULE);
    const char *args[] = {"-q", NULL};
    pytest_run_t pr;
    run_pytest(dir, &env, args, &pr);
    assert_int_not_equal(pr.exit_code, 0);
    assert_true(lines_recognised(&pr.err_lines) >= 1);
    pytest_run_free(&pr);

    /* another plugin that is not there: not ours */
    childenv_set(&env, "PYTEST_PLUGINS", "tep_no_such_plugin");
    run_pytest(dir, &env, args, &pr);
    assert_int_not_equal(pr.exit_code, 0);
    assert_true(pr.err_lines.len > 0);
    assert_int_equal(lines_recognised(&pr.err_lines), 0);
    pytest_run_free(&pr);

    /* a good run says nothing of the kind */
    childenv_set(&env, "PYTEST_PLUGINS", "");
    run_pytest(dir, &env, args, &pr);
    assert_int_equal(pr.exit_code, 0);
    assert_int_equal(lines_recognised(&pr.err_lines), 0);
    assert_int_equal(lines_recognised(&(strlist_t){0}), 0);
    pytest_run_free(&pr);
    strlist_free(&env);
    scratch_dir_remove(dir);
}

static const char TESTS_PY[] = "import pathlib\n"
                               "import pytest\n"
                               "\n"
                               "@pytest.fixture\n"
                               "def broken_setup():\n"
                               "    raise RuntimeError('setup exploded')\n"
                               "\n"
                               "@pytest.fixture\n"
                               "def broken_teardown():\n"
                               "    yield\n"
                               "    raise RuntimeError('teardown exploded')\n"
                               "\n"
                               "def test_pass():\n"
                               "    pass\n"
                               "\n"
                               "def test_fail():\n"
                               "    assert 1 == 2, 'one is not two'\n"
                               "\n"
                               "@pytest.mark.skip(reason='no database')\n"
                               "def test_skip():\n"
                               "    pass\n"
                               "\n"
                               "@pytest.mark.xfail(reason='known bug')\n"
                               "def test_xfail():\n"
                               "    assert False\n"
                               "\n"
                               "def test_setup_error(broken_setup):\n"
                               "    pass\n"
                               "\n"
                               "def test_teardown_error(broken_teardown):\n"
                               "    pass\n"
                               "\n"
                               "def test_fail_and_teardown_error(broken_teardown):\n"
                               "    assert False, 'call first'\n"
                               "\n"
                               "MARK = pathlib.Path(__file__).with_name('.flaky-ran')\n"
                               "\n"
                               "def test_flaky():\n"
                               "    if not MARK.exists():\n"
                               "        MARK.write_text('1')\n"
                               "        assert False, 'first try fails'\n"
                               "\n"
                               "@pytest.mark.parametrize('p', ['a::b', 'c[d'])\n"
                               "def test_param(p):\n"
                               "    pass\n";

/* One finished test as the events said it. */
typedef struct {
    char *id, *when, *message;
    test_status_t status;
    int tries;
    bool xfail, collection_error;
} got_t;

typedef struct {
    got_t *v;
    size_t len;
    char *rootdir, *invocation_dir;
} gots_t;

static void got_session(const char *rootdir, const char *invocation_dir, void *user)
{
    gots_t *g = user;
    g->rootdir = xstrdup(rootdir);
    g->invocation_dir = xstrdup(invocation_dir);
}

static void got_test(const run_event_test_t *t, void *user)
{
    gots_t *g = user;
    g->v = xrealloc(g->v, (g->len + 1) * sizeof *g->v);
    g->v[g->len++] = (got_t){xstrdup(t->node_id), xstrdup(t->when), xstrdup(t->message),
                             t->status,           t->tries,         t->xfail,
                             t->collection_error};
}

static void gots_free(gots_t *g)
{
    for (size_t i = 0; i < g->len; i++) {
        free(g->v[i].id);
        free(g->v[i].when);
        free(g->v[i].message);
    }
    free(g->v);
    free(g->rootdir);
    free(g->invocation_dir);
}

static const got_t *got(const gots_t *g, const char *id)
{
    const got_t *hit = NULL;
    for (size_t i = 0; i < g->len; i++)
        if (strcmp(g->v[i].id, id) == 0) {
            if (hit) fail_msg("%s reported twice", id);
            hit = &g->v[i];
        }
    if (!hit) fail_msg("no event for %s", id);
    return hit;
}

static void expect(const gots_t *g, const char *id, test_status_t status, const char *when,
                   int tries, bool xfail, const char *in_message)
{
    const got_t *t = got(g, id);
    if (t->status != status || strcmp(t->when, when) != 0 || t->tries != tries ||
        t->xfail != xfail || t->collection_error)
        fail_msg("%s: got %s when='%s' tries=%d xfail=%d collection_error=%d", id,
                 results_model_status_name(t->status), t->when, t->tries, t->xfail,
                 t->collection_error);
    if (in_message && !strstr(t->message, in_message))
        fail_msg("%s: message '%s' lacks '%s'", id, t->message, in_message);
}

typedef struct {
    char dir[64];
    recorder_t rec;
    char *events;
    strlist_t env;
} project_t;

static void project_open(project_t *p)
{
    scratch_dir(p->dir, sizeof p->dir, "tep-recorder-real");
    /* the real path: pytest reports its rootdir resolved */
    char *real = realpath(p->dir, NULL);
    assert_non_null(real);
    snprintf(p->dir, sizeof p->dir, "%s", real);
    free(real);
    char *tests = fs_join(p->dir, "tests");
    assert_true(fs_mkdirs(tests));
    free(tests);
    scratch_put(p->dir, "pytest.ini", "[pytest]\n");
    scratch_put(p->dir, "tests/test_all.py", TESTS_PY);
    char *err = NULL;
    assert_true(recorder_start(&p->rec, &err));
    p->events = fs_join(p->dir, "events.jsonl");
    base_env(&p->env);
    recorder_env(&p->rec, &p->env, p->events);
}

static void project_close(project_t *p)
{
    char *dir = xstrdup(p->rec.dir);
    recorder_stop(&p->rec);
    assert_false(fs_exists(dir));
    free(dir);
    strlist_free(&p->env);
    free(p->events);
    scratch_dir_remove(p->dir);
}

static void read_events(const project_t *p, gots_t *g, results_events_scan_t *scan)
{
    memset(g, 0, sizeof *g);
    results_events_read(p->events, got_session, got_test, g, scan);
    assert_null(scan->error);
    assert_int_equal(scan->bad_lines, 0);
    assert_int_equal(scan->running.len, 0);
}

#define ALL "tests/test_all.py::"

/* Every outcome as pytest reported it, one event each, exact ids. */
static void real_pytest_every_outcome(void **state)
{
    (void)state;
    project_t p;
    project_open(&p);
    scratch_put(p.dir, "tests/test_broken.py", "raise ImportError('broken on purpose')\n");
    scratch_put(p.dir, "tests/test_latin1_\xe9.py", "def test_latin():\n    pass\n");
    /* a test that runs pytest in a subprocess (pytester does): that pytest must
     * not record into our file, and the user's own settings reach it */
    scratch_put(p.dir, "tests/test_subprocess.py",
                "import os, subprocess, sys\n"
                "def test_inner_pytest(tmp_path):\n"
                "    assert 'TEP_RECORD_OUT' not in os.environ\n"
                "    assert os.environ.get('PYTEST_PLUGINS') == 'user_plug'\n"
                "    (tmp_path / 'test_inner.py').write_text('def test_inner(): pass\\n')\n"
                "    r = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', "
                "'no:cacheprovider', str(tmp_path)])\n"
                "    assert r.returncode == 0\n");
    /* the user's own plugin, through their own PYTHONPATH and PYTEST_PLUGINS */
    scratch_put(p.dir, "user_plug.py",
                "import os\n"
                "def pytest_configure(config):\n" /* rootdir: pytest 6.0 has no rootpath */
                "    open(os.path.join(str(config.rootdir), 'user-plugin-ran'), 'w').close()\n");
    strlist_free(&p.env);
    base_env(&p.env);
    childenv_set(&p.env, "PYTHONPATH", p.dir);
    childenv_set(&p.env, "PYTEST_PLUGINS", "user_plug");
    recorder_env(&p.rec, &p.env, p.events);

    const char *args[] = {"-q", "--continue-on-collection-errors", "tests", NULL};
    pytest_run_t pr;
    run_pytest(p.dir, &p.env, args, &pr);
    assert_int_equal(pr.exit_code, 1);
    assert_int_equal(lines_recognised(&pr.err_lines), 0);
    pytest_run_free(&pr);
    char *marker = fs_join(p.dir, "user-plugin-ran");
    assert_true(fs_exists(marker)); /* the user's plugin still loaded */
    free(marker);

    gots_t g;
    results_events_scan_t scan;
    read_events(&p, &g, &scan);
    assert_true(scan.session);
    assert_string_equal(g.rootdir, p.dir);
    assert_string_equal(g.invocation_dir, p.dir);
    assert_true(scan.ended);
    assert_int_equal(scan.exit_status, 1);
    assert_int_equal(scan.tests, 12); /* the inner pytest's test_inner is not among them */
    expect(&g, ALL "test_pass", ST_PASSED, "", 1, false, NULL);
    expect(&g, ALL "test_fail", ST_FAILED, "call", 1, false, "one is not two");
    expect(&g, ALL "test_skip", ST_SKIPPED, "setup", 1, false, "no database");
    expect(&g, ALL "test_xfail", ST_SKIPPED, "call", 1, true, "known bug");
    expect(&g, ALL "test_setup_error", ST_FAILED, "setup", 1, false, "setup exploded");
    expect(&g, ALL "test_teardown_error", ST_FAILED, "teardown", 1, false, "teardown exploded");
    expect(&g, ALL "test_fail_and_teardown_error", ST_FAILED, "call", 1, false, "call first");
    expect(&g, ALL "test_flaky", ST_FAILED, "call", 1, false, "first try fails");
    expect(&g, ALL "test_param[a::b]", ST_PASSED, "", 1, false, NULL);
    expect(&g, ALL "test_param[c[d]", ST_PASSED, "", 1, false, NULL);
    expect(&g, "tests/test_latin1_\xe9.py::test_latin", ST_PASSED, "", 1, false, NULL);
    const got_t *broken = got(&g, "tests/test_broken.py");
    assert_true(broken->collection_error);
    assert_non_null(strstr(broken->message, "broken on purpose"));
    expect(&g, "tests/test_subprocess.py::test_inner_pytest", ST_PASSED, "", 1, false, NULL);
    for (size_t i = 0; i < g.len; i++) /* the inner pytest wrote nothing here */
        assert_null(strstr(g.v[i].id, "test_inner.py"));
    assert_int_equal(g.len, 13); /* 12 tests and the collection error */
    gots_free(&g);
    results_events_scan_free(&scan);
    project_close(&p);
}

static bool importable(const char *module)
{
    char *code = xasprintf("import %s", module);
    char *const argv[] = {"/usr/bin/python3", "-c", code, NULL};
    buf_t out = BUF_INIT;
    process_opts_t o = {.argv = argv, .capture = &out, .timeout_s = 300};
    process_result_t r;
    process_run(&o, &r);
    bool ok = !r.start_failed && !r.signal && r.exit_code == 0;
    process_result_free(&r);
    buf_free(&out);
    free(code);
    return ok;
}

/* pytest-rerunfailures: the tries are one test with their count; a later
 * try that passed is a pass after tries > 1. */
static void real_pytest_with_reruns(void **state)
{
    (void)state;
    if (!importable("pytest_rerunfailures")) skip();
    project_t p;
    project_open(&p);
    /* (not the non-UTF-8 file: rerunfailures 10.2 itself fails on its name) */
    const char *args[] = {"-q", "--reruns", "1", "tests/test_all.py", NULL};
    pytest_run_t pr;
    run_pytest(p.dir, &p.env, args, &pr);
    assert_int_equal(pr.exit_code, 1);
    pytest_run_free(&pr);
    gots_t g;
    results_events_scan_t scan;
    read_events(&p, &g, &scan);
    assert_true(scan.ended);
    assert_int_equal(scan.tests, 10);
    expect(&g, ALL "test_pass", ST_PASSED, "", 1, false, NULL);
    expect(&g, ALL "test_fail", ST_FAILED, "call", 2, false, "one is not two");
    expect(&g, ALL "test_skip", ST_SKIPPED, "setup", 1, false, "no database");
    expect(&g, ALL "test_xfail", ST_SKIPPED, "call", 1, true, "known bug");
    expect(&g, ALL "test_setup_error", ST_FAILED, "setup", 2, false, "setup exploded");
    expect(&g, ALL "test_teardown_error", ST_FAILED, "teardown", 2, false, "teardown exploded");
    expect(&g, ALL "test_fail_and_teardown_error", ST_FAILED, "call", 2, false, "call first");
    expect(&g, ALL "test_flaky", ST_PASSED, "", 2, false, NULL);
    expect(&g, ALL "test_param[a::b]", ST_PASSED, "", 1, false, NULL);
    assert_int_equal(g.len, 10);
    gots_free(&g);
    results_events_scan_free(&scan);
    project_close(&p);
}

/* xdist: the controller records each test once; a worker that dies is the
 * test it was running, failed at "???". */
static void real_pytest_xdist_worker_crash(void **state)
{
    (void)state;
    if (!importable("xdist")) skip();
    project_t p;
    project_open(&p);
    scratch_put(p.dir, "tests/test_x.py",
                "import os\n"
                "def test_a():\n    pass\n"
                "def test_b():\n    pass\n"
                "def test_crash():\n    os._exit(3)\n"
                "def test_c():\n    pass\n");
    const char *args[] = {"-q", "-n", "2", "tests/test_x.py", NULL};
    pytest_run_t pr;
    run_pytest(p.dir, &p.env, args, &pr);
    assert_int_equal(pr.exit_code, 1);
    pytest_run_free(&pr);
    gots_t g;
    results_events_scan_t scan;
    read_events(&p, &g, &scan);
    assert_true(scan.ended);
    assert_int_equal(g.len, 4);
    expect(&g, "tests/test_x.py::test_a", ST_PASSED, "", 1, false, NULL);
    expect(&g, "tests/test_x.py::test_b", ST_PASSED, "", 1, false, NULL);
    expect(&g, "tests/test_x.py::test_c", ST_PASSED, "", 1, false, NULL);
    expect(&g, "tests/test_x.py::test_crash", ST_FAILED, "???", 1, false, "crashed");
    gots_free(&g);
    results_events_scan_free(&scan);
    project_close(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(start_writes_the_module_and_stop_removes_it),
        cmocka_unit_test(on_only_while_started),
        cmocka_unit_test(env_keeps_the_users_own),
        cmocka_unit_test(load_failure_is_recognised_in_real_pytest),
        cmocka_unit_test(real_pytest_every_outcome),
        cmocka_unit_test(real_pytest_with_reruns),
        cmocka_unit_test(real_pytest_xdist_worker_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
