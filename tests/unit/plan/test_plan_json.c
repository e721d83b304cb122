/* plan_json: Test Engine's plan answer read into the plan model. */
#include "unit.h"
#include "model/plan.h"
#include "plan/plan_json.h"
#include "pytest/selector.h"
#include <stdio.h>

static void parses_tasks_selectors_and_muted(void **state)
{
    (void)state;
    plan_t p;
    plan_init(&p, 2);
    char *err = NULL;
    const char *body =
        "{\"identifier\":\"id\",\"tasks\":{\"0\":{\"node_number\":0,\"tests\":["
        "{\"path\":\"svc/tests/a.py\",\"format\":\"file\",\"estimated_duration\":1500},"
        "{\"format\":\"selector\",\"value\":\"tests/b.py::test_x[a b]\",\"path\":\"ignored\"}]},"
        "\"1\":{\"tests\":[{\"path\":\"svc/tests/c.py\"}]}},"
        "\"muted_tests\":[{\"scope\":\"tests/a.py\",\"name\":\"test_m\"}],"
        "\"skipped_tests\":[{\"scope\":\"tests/a.py\",\"name\":\"test_s\"}]}";
    assert_true(plan_json_parse(&p, body, "svc/", PLAN_JSON_ALL_JOBS, NULL, NULL, &err));
    assert_null(err);
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
    char *err = NULL;
    /* No tasks: no plan to run, with the reason the fallback gives. */
    assert_false(plan_json_parse(&p, "{\"tasks\":{}}", "", PLAN_JSON_ALL_JOBS, NULL, NULL, &err));
    assert_string_equal(err,
                        "Error Plan: the Test Engine API answered with a plan that has no tasks");
    assert_false(plan_json_parse(&p, "{}", "", PLAN_JSON_ALL_JOBS, NULL, NULL, &err));
    assert_non_null(strstr(err, "no tasks"));
    assert_false(plan_json_parse(&p, "{\"tasks\":", "", PLAN_JSON_ALL_JOBS, NULL, NULL, &err));
    assert_string_equal(
        err, "Invalid Plan: the plan API answered with something that is not a JSON object");
    free(err);
    plan_free(&p);
}

static void hostile_entries_rejected(void **state)
{
    (void)state;
    plan_t p;
    plan_init(&p, 2);
    char *err = NULL;
    const char *body =
        "{\"tasks\":{\"0\":{\"tests\":[{\"path\":\"/abs.py\"},{\"path\":\"a/../../b.py\"},"
        "{\"path\":\"-x\"},{\"path\":\"a\\u0000b.py\"},{\"path\":\"ok.py\"}]},"
        "\"7\":{\"tests\":[{\"path\":\"x.py\"}]}}}";
    assert_true(plan_json_parse(&p, body, "", PLAN_JSON_ALL_JOBS, NULL, NULL, &err));
    assert_int_equal(p.tasks[0].run.len, 1);
    assert_string_equal(p.tasks[0].run.items[0], "ok.py");
    assert_int_equal(p.rejected.len, 5); /* 4 entries + the task index 7 */
    plan_free(&p);
}

/* Only a real \u0000 escape is a NUL: an escaped backslash before "u0000"
 * is a backslash and text, whatever escapes come before it. */
static void nul_escapes_told_from_escaped_backslashes(void **state)
{
    (void)state;
    plan_t p;
    plan_init(&p, 1);
    char *err = NULL;
    const char *body = "{\"tasks\":{\"0\":{\"tests\":[{\"path\":\"a\\\\u0000.py\"},"
                       "{\"path\":\"b\\\"\\u0000.py\"},{\"path\":\"c\\\\\\u0000.py\"},"
                       "{\"path\":\"d\\\\\\\\u0000.py\"}]}}}";
    assert_true(plan_json_parse(&p, body, "", PLAN_JSON_ALL_JOBS, NULL, NULL, &err));
    assert_int_equal(p.tasks[0].run.len, 2);
    assert_string_equal(p.tasks[0].run.items[0], "a\\u0000.py");
    assert_string_equal(p.tasks[0].run.items[1], "d\\\\u0000.py");
    assert_int_equal(p.rejected.len, 2); /* b and c: a NUL */
    plan_free(&p);
}

/* A plan is read for one job: the other jobs' tasks are cut out, not
 * parsed, so a broken one does not stop this job (it is that job's to
 * refuse); this job's broken task, a broken whole or a task key that is not a
 * job index are still caught, and PLAN_JSON_ALL_JOBS reads every task. */
static void only_this_jobs_task_is_read(void **state)
{
    (void)state;
    const char *body =
        "  {\"identifier\":\"i\",\"tasks\":{\"0\":{\"tests\":[{\"path\":\"a.py\","
        "\"estimated_duration\":1500}]},\"1\":{\"tests\":[{\"path\":1,,}]},\"x\":{}},"
        "\"muted_tests\":[{\"scope\":\"s\",\"name\":\"n\"}]}";
    plan_t p;
    plan_init(&p, 2);
    char *err = NULL;
    assert_true(plan_json_parse(&p, body, "", 0, NULL, NULL, &err));
    assert_string_equal(p.identifier, "i");
    assert_int_equal(p.tasks[0].run.len, 1);
    assert_float_equal(p.tasks[0].estimated_s, 1.5, 1e-9);
    assert_int_equal(p.tasks[1].run.len, 0);
    assert_true(p.tasks[1].estimated_s < 0);
    assert_int_equal(p.rejected.len, 1); /* the key "x" */
    assert_int_equal(p.n_muted, 1);
    plan_free(&p);
    plan_init(&p, 2);
    assert_false(plan_json_parse(&p, body, "", 1, NULL, NULL, &err));
    assert_non_null(strstr(err, "Invalid Plan"));
    free(err);
    err = NULL;
    plan_free(&p);
    plan_init(&p, 2);
    assert_false(plan_json_parse(&p, body, "", PLAN_JSON_ALL_JOBS, NULL, NULL, &err));
    free(err);
    err = NULL;
    plan_free(&p);
    plan_init(&p, 2);
    assert_false(plan_json_parse(&p, "{\"tasks\":{\"0\":{}}", "", 0, NULL, NULL, &err));
    assert_non_null(strstr(err, "Invalid Plan")); /* the whole never closes */
    free(err);
    err = NULL;
    assert_false(plan_json_parse(&p, "{\"tasks\":[{\"0\":{}}]}", "", 0, NULL, NULL, &err));
    assert_non_null(strstr(err, "Error Plan")); /* tasks that are not an object */
    free(err);
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

/* The bad-estimate warning goes to the phase's warn_fn, once, and the
 * module itself prints nothing. */
typedef struct {
    int calls;
    char line[256];
} warnings_t;

static void collect_warning(void *user, const char *line)
{
    warnings_t *w = user;
    w->calls++;
    snprintf(w->line, sizeof w->line, "%s", line);
}

static void bad_estimates_are_one_warning(void **state)
{
    (void)state;
    plan_t p;
    plan_init(&p, 1);
    char *err = NULL;
    warnings_t w = {0};
    const char *body =
        "{\"tasks\":{\"0\":{\"tests\":[{\"path\":\"a.py\",\"estimated_duration\":-1},"
        "{\"path\":\"b.py\",\"estimated_duration\":\"soon\"},"
        "{\"path\":\"c.py\",\"estimated_duration\":500}]}}}";
    assert_true(plan_json_parse(&p, body, "", PLAN_JSON_ALL_JOBS, collect_warning, &w, &err));
    assert_int_equal(w.calls, 1);
    assert_string_equal(w.line, "the plan had 2 estimated_duration values that are not a "
                                "plausible number of milliseconds; ignored");
    assert_float_equal(p.tasks[0].estimated_s, 0.5, 1e-9);
    plan_free(&p);
    /* One bad value: singular; good values: no call at all. */
    plan_init(&p, 1);
    w.calls = 0;
    body = "{\"tasks\":{\"0\":{\"tests\":[{\"path\":\"a.py\",\"estimated_duration\":1e999}]}}}";
    assert_true(plan_json_parse(&p, body, "", PLAN_JSON_ALL_JOBS, collect_warning, &w, &err));
    assert_int_equal(w.calls, 1);
    assert_string_equal(w.line, "the plan had 1 estimated_duration value that is not a plausible "
                                "number of milliseconds; ignored");
    plan_free(&p);
    plan_init(&p, 1);
    w.calls = 0;
    body = "{\"tasks\":{\"0\":{\"tests\":[{\"path\":\"a.py\",\"estimated_duration\":1}]}}}";
    assert_true(plan_json_parse(&p, body, "", PLAN_JSON_ALL_JOBS, collect_warning, &w, &err));
    assert_int_equal(w.calls, 0);
    assert_null(err);
    plan_free(&p);
}

/* A plan read twice keeps the latest identifier and muted list, not both. */
static void second_answer_replaces_identifier_and_muted(void **state)
{
    (void)state;
    plan_t p;
    plan_init(&p, 1);
    char *err = NULL;
    assert_true(plan_json_parse(&p,
                                "{\"identifier\":\"one\",\"tasks\":{\"0\":{\"tests\":[]}},"
                                "\"muted_tests\":[{\"scope\":\"a\",\"name\":\"x\"},"
                                "{\"scope\":\"a\",\"name\":\"y\"}]}",
                                "", PLAN_JSON_ALL_JOBS, NULL, NULL, &err));
    assert_string_equal(p.identifier, "one");
    assert_int_equal(p.n_muted, 2);
    assert_true(plan_json_parse(&p,
                                "{\"identifier\":\"two\",\"tasks\":{\"0\":{\"tests\":[]}},"
                                "\"muted_tests\":[{\"scope\":\"b\",\"name\":\"z\"}]}",
                                "", PLAN_JSON_ALL_JOBS, NULL, NULL, &err));
    assert_string_equal(p.identifier, "two");
    assert_int_equal(p.n_muted, 1);
    assert_string_equal(p.muted[0].scope, "b");
    assert_string_equal(p.muted[0].name, "z");
    plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_tasks_selectors_and_muted),
        cmocka_unit_test(empty_and_invalid),
        cmocka_unit_test(hostile_entries_rejected),
        cmocka_unit_test(nul_escapes_told_from_escaped_backslashes),
        cmocka_unit_test(only_this_jobs_task_is_read),
        cmocka_unit_test(selector_rules),
        cmocka_unit_test(bad_estimates_are_one_warning),
        cmocka_unit_test(second_answer_replaces_identifier_and_muted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
