#include "unit.h"
#include "plan.h"
#include "selector.h"

static void parses_tasks_selectors_and_muted(void **state)
{
    (void)state;
    plan_t p;
    plan_init(&p, 2);
    bool empty = true;
    char *err = NULL;
    const char *body =
        "{\"identifier\":\"id\",\"tasks\":{\"0\":{\"node_number\":0,\"tests\":["
        "{\"path\":\"svc/tests/a.py\",\"format\":\"file\",\"estimated_duration\":1500},"
        "{\"format\":\"selector\",\"value\":\"tests/b.py::test_x[a b]\",\"path\":\"ignored\"}]},"
        "\"1\":{\"tests\":[{\"path\":\"svc/tests/c.py\"}]}},"
        "\"muted_tests\":[{\"scope\":\"tests/a.py\",\"name\":\"test_m\"}],"
        "\"skipped_tests\":[{\"scope\":\"tests/a.py\",\"name\":\"test_s\"}]}";
    assert_true(plan_parse_server(&p, body, "svc/", &empty, &err));
    assert_false(empty);
    assert_int_equal(p.tasks[0].run.len, 2);
    assert_string_equal(p.tasks[0].run.items[0], "tests/a.py");
    assert_string_equal(p.tasks[0].run.items[1], "tests/b.py::test_x[a b]");
    assert_float_equal(p.tasks[0].estimated_s, 1.5, 1e-9);
    assert_string_equal(p.tasks[1].run.items[0], "tests/c.py");
    assert_int_equal(p.n_muted, 1);
    assert_string_equal(p.muted[0].name, "test_m");
    assert_string_equal(p.skipped.items[0], "tests/a.py test_s");
    plan_free(&p);
}

static void empty_and_invalid(void **state)
{
    (void)state;
    plan_t p;
    plan_init(&p, 1);
    bool empty = false;
    char *err = NULL;
    assert_true(plan_parse_server(&p, "{\"tasks\":{}}", "", &empty, &err));
    assert_true(empty);
    assert_true(plan_parse_server(&p, "{}", "", &empty, &err));
    assert_true(empty);
    assert_false(plan_parse_server(&p, "{\"tasks\":", "", &empty, &err));
    assert_non_null(err);
    free(err);
    plan_free(&p);
}

static void hostile_entries_rejected(void **state)
{
    (void)state;
    plan_t p;
    plan_init(&p, 2);
    bool empty;
    char *err = NULL;
    const char *body =
        "{\"tasks\":{\"0\":{\"tests\":[{\"path\":\"/abs.py\"},{\"path\":\"a/../../b.py\"},"
        "{\"path\":\"-x\"},{\"path\":\"a\\u0000b.py\"},{\"path\":\"ok.py\"}]},"
        "\"7\":{\"tests\":[{\"path\":\"x.py\"}]}}}";
    assert_true(plan_parse_server(&p, body, "", &empty, &err));
    assert_int_equal(p.tasks[0].run.len, 1);
    assert_string_equal(p.tasks[0].run.items[0], "ok.py");
    assert_int_equal(p.rejected.len, 5); /* 4 entries + the task index 7 */
    plan_free(&p);
}

static void selector_rules(void **state)
{
    (void)state;
    assert_null(selector_problem("tests/a.py::T::test[x y]", 24));
    assert_null(selector_problem("tests/a.py::test[a::b]", 22));
    assert_non_null(selector_problem("", 0));
    assert_non_null(selector_problem("-k", 2));
    assert_non_null(selector_problem("/etc/passwd", 11));
    assert_non_null(selector_problem("a/../../x.py", 12));
    assert_non_null(selector_problem("a\nb", 3));
    assert_non_null(selector_problem("a\0b", 3));
    assert_non_null(selector_problem("~/x.py", 6));
    /* ".." inside a parametrize id is not a path component */
    assert_null(selector_problem("t.py::test[..]", 14));
}

static char *slice_text(const plan_t *p, long j)
{
    size_t n = 1;
    for (size_t i = 0; i < p->tasks[j].run.len; i++) n += strlen(p->tasks[j].run.items[i]) + 1;
    char *s = calloc(n, 1);
    for (size_t i = 0; i < p->tasks[j].run.len; i++) {
        strcat(s, p->tasks[j].run.items[i]);
        strcat(s, ",");
    }
    return s;
}

static void round_robin_is_byte_sorted(void **state)
{
    (void)state;
    strlist_t files;
    strlist_init(&files);
    const char *in[] = {"e", "b", "a", "d", "c", "B"};
    for (int i = 0; i < 6; i++) strlist_push(&files, in[i]);
    plan_t p;
    plan_init(&p, 2);
    plan_fallback(&p, &files, NULL);
    char *a = slice_text(&p, 0), *b = slice_text(&p, 1);
    assert_string_equal(a, "B,b,d,");
    assert_string_equal(b, "a,c,e,");
    free(a);
    free(b);
    plan_free(&p);
    plan_init(&p, 8); /* fewer files than jobs: empty tasks are fine */
    plan_fallback(&p, &files, NULL);
    assert_int_equal(p.tasks[7].run.len, 0);
    plan_free(&p);
    strlist_free(&files);
}

static void lpt_balances(void **state)
{
    (void)state;
    durations_t d = {0};
    const char *paths[] = {"a", "b", "c", "d", "e"};
    double secs[] = {7, 5, 4, 3, 3};
    d.len = 5;
    d.paths = (char **)paths;
    d.seconds = secs;
    strlist_t files;
    strlist_init(&files);
    for (int i = 0; i < 5; i++) strlist_push(&files, paths[i]);
    strlist_push(&files, "unknown");
    plan_t p;
    plan_init(&p, 2);
    plan_fallback(&p, &files, &d);
    /* unknown = mean 4.4, total 26.4, bound 13.2. LPT: a7->0, b5->1, unknown4.4->1 (9.4),
     * c4->0 (11), d3->1 (12.4), e3->0 (14): makespan 14. */
    double total = p.tasks[0].estimated_s + p.tasks[1].estimated_s;
    assert_float_equal(total, 26.4, 1e-9);
    assert_float_equal(p.lower_bound_s, 13.2, 1e-9);
    double makespan = p.tasks[0].estimated_s > p.tasks[1].estimated_s ? p.tasks[0].estimated_s
                                                                      : p.tasks[1].estimated_s;
    assert_float_equal(makespan, 14.0, 1e-9);
    assert_int_equal(p.tasks[0].run.len + p.tasks[1].run.len, 6);
    plan_free(&p);
    strlist_free(&files);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_tasks_selectors_and_muted), cmocka_unit_test(empty_and_invalid),
        cmocka_unit_test(hostile_entries_rejected),         cmocka_unit_test(selector_rules),
        cmocka_unit_test(round_robin_is_byte_sorted),       cmocka_unit_test(lpt_balances),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
