/* collect: the launcher words and the collection plugin's records. The real
 * --collect-only runs are in tests/integration/collect.bats. */
#include "unit.h"
#include "base/buf.h"
#include "plan/collect_only.h"

static void launcher_is(const char *tmpl, const char *const *want, size_t n)
{
    strlist_t argv;
    strlist_init(&argv);
    char *err = NULL;
    assert_true(collect_only_launcher(tmpl, &argv, &err));
    assert_int_equal(argv.len, n);
    for (size_t i = 0; i < n; i++) assert_string_equal(argv.items[i], want[i]);
    strlist_free(&argv);
}

static void launcher_keeps_options_and_values(void **state)
{
    (void)state;
    const char *xdist[] = {"python3", "-m", "pytest", "-p", "xdist", "-n", "2", "-k", "a or b"};
    launcher_is(
        "python3 -m pytest -p xdist -n 2 -k 'a or b' {{testExamples}} -x --json={{resultPath}}",
        xdist, 9);
    const char *quiet[] = {"pytest", "-qq"};
    launcher_is("pytest -qq {{testExamples}}", quiet, 2);
}

static void launcher_drops_the_result_option(void **state)
{
    (void)state;
    const char *split[] = {"pytest", "-x"};
    launcher_is("pytest --junitxml {{resultPath}} -x {{testExamples}}", split, 2);
    const char *joined[] = {"pytest", "-x"};
    launcher_is("pytest --json={{resultPath}} -x {{testExamples}}", joined, 2);
    /* No {{testExamples}}: the selection goes at the end, so every word is the launcher's. */
    const char *all[] = {"pytest", "-n", "2"};
    launcher_is("pytest -n 2 --junit-xml={{resultPath}}", all, 3);
}

static void launcher_refuses_a_bad_template(void **state)
{
    (void)state;
    strlist_t argv;
    strlist_init(&argv);
    char *err = NULL;
    assert_false(collect_only_launcher("pytest 'unterminated", &argv, &err));
    assert_non_null(err);
    free(err);
    strlist_free(&argv);
}

static void init_result(collect_only_result_t *res)
{
    memset(res, 0, sizeof *res);
    strlist_init(&res->node_ids);
    strlist_init(&res->whole_files);
    strlist_init(&res->broken_files);
}

/* The records tests' fixture: the three files asked about, an empty result. */
typedef struct {
    strlist_t files;
    collect_only_result_t res;
} records_fixture_t;

static int records_setup(void **state)
{
    records_fixture_t *r = xcalloc(1, sizeof *r);
    strlist_init(&r->files);
    strlist_push(&r->files, "tests/a.py");
    strlist_push(&r->files, "tests/b.py");
    strlist_push(&r->files, "tests/empty.py");
    init_result(&r->res);
    *state = r;
    return 0;
}

static int records_teardown(void **state)
{
    records_fixture_t *r = *state;
    collect_only_result_free(&r->res);
    strlist_free(&r->files);
    free(r);
    return 0;
}

static void records_give_ids_and_whole_files(void **state)
{
    records_fixture_t *r = *state;
    collect_only_result_t *res = &r->res;
    const char *text =
        "{\"id\": \"tests/a.py::test_x[with space]\"}\n"
        "{\"id\": \"tests/a.py::test_x[a::b]\"}\n"
        "{\"id\": \"tests/b.py::TestC::test_y\"}\n"
        "{\"id\": \"elsewhere/tests/a.py::test_z\"}\n" /* rooted elsewhere: not runnable as-is */
        "{\"done\": 4}\n";
    assert_true(collect_only_read_records(text, &r->files, res));
    assert_int_equal(res->node_ids.len, 3);
    assert_string_equal(res->node_ids.items[0], "tests/a.py::test_x[with space]");
    assert_string_equal(res->node_ids.items[1], "tests/a.py::test_x[a::b]");
    assert_int_equal(res->whole_files.len, 1);
    assert_string_equal(res->whole_files.items[0], "tests/empty.py");
    assert_int_equal(res->broken_files.len, 0);
}

static void records_without_done_are_not_a_collection(void **state)
{
    records_fixture_t *r = *state;
    collect_only_result_t *res = &r->res;
    assert_false(collect_only_read_records(
        "{\"id\": \"tests/a.py::t\"}\n{\"id\": \"tests/b.py::", &r->files, res));
    collect_only_result_free(res);
    init_result(res);
    assert_false(collect_only_read_records("", &r->files, res));
    assert_int_equal(res->whole_files.len, 3);
}

static void records_name_broken_nodes_once(void **state)
{
    records_fixture_t *r = *state;
    collect_only_result_t *res = &r->res;
    const char *text =
        "{\"error\": \"tests/b.py\"}\n{\"error\": \"tests/b.py\"}\nnot json\n[1]\n{\"done\": 0}\n";
    assert_true(collect_only_read_records(text, &r->files, res));
    assert_int_equal(res->broken_files.len, 1);
    assert_string_equal(res->broken_files.items[0], "tests/b.py");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(launcher_keeps_options_and_values),
        cmocka_unit_test(launcher_drops_the_result_option),
        cmocka_unit_test(launcher_refuses_a_bad_template),
        cmocka_unit_test_setup_teardown(records_give_ids_and_whole_files, records_setup,
                                        records_teardown),
        cmocka_unit_test_setup_teardown(records_without_done_are_not_a_collection, records_setup,
                                        records_teardown),
        cmocka_unit_test_setup_teardown(records_name_broken_nodes_once, records_setup,
                                        records_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
