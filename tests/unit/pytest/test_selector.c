/* The node-id grammar that guards pytest's argv, location-prefix stripping at
 * component boundaries, symlinks out of the checkout, and hostile plan keys
 * and estimates. */
#include "unit.h"
#include "base/buf.h"
#include "model/plan.h"
#include "plan/plan_json.h"
#include "net/engine_api.h"
#include "scratch.h"
#include "pytest/selector.h"
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *problem(const char *s)
{
    return selector_problem(s, strlen(s));
}

static void at_files_are_refused(void **state)
{
    (void)state;
    /* pytest >= 8.2 reads "@file" as a file of more arguments */
    assert_non_null(problem("@args.txt"));
    assert_non_null(strstr(problem("@tests/a.py"), "'@'"));
    assert_null(problem("tests/@home/test_a.py")); /* not leading: just a name */
}

static void control_characters_are_refused(void **state)
{
    (void)state;
    const char *bad[] = {"a\tb.py",       "a\x7f.py", "a\x1b[31m.py",
                         "a.py::t[\x01]", "a.py\v",   "a\x08.py"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (!problem(bad[i])) fail_msg("selector %zu accepted", i);
    assert_null(problem(
        "tests/t\xc3\xa9st.py::test_\xc3\x9f[h\xc3\xa9llo w\xc3\xb6rld]")); /* UTF-8 is fine */
}

static void node_id_grammar(void **state)
{
    (void)state;
    const char *good[] = {"tests/a.py",
                          "tests/",
                          "tests",
                          "./tests/a.py",
                          "a.py::test_x",
                          "a.py::T::U::test[1-2]",
                          "a.py::test[a::b]",
                          "a.py::test[::]",
                          "a.py::test[]",
                          "a.py::test[x [y] z]",
                          "a.py::test[with space]",
                          "a-b/c_d.py::test"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (problem(good[i])) fail_msg("'%s' refused: %s", good[i], problem(good[i]));
    const char *bad[] = {"a.py::",    "a.py::::t", "a.py::t::", "::t",  "a.py::t[x",
                         "a/../b.py", "../a.py",   "..",        "a/..", "-p",
                         "--x",       "/abs.py",   "~/a.py",    ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (!problem(bad[i])) fail_msg("'%s' accepted", bad[i]);
    assert_non_null(selector_problem("a.py\0-x", 7));
}

static void prefix_stripping_stops_at_component_boundary(void **state)
{
    (void)state;
    assert_string_equal(selector_strip_prefix("tests", "tests_integration/a.py"),
                        "tests_integration/a.py");
    assert_string_equal(selector_strip_prefix("tests", "tests/a.py"), "a.py");
    assert_string_equal(selector_strip_prefix("tests/", "tests/a.py"), "a.py");
    assert_string_equal(selector_strip_prefix("tests/", "tests_x/a.py"), "tests_x/a.py");
    assert_string_equal(selector_strip_prefix("svc", "svc"), "");
    assert_string_equal(selector_strip_prefix("svc", "svc//a.py"), "a.py");
    assert_string_equal(selector_strip_prefix("./", "./a.py"), "a.py");
    assert_string_equal(selector_strip_prefix("", "a.py"), "a.py");
    assert_string_equal(selector_strip_prefix(NULL, "a.py"), "a.py");
    /* the plan API's own stripper is the same function */
    assert_string_equal(engine_api_unprefixed("tests", "tests_integration/a.py"),
                        "tests_integration/a.py");
    assert_string_equal(engine_api_unprefixed("tests", "tests/b.py"), "b.py");

    plan_t p;
    plan_init(&p, 1);
    char *err = NULL;
    const char *body = "{\"tasks\":{\"0\":{\"tests\":[{\"path\":\"tests_integration/"
                       "a.py\"},{\"path\":\"tests/b.py\"}]}}}";
    assert_true(plan_json_parse(&p, body, "tests", PLAN_JSON_ALL_JOBS, NULL, NULL, &err));
    assert_int_equal(p.tasks[0].run.len, 2);
    assert_string_equal(p.tasks[0].run.items[0], "tests_integration/a.py");
    assert_string_equal(p.tasks[0].run.items[1], "b.py");
    plan_free(&p);
}

/* Runs in a fresh checkout directory next to an "outside" directory. */
typedef struct {
    char root[64];
    char cwd[PATH_MAX];
} sandbox_t;

static void sandbox_enter(sandbox_t *s)
{
    assert_non_null(getcwd(s->cwd, sizeof s->cwd));
    scratch_dir(s->root, sizeof s->root, "tep-sel");
    char *checkout = xasprintf("%s/checkout", s->root), *outside = xasprintf("%s/outside", s->root);
    assert_int_equal(mkdir(checkout, 0700), 0);
    assert_int_equal(mkdir(outside, 0700), 0);
    assert_int_equal(chdir(checkout), 0);
    free(checkout);
    free(outside);
}

static void sandbox_leave(sandbox_t *s)
{
    assert_int_equal(chdir(s->cwd), 0);
    scratch_dir_remove(s->root);
}

static void symlinks_out_of_the_checkout_are_refused(void **state)
{
    (void)state;
    sandbox_t s;
    sandbox_enter(&s);
    assert_int_equal(mkdir("tests", 0700), 0);
    assert_int_equal(symlink("../outside", "out"), 0); /* a directory outside */
    assert_int_equal(symlink("../outside/gone/deeper", "dangling"), 0);
    assert_int_equal(symlink("tests", "in"), 0); /* stays inside */
    assert_int_equal(symlink("loop", "loop"), 0);
    /* not there yet, but behind a link that leads out */
    assert_string_equal(problem("out/test_new.py"), "resolves outside the checkout");
    assert_string_equal(problem("out/a/b/test_new.py::t"), "resolves outside the checkout");
    assert_string_equal(problem("out"), "resolves outside the checkout");
    assert_non_null(problem("dangling/test_a.py"));
    assert_non_null(problem("dangling"));
    assert_non_null(problem("loop/test_a.py"));
    assert_null(problem("in/test_new.py"));
    assert_null(problem("tests/test_new.py"));
    assert_null(problem("not_yet/test_new.py"));
    assert_null(problem("tests//test_new.py"));
    sandbox_leave(&s);
}

/* One guard asked many selectors gives each the answer selector_problem
 * gives alone, in any order, from its cache or not; a file that is itself a
 * link out is refused in a folder already known to be inside. */
static void guard_answers_like_one_check_each(void **state)
{
    (void)state;
    sandbox_t s;
    sandbox_enter(&s);
    assert_int_equal(mkdir("tests", 0700), 0);
    assert_int_equal(mkdir("tests/sub", 0700), 0);
    const char *files[] = {"tests/test_a.py", "../outside/x.py"};
    for (size_t i = 0; i < 2; i++) {
        FILE *f = fopen(files[i], "w");
        assert_non_null(f);
        fclose(f);
    }
    assert_int_equal(mkdir("../outside/back", 0700), 0);
    assert_int_equal(symlink("../outside", "out"), 0);
    assert_int_equal(symlink("../outside/gone/deeper", "dangling"), 0);
    assert_int_equal(symlink("tests", "in"), 0);
    assert_int_equal(symlink("loop", "loop"), 0);
    assert_int_equal(symlink("../../outside/x.py", "tests/evil.py"), 0);
    assert_int_equal(symlink("../test_a.py", "tests/sub/test_up.py"), 0);
    char here[PATH_MAX];
    assert_non_null(getcwd(here, sizeof here));
    char *in_again = xasprintf("%s/tests", here); /* absolute: back into the checkout */
    assert_int_equal(symlink(in_again, "../outside/back/in"), 0);
    free(in_again);
    const struct {
        const char *selector;
        const char *why;
    } cases[] = {
        {"tests/test_a.py", NULL},
        {"tests/test_a.py::test_x", NULL},
        {"tests/sub/test_b.py::T::t[1]", NULL},
        {"tests/sub/test_up.py", NULL}, /* a link that stays inside */
        {"tests//sub/test_c.py", NULL},
        {"./tests/test_a.py", NULL},
        {"tests/", NULL},
        {"not_yet/deeper/test_new.py", NULL},
        {"in/test_new.py", NULL},
        {"in/sub/test_b.py", NULL},
        {"tests/evil.py", "resolves outside the checkout"},
        {"tests/evil.py::test_x", "resolves outside the checkout"},
        {"out/test_new.py", "resolves outside the checkout"},
        {"out/a/b/test_new.py::t", "resolves outside the checkout"},
        {"out", "resolves outside the checkout"},
        /* out of the checkout and back in: refused (the old one-shot check
         * resolved it whole and let it through) */
        {"out/back/in/test_a.py", "resolves outside the checkout"},
        {"dangling/test_a.py", "goes through a symlink that does not resolve"},
        {"dangling", "goes through a symlink that does not resolve"},
        {"loop/test_a.py", "goes through a symlink that does not resolve"},
        {"-k", "starts with '-' and would be read as a pytest option"},
    };
    size_t n = sizeof cases / sizeof cases[0];
    selector_guard_t g;
    selector_guard_init(&g);
    for (int round = 0; round < 2; round++) {
        for (size_t k = 0; k < n; k++) {
            size_t i = round == 0 ? k : n - 1 - k; /* the second round: reversed, all cached */
            const char *sel = cases[i].selector;
            const char *got = selector_guard_problem(&g, sel, strlen(sel));
            const char *alone = selector_problem(sel, strlen(sel));
            if (!cases[i].why ? got != NULL : !got || strcmp(got, cases[i].why) != 0)
                fail_msg("round %d: '%s': got %s, expected %s", round, sel, got ? got : "ok",
                         cases[i].why ? cases[i].why : "ok");
            if ((got == NULL) != (alone == NULL) || (got && strcmp(got, alone) != 0))
                fail_msg("'%s': the guard says %s, selector_problem %s", sel, got ? got : "ok",
                         alone ? alone : "ok");
        }
    }
    /* Paths past PATH_MAX: the parts the kernel can look up decide. */
    buf_t deep = BUF_INIT, out_deep = BUF_INIT;
    buf_puts(&out_deep, "out/");
    for (int i = 0; i < 5000; i++) {
        buf_puts(&deep, "d/");
        buf_puts(&out_deep, "d/");
    }
    buf_puts(&deep, "test_deep.py");
    buf_puts(&out_deep, "test_deep.py");
    assert_null(selector_guard_problem(&g, deep.data, deep.len));
    assert_string_equal(selector_guard_problem(&g, out_deep.data, out_deep.len),
                        "resolves outside the checkout");
    assert_null(selector_problem(deep.data, deep.len));
    buf_free(&deep);
    buf_free(&out_deep);
    selector_guard_free(&g);
    sandbox_leave(&s);
}

/* The guard's cost: one remembered verdict per distinct folder and file,
 * however many node ids name them, and nothing new the second time. */
static void guard_remembers_each_folder_and_file_once(void **state)
{
    (void)state;
    sandbox_t s;
    sandbox_enter(&s);
    assert_int_equal(mkdir("tests", 0700), 0);
    selector_guard_t g;
    selector_guard_init(&g);
    for (int round = 0; round < 2; round++) {
        for (int d = 0; d < 10; d++) {
            char dir[32];
            snprintf(dir, sizeof dir, "tests/pkg%d", d);
            if (round == 0) assert_int_equal(mkdir(dir, 0700), 0);
            for (int f = 0; f < 10; f++) {
                for (int t = 0; t < 3; t++) {
                    char *id = xasprintf("%s/test_%d.py::test_%d", dir, f, t);
                    assert_null(selector_guard_problem(&g, id, strlen(id)));
                    free(id);
                }
            }
        }
        assert_int_equal(g.len, 1 + 10 + 100); /* tests, its 10 folders, 100 files */
    }
    selector_guard_free(&g);
    sandbox_leave(&s);
}

/* Only this job's entries are read: its link out of the checkout is
 * refused; another job's part is not even parsed (that job refuses its own);
 * PLAN_JSON_ALL_JOBS reads and refuses both. */
static void plan_checks_only_this_jobs_entries_against_the_file_system(void **state)
{
    (void)state;
    sandbox_t s;
    sandbox_enter(&s);
    assert_int_equal(symlink("../outside", "out"), 0);
    const char *body =
        "{\"tasks\":{\"0\":{\"tests\":[{\"path\":\"out/a.py\"},{\"path\":\"ok.py\"}]},"
        "\"1\":{\"tests\":[{\"path\":\"out/b.py\"},{\"path\":\"-x\"}]}}}";
    plan_t p;
    plan_init(&p, 2);
    char *err = NULL;
    assert_true(plan_json_parse(&p, body, "", 0, NULL, NULL, &err));
    assert_int_equal(p.tasks[0].run.len, 1);
    assert_string_equal(p.tasks[0].run.items[0], "ok.py");
    assert_int_equal(p.tasks[1].run.len, 0);
    assert_int_equal(p.rejected.len, 1); /* out/a.py */
    plan_free(&p);
    plan_init(&p, 2);
    assert_true(plan_json_parse(&p, body, "", PLAN_JSON_ALL_JOBS, NULL, NULL, &err));
    assert_int_equal(p.tasks[0].run.len, 1);
    assert_int_equal(p.tasks[1].run.len, 0);
    assert_int_equal(p.rejected.len, 3);
    plan_free(&p);
    sandbox_leave(&s);
}

static void hostile_plan_keys_and_estimates(void **state)
{
    (void)state;
    plan_t p;
    plan_init(&p, 2);
    char *err = NULL;
    /* "" once parsed as job 0 (strtol of nothing); 1e999 is infinity in cJSON */
    const char *body =
        "{\"tasks\":{\"\":{\"tests\":[{\"path\":\"x.py\"}]},\" "
        "1\":{\"tests\":[{\"path\":\"y.py\"}]},"
        "\"+1\":{\"tests\":[{\"path\":\"y.py\"}]},\"-0\":{\"tests\":[{\"path\":\"y.py\"}]},"
        "\"99999999999999999999\":{\"tests\":[{\"path\":\"y.py\"}]},"
        "\"0\":{\"tests\":[{\"path\":\"a.py\",\"estimated_duration\":1e999},"
        "{\"path\":\"b.py\",\"estimated_duration\":-5}]},"
        "\"1\":{\"tests\":[{\"path\":\"c.py\",\"estimated_duration\":2000},{\"path\":\"@args\"}]}}"
        "}";
    assert_true(plan_json_parse(&p, body, "", PLAN_JSON_ALL_JOBS, NULL, NULL, &err));
    assert_int_equal(p.tasks[0].run.len, 2);
    assert_true(p.tasks[0].estimated_s < 0); /* no plausible estimate: unknown */
    assert_int_equal(p.tasks[1].run.len, 1);
    assert_float_equal(p.tasks[1].estimated_s, 2.0, 1e-9);
    assert_int_equal(p.rejected.len, 6); /* five keys and '@args' */
    bool saw_at = false;
    for (size_t i = 0; i < p.rejected.len; i++)
        saw_at = saw_at || strstr(p.rejected.items[i], "'@args'");
    assert_true(saw_at);
    plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(at_files_are_refused),
        cmocka_unit_test(control_characters_are_refused),
        cmocka_unit_test(node_id_grammar),
        cmocka_unit_test(prefix_stripping_stops_at_component_boundary),
        cmocka_unit_test(symlinks_out_of_the_checkout_are_refused),
        cmocka_unit_test(guard_answers_like_one_check_each),
        cmocka_unit_test(guard_remembers_each_folder_and_file_once),
        cmocka_unit_test(plan_checks_only_this_jobs_entries_against_the_file_system),
        cmocka_unit_test(hostile_plan_keys_and_estimates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
