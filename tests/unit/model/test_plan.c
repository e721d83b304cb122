/* plan: the plan model. A new plan has one empty task per job with an
 * unknown estimate; plan_split_of finds the split file of a path or node id
 * by its exact file part; plan_free leaves nothing behind (ASan checks). */
#include "unit.h"
#include "base/buf.h"
#include "model/plan.h"

static void a_new_plan_is_empty_and_unknown(void **state)
{
    (void)state;
    plan_t p;
    plan_init(&p, 3);
    assert_int_equal(p.parallelism, 3);
    for (long j = 0; j < 3; j++) {
        assert_int_equal(p.tasks[j].run.len, 0);
        assert_true(p.tasks[j].estimated_s == -1);
    }
    assert_string_equal(p.reason, "");
    assert_string_equal(p.identifier, "");
    assert_int_equal(p.n_muted + p.n_splits + p.skipped.len + p.rejected.len, 0);
    strlist_push(&p.tasks[2].run, "a.py");
    plan_free(&p);
    assert_null(p.tasks);
    assert_int_equal(p.parallelism, 0);
}

static void every_source_has_a_name(void **state)
{
    (void)state;
    assert_string_equal(plan_source_name(PLAN_SERVER_CACHED), "server (cached plan)");
    assert_string_equal(plan_source_name(PLAN_SERVER_CREATED), "server (new plan)");
    assert_string_equal(plan_source_name(PLAN_FALLBACK), "fallback");
    assert_string_equal(plan_source_name(PLAN_RETRY_SELECTORS), "retry selectors");
}

static void add_split(plan_t *p, const char *path)
{
    p->splits = xrealloc(p->splits, (p->n_splits + 1) * sizeof *p->splits);
    p->splits[p->n_splits++] = (plan_split_t){.path = xstrdup(path), .rest_job = 0};
}

/* Splits sorted by path, as the fallback makes them: the lookup is a binary
 * search on the entry's file part (before the first "::"). */
static void split_of_finds_the_file_part(void **state)
{
    (void)state;
    plan_t p;
    plan_init(&p, 2);
    assert_null(plan_split_of(&p, "a.py")); /* no splits: nothing, not an error */
    const char *paths[] = {"a.py", "b/c.py", "b/c.pyx", "d.py", "z.py"};
    for (size_t i = 0; i < 5; i++) add_split(&p, paths[i]);
    for (size_t i = 0; i < 5; i++) {
        const plan_split_t *s = plan_split_of(&p, paths[i]);
        assert_non_null(s);
        assert_string_equal(s->path, paths[i]);
    }
    assert_ptr_equal(plan_split_of(&p, "b/c.py::T::test[a::b]"), &p.splits[1]);
    assert_ptr_equal(plan_split_of(&p, "z.py::t"), &p.splits[4]);
    assert_null(plan_split_of(&p, "b/c"));
    assert_null(plan_split_of(&p, "b/c.p::t"));
    assert_null(plan_split_of(&p, "c.py"));
    assert_null(plan_split_of(&p, ""));
    plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_new_plan_is_empty_and_unknown),
        cmocka_unit_test(every_source_has_a_name),
        cmocka_unit_test(split_of_finds_the_file_part),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
