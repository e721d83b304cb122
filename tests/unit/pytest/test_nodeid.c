/* nodeid: the rootdir prefix (plain, below, outside, through symlinks), a
 * collector record's own prefix, and the JUnit key held against what real
 * pytest's JUnit writer writes (/usr/bin/python3 -m pytest, run here on a
 * small project made in a temp dir). */
#include "unit.h"
#include "scratch.h"
#include "pytest/childenv.h"
#include "base/process.h"
#include "pytest/nodeid.h"
#include "base/strset.h"
#include <expat.h>

static void prefix_is(const char *rootdir, const char *cwd, const char *want)
{
    char *why = NULL;
    char *p = nodeid_prefix(rootdir, cwd, &why);
    assert_non_null(p);
    assert_string_equal(p, want);
    assert_null(why);
    free(p);
}

static void prefix_refused(const char *rootdir, const char *cwd)
{
    char *why = NULL;
    char *p = nodeid_prefix(rootdir, cwd, &why);
    assert_null(p);
    assert_non_null(why);
    assert_non_null(strstr(why, rootdir)); /* names both places */
    assert_non_null(strstr(why, cwd));
    assert_null(strchr(why, '\n'));
    free(why);
}

static void prefix_same_below_outside(void **state)
{
    (void)state;
    prefix_is("/w/repo", "/w/repo", "");
    prefix_is("/w/repo/", "/w/repo", "");
    prefix_is("/w/repo", "/w/repo/", "");
    prefix_is("/w/repo/services/api", "/w/repo", "services/api/");
    prefix_is("/w/repo/services/api/", "/w/repo", "services/api/");
    prefix_is("/w/repo/a", "/w/repo//", "a/");
    prefix_is("/a/b", "/", "a/b/");
    prefix_is("/", "/", "");
    /* not below: a sibling sharing the name's start, the parent, elsewhere */
    prefix_refused("/w/repo2/x", "/w/repo");
    prefix_refused("/w", "/w/repo");
    prefix_refused("/elsewhere/tests", "/w/repo");
}

/* The same directories spelt through a symlink: the real paths decide. */
static void prefix_through_symlinks(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-nodeid");
    char *real = fs_join(dir, "real");
    char *sub = fs_join(dir, "real/services/api");
    char *link = fs_join(dir, "link");
    char *link_sub = fs_join(dir, "link/services/api");
    assert_true(fs_mkdirs(sub));
    assert_int_equal(symlink(real, link), 0);

    prefix_is(sub, link, "services/api/");
    prefix_is(link_sub, real, "services/api/");
    prefix_is(link_sub, link, "services/api/");
    prefix_is(link, real, "");
    prefix_refused(real, link_sub); /* the rootdir above where pytest ran */

    free(real);
    free(sub);
    free(link);
    free(link_sub);
    scratch_dir_remove(dir);
}

static void record_prefix_is(const char *scope, const char *file_name, const char *want)
{
    char *p = nodeid_prefix_of_record(scope, file_name);
    assert_string_equal(p, want);
    free(p);
}

/* The collector's scope is relative to the rootdir, its file_name to where
 * pytest ran: the difference is the prefix. */
static void prefix_of_a_collector_record(void **state)
{
    (void)state;
    record_prefix_is("tests/test_api.py", "services/api/tests/test_api.py", "services/api/");
    record_prefix_is("tests/test_api.py::TestX", "services/api/tests/test_api.py", "services/api/");
    record_prefix_is("tests/test_api.py::test_p[a::b]", "x/tests/test_api.py", "x/");
    record_prefix_is("tests/test_api.py", "tests/test_api.py", "");
    /* not at a path boundary, or another file: no prefix can be told */
    record_prefix_is("tests/test_api.py", "xtests/test_api.py", "");
    record_prefix_is("tests/test_api.py", "services/api/tests/test_other.py", "");
    record_prefix_is("tests/test_api.py", "test_api.py", "");
    record_prefix_is("", "services/api/tests/test_api.py", "");
    record_prefix_is("tests/test_api.py", NULL, "");
    record_prefix_is(NULL, "a/tests/test_api.py", "");
    record_prefix_is("::weird", "a/b.py", "");
}

static void id_of_record_is(const char *scope, const char *name, const char *file,
                            const char *node_id, bool json, const char *attempt_prefix,
                            const char *want)
{
    char *id = nodeid_of_record(scope, name, file, node_id, json, attempt_prefix);
    assert_string_equal(id, want);
    free(id);
}

static void id_of_a_record(void **state)
{
    (void)state;
    /* collector JSON: the record shows its own prefix, whatever the attempt's */
    id_of_record_is("tests/test_api.py", "test_bad", "services/api/tests/test_api.py",
                    "tests/test_api.py::test_bad", true, "other/",
                    "services/api/tests/test_api.py::test_bad");
    id_of_record_is("tests/test_api.py", "test_bad", "tests/test_api.py",
                    "tests/test_api.py::test_bad", true, NULL, "tests/test_api.py::test_bad");
    /* a collection error: empty scope, the file is its name */
    id_of_record_is("", "tests/test_broken.py", "services/api/tests/test_broken.py",
                    "tests/test_broken.py", true, NULL, "services/api/tests/test_broken.py");
    /* JUnit has no file_name to tell: the attempt's prefix */
    id_of_record_is("tests.test_api", "test_bad", NULL, "tests/test_api.py::test_bad", false,
                    "services/api/", "services/api/tests/test_api.py::test_bad");
    id_of_record_is("tests.test_api", "test_bad", NULL, "tests/test_api.py::test_bad", false, NULL,
                    "tests/test_api.py::test_bad");
    id_of_record_is("tests.test_api", "test_bad", NULL, "tests/test_api.py::test_bad", false, "",
                    "tests/test_api.py::test_bad");
}

static void join(void **state)
{
    (void)state;
    char *a = nodeid_join("services/api/", "tests/t.py::x");
    char *b = nodeid_join("", "tests/t.py::x");
    char *c = nodeid_join(NULL, "tests/t.py::x");
    assert_string_equal(a, "services/api/tests/t.py::x");
    assert_string_equal(b, "tests/t.py::x");
    assert_string_equal(c, "tests/t.py::x");
    free(a);
    free(b);
    free(c);
}

static void key_is(const char *node_id, const char *classname, const char *name)
{
    char *key = nodeid_junit_key(node_id);
    char *want = xasprintf("%s\x1f%s", classname, name);
    assert_string_equal(key, want);
    free(key);
    free(want);
}

/* What pytest 7's mangle_test_address makes of these ids (the same ids are
 * held against real pytest's output below). */
static void junit_key_of_known_shapes(void **state)
{
    (void)state;
    key_is("tests/test_plain.py::test_a", "tests.test_plain", "test_a");
    key_is("tests/test_cls.py::TestA::test_m", "tests.test_cls.TestA", "test_m");
    key_is("tests/test_cls.py::TestOuter::TestInner::test_n", "tests.test_cls.TestOuter.TestInner",
           "test_n");
    key_is("tests/test_params.py::test_p[a::b]", "tests.test_params", "test_p[a::b]");
    key_is("tests/test_params.py::test_p[c[d]", "tests.test_params", "test_p[c[d]");
    key_is("tests/test_params.py::test_p[e.py]", "tests.test_params", "test_p[e.py]");
    key_is("tests/test_params.py::TestP::test_q[p::q::r]", "tests.test_params.TestP",
           "test_q[p::q::r]");
    key_is("test_top.py::test_top", "test_top", "test_top");
    key_is("a/b/test_deep.py::test_deep", "a.b.test_deep", "test_deep");
    key_is("tests/test_broken.py", "", "tests.test_broken"); /* a collection error */
    key_is("w[1]/test_br.py::test_z", "", "w[1]/test_br.py::test_z");
}

/* Runs of ':' split as Python's str.split("::") splits them, left to right
 * (the expectations are _pytest.junitxml.mangle_test_address's answers).
 * fuzz_run_events found ":::" aborting the whole process. */
static void junit_key_of_colon_runs(void **state)
{
    (void)state;
    key_is("tests/test_all.py:::est_flaky", "tests.test_all", ":est_flaky");
    key_is("a.py::::b", "a.", "b");
    key_is("a.py::b:::c", "a.b", ":c");
    key_is("a.py:::", "a", ":");
    key_is("x.py::T:::y[a:::b]", "x.T", ":y[a:::b]");
}

/* ---- against real pytest ---- */

static const char CONFTEST[] =
    "def _put(nodeid):\n"
    "    import os\n"
    "    with open(os.path.join(os.path.dirname(__file__), 'ids.txt'), 'a') as f:\n"
    "        f.write(nodeid + '\\n')\n"
    "def pytest_runtest_logreport(report):\n"
    "    if report.when == 'setup':\n"
    "        _put(report.nodeid)\n"
    "def pytest_collectreport(report):\n"
    "    if report.failed:\n"
    "        _put(report.nodeid)\n";

static const char PARAMS[] = "import pytest\n"
                             "@pytest.mark.parametrize('x', ['a::b', 'c[d', 'e.py', 'x/y'])\n"
                             "def test_p(x):\n"
                             "    assert x != 'x/y'\n"
                             "class TestP:\n"
                             "    @pytest.mark.parametrize('y', ['p::q::r', '[z]'])\n"
                             "    def test_q(self, y):\n"
                             "        pass\n";

static const char CLASSES[] = "import pytest\n"
                              "class TestA:\n"
                              "    def test_m(self):\n"
                              "        pass\n"
                              "    @pytest.mark.skip('no')\n"
                              "    def test_skipped(self):\n"
                              "        pass\n"
                              "class TestOuter:\n"
                              "    class TestInner:\n"
                              "        def test_n(self):\n"
                              "            assert False\n";

static void make_project(const char *dir)
{
    char *paths[] = {fs_join(dir, "tests"), fs_join(dir, "a/b"), fs_join(dir, "w[1]")};
    for (size_t i = 0; i < 3; i++) {
        assert_true(fs_mkdirs(paths[i]));
        free(paths[i]);
    }
    scratch_put(dir, "pytest.ini", "[pytest]\n");
    scratch_put(dir, "conftest.py", CONFTEST);
    scratch_put(dir, "tests/test_plain.py", "def test_a():\n    pass\n");
    scratch_put(dir, "tests/test_cls.py", CLASSES);
    scratch_put(dir, "tests/test_params.py", PARAMS);
    scratch_put(dir, "tests/test_broken.py", "raise ImportError('broken on purpose')\n");
    scratch_put(dir, "test_top.py", "def test_top():\n    pass\n");
    scratch_put(dir, "a/b/test_deep.py", "def test_deep():\n    pass\n");
    scratch_put(dir, "w[1]/test_br.py", "def test_z():\n    pass\n");
}

typedef struct {
    strlist_t keys; /* "classname\x1fname" of each <testcase> */
} junit_cases_t;

static void XMLCALL on_start(void *user, const XML_Char *name, const XML_Char **atts)
{
    junit_cases_t *c = user;
    if (strcmp(name, "testcase") != 0) return;
    const char *classname = NULL, *tname = NULL;
    for (size_t i = 0; atts[i]; i += 2) {
        if (strcmp(atts[i], "classname") == 0) classname = atts[i + 1];
        if (strcmp(atts[i], "name") == 0) tname = atts[i + 1];
    }
    assert_non_null(classname);
    assert_non_null(tname);
    strlist_push_owned(&c->keys, xasprintf("%s\x1f%s", classname, tname));
}

static void read_junit(const char *path, junit_cases_t *c)
{
    size_t len = 0;
    char *xml = fs_read_file(path, &len);
    assert_non_null(xml);
    XML_Parser p = XML_ParserCreate("UTF-8");
    XML_SetUserData(p, c);
    XML_SetStartElementHandler(p, on_start);
    assert_int_equal(XML_Parse(p, xml, (int)len, 1), XML_STATUS_OK);
    XML_ParserFree(p);
    free(xml);
}

/* Runs real pytest in dir with the JUnit writer on; its exit code. */
static int run_pytest(const char *dir, const char *junit)
{
    char *junit_opt = xasprintf("--junit-xml=%s", junit);
    char *const argv[] = {"/usr/bin/python3",
                          "-m",
                          "pytest",
                          "-p",
                          "no:cacheprovider",
                          "-q",
                          "--continue-on-collection-errors",
                          junit_opt,
                          NULL};
    strlist_t env;
    strlist_init(&env);
    childenv_build(&env);
    childenv_set(&env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1");
    childenv_set(&env, "PYTHONDONTWRITEBYTECODE", "1");
    childenv_set(&env, "PYTEST_ADDOPTS", "");
    buf_t out = BUF_INIT;
    process_opts_t o = {.argv = argv, .env = &env, .capture = &out, .cwd = dir, .timeout_s = 600};
    process_result_t r;
    process_run(&o, &r);
    if (r.start_failed) fail_msg("cannot run /usr/bin/python3: %s", r.error);
    assert_false(r.timed_out);
    int code = r.exit_code;
    if (code != 1) fprintf(stderr, "pytest said:\n%s\n", out.data ? out.data : "");
    process_result_free(&r);
    buf_free(&out);
    strlist_free(&env);
    free(junit_opt);
    return code;
}

/* Every node id pytest reported becomes, through nodeid_junit_key, the
 * classname and name pytest's own JUnit writer wrote for it. */
static void junit_key_matches_real_pytest(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-junitkey");
    make_project(dir);
    char *junit = fs_join(dir, "out.xml");
    assert_int_equal(run_pytest(dir, junit), 1); /* test_n and a param fail; one broken file */

    junit_cases_t cases;
    strlist_init(&cases.keys);
    read_junit(junit, &cases);
    strset_t written = STRSET_INIT;
    strset_add_list(&written, &cases.keys);

    char *ids_path = fs_join(dir, "ids.txt");
    char *ids_text = fs_read_file(ids_path, NULL);
    assert_non_null(ids_text);
    strlist_t ids;
    strlist_init(&ids);
    strlist_push_lines(&ids, ids_text);
    assert_int_equal(ids.len, 14); /* 13 tests and the broken file */
    assert_int_equal(ids.len, cases.keys.len);
    for (size_t i = 0; i < ids.len; i++) {
        char *key = nodeid_junit_key(ids.items[i]);
        if (!strset_has(&written, key))
            fail_msg("%s: our key '%s' is not among pytest's testcases", ids.items[i], key);
        free(key);
    }
    /* the shapes the unit test above names are among them */
    const char *must[] = {"tests/test_cls.py::TestOuter::TestInner::test_n",
                          "tests/test_params.py::test_p[a::b]",
                          "tests/test_params.py::test_p[c[d]",
                          "tests/test_params.py::test_p[e.py]",
                          "tests/test_params.py::TestP::test_q[p::q::r]",
                          "test_top.py::test_top",
                          "a/b/test_deep.py::test_deep",
                          "tests/test_broken.py",
                          "w[1]/test_br.py::test_z"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        if (!strlist_contains(&ids, must[i])) fail_msg("pytest reported no %s", must[i]);

    strset_free(&written);
    strlist_free(&cases.keys);
    strlist_free(&ids);
    free(ids_text);
    free(ids_path);
    free(junit);
    scratch_dir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prefix_same_below_outside),
        cmocka_unit_test(prefix_through_symlinks),
        cmocka_unit_test(prefix_of_a_collector_record),
        cmocka_unit_test(id_of_a_record),
        cmocka_unit_test(join),
        cmocka_unit_test(junit_key_of_known_shapes),
        cmocka_unit_test(junit_key_matches_real_pytest),
        cmocka_unit_test(junit_key_of_colon_runs), /* last: it aborted the process */
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
