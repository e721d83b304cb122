/* argsplit: grouping selectors so that each pytest command line fits. */
#include "unit.h"
#include "run/run_argsplit.h"
#include "base/buf.h"
#include <unistd.h>

static void costs(void **state)
{
    (void)state;
    assert_int_equal(run_argsplit_cost("abc"), 4 + sizeof(char *));
    strlist_t l;
    strlist_init(&l);
    strlist_push(&l, "a");
    strlist_push(&l, "bc");
    assert_int_equal(run_argsplit_list_cost(&l), 2 + 3 + 3 * sizeof(char *));
    strlist_free(&l);
    /* The budget is a quarter of what the environment leaves of ARG_MAX. */
    strlist_t env;
    strlist_init(&env);
    size_t arg_max = (size_t)sysconf(_SC_ARG_MAX);
    assert_int_equal(run_argsplit_budget(&env), (arg_max - sizeof(char *)) / 4);
    strlist_push_owned(&env, xasprintf("BIG=%0*d", 100000, 0));
    assert_int_equal(run_argsplit_budget(&env),
                     (arg_max - sizeof(char *) - (100005 + sizeof(char *))) / 4);
    /* An environment that takes it all leaves nothing. */
    strlist_push_owned(&env, xasprintf("HUGE=%0*d", (int)arg_max, 0));
    assert_int_equal(run_argsplit_budget(&env), 0);
    strlist_free(&env);
}

static size_t group_size(const run_argsplit_t *g, size_t i)
{
    return g->end[i] - (i ? g->end[i - 1] : 0);
}

static void groups_fit_the_budget(void **state)
{
    (void)state;
    strlist_t sel;
    strlist_init(&sel);
    for (int i = 0; i < 100; i++)
        strlist_push_owned(&sel, xasprintf("tests/test_%03d.py", i)); /* 18 bytes + 8 each */
    size_t each = run_argsplit_cost(sel.items[0]);
    run_argsplit_t g;
    char *err = NULL;
    /* Everything fits: one group, the normal case. */
    assert_true(run_argsplit_groups(&sel, 100, 100 + 100 * each, &g, &err));
    assert_int_equal(g.n, 1);
    assert_int_equal(g.end[0], 100);
    run_argsplit_free(&g);
    /* Ten per group: consecutive, in order, nothing lost. */
    assert_true(run_argsplit_groups(&sel, 100, 100 + 10 * each + each - 1, &g, &err));
    assert_int_equal(g.n, 10);
    for (size_t i = 0; i < g.n; i++) assert_int_equal(group_size(&g, i), 10);
    assert_int_equal(g.end[g.n - 1], 100);
    run_argsplit_free(&g);
    /* One per group is still possible. */
    assert_true(run_argsplit_groups(&sel, 100, 100 + each, &g, &err));
    assert_int_equal(g.n, 100);
    run_argsplit_free(&g);
    /* No room for a single entry: a clear error, not an endless split. */
    assert_false(run_argsplit_groups(&sel, 100, 100 + each - 1, &g, &err));
    assert_non_null(
        strstr(err, "leave 25 bytes for test entries, too few for 'tests/test_000.py'"));
    free(err);
    strlist_free(&sel);
}

static void one_argument_too_long(void **state)
{
    (void)state;
    strlist_t sel;
    strlist_init(&sel);
    strlist_push(&sel, "a.py");
    strlist_push_owned(&sel, xasprintf("b.py::test[%0*d]", RUN_ARGSPLIT_MAX_STRING, 7));
    run_argsplit_t g;
    char *err = NULL;
    assert_false(run_argsplit_groups(&sel, 0, (size_t)1 << 30, &g, &err));
    assert_non_null(strstr(err, "more than one argument may hold (131072); shorten that test id"));
    free(err);
    strlist_free(&sel);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(costs),
        cmocka_unit_test(groups_fit_the_budget),
        cmocka_unit_test(one_argument_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
