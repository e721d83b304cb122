/* results_colldetail: a collection error's cause read from its whole text, in
 * both modes, from the real pytest 7.2.1 outputs in fixtures/conformance; a
 * traceback far past the bound still gives its cause; other tests are left
 * alone. */
#include "unit.h"
#include "base/buf.h"
#include "base/fs.h"
#include "results/results_colldetail.h"
#include "scratch.h"
#include <stdio.h>
#include <unistd.h>

#define IMPORT_ID    "tests/test_import_error.py"
#define SYNTAX_ID    "tests/test_syntax_error.py"
#define IMPORT_CAUSE "ModuleNotFoundError: No module named 'missing_module_for_collection'"

static char *conf(const char *name)
{
    const char *src = getenv("TEP_SOURCE_DIR");
    return xasprintf("%s/fixtures/conformance/pytest-7.2.1-collector-1.8.0/%s", src ? src : ".",
                     name);
}

/* A model holding the two collection errors as the parsers leave them: a
 * first line that is not the cause, and one passing test. */
static void model_with_errors(results_model_t *r)
{
    results_model_init(r, NULL, 0);
    test_record_t rec = {.scope = "",
                         .name = IMPORT_ID,
                         .node_id = IMPORT_ID,
                         .file = IMPORT_ID,
                         .status = ST_FAILED,
                         .failure = "ImportError while importing test module "
                                    "'/builds/acme/shop/tests/test_import_error.py'.",
                         .collection_error = true,
                         .duration = -1};
    results_model_add(r, &rec);
    rec.name = rec.node_id = rec.file = SYNTAX_ID;
    rec.failure = "/usr/lib/python3/dist-packages/_pytest/python.py:618: in _importtestmodule";
    results_model_add(r, &rec);
    test_record_t failed = {.scope = "tests/test_x.py",
                            .name = "test_f",
                            .node_id = "tests/test_x.py::test_f",
                            .status = ST_FAILED,
                            .failure = "assert 1 == 2",
                            .duration = -1};
    results_model_add(r, &failed);
}

static const char *failure_of(const results_model_t *r, const char *id)
{
    const test_result_t *t = results_model_find(r, id);
    assert_non_null(t);
    return t->failure;
}

static void assert_causes_found(const results_model_t *r)
{
    assert_string_equal(failure_of(r, IMPORT_ID), IMPORT_CAUSE);
    assert_non_null(strstr(failure_of(r, SYNTAX_ID), "SyntaxError: invalid syntax"));
    assert_non_null(strstr(failure_of(r, SYNTAX_ID), "line 1"));
    assert_string_equal(failure_of(r, "tests/test_x.py::test_f"), "assert 1 == 2");
}

static void junit_causes(void **state)
{
    (void)state;
    results_model_t r;
    model_with_errors(&r);
    assert_null(strstr(failure_of(&r, IMPORT_ID), "ModuleNotFoundError"));
    char *path = conf("collection-error-stops.xml");
    results_colldetail_fill(MODE_JUNIT, path, "", &r);
    assert_causes_found(&r);
    free(path);
    results_model_free(&r);
}

static void json_causes(void **state)
{
    (void)state;
    results_model_t r;
    model_with_errors(&r);
    char *path = conf("collection-error-stops.json");
    results_colldetail_fill(MODE_JSON, path, "", &r);
    assert_causes_found(&r);
    free(path);
    results_model_free(&r);
}

/* A record that is not a tracked collection error changes nothing. */
static void others_left_alone(void **state)
{
    (void)state;
    results_model_t r;
    model_with_errors(&r);
    const char *raw = "{\"failure_expanded\":[{\"expanded\":[\"E   ValueError: no\"]}]}";
    test_record_t rec = {.node_id = "tests/test_x.py::test_f",
                         .status = ST_FAILED,
                         .failure = "x",
                         .raw = raw,
                         .raw_len = strlen(raw)};
    results_colldetail_offer_record(&r, &rec); /* not a collection error */
    assert_string_equal(failure_of(&r, "tests/test_x.py::test_f"), "assert 1 == 2");
    rec.collection_error = true;
    rec.node_id = "tests/test_unknown.py"; /* not in the model */
    results_colldetail_offer_record(&r, &rec);
    assert_null(results_model_find(&r, "tests/test_unknown.py"));
    rec.node_id = IMPORT_ID;
    rec.status = ST_PASSED;
    results_colldetail_offer_record(&r, &rec);
    assert_null(strstr(failure_of(&r, IMPORT_ID), "ValueError"));
    rec.status = ST_FAILED; /* now it is one: its expanded text names the cause */
    results_colldetail_offer_record(&r, &rec);
    assert_string_equal(failure_of(&r, IMPORT_ID), "ValueError: no");
    results_model_free(&r);
}

static void bound_keeps_head_and_tail(void **state)
{
    (void)state;
    char *small = results_colldetail_bound("first\nsecond");
    assert_string_equal(small, "first\nsecond");
    free(small);
    buf_t big = BUF_INIT;
    buf_puts(&big, "HEAD LINE\n");
    for (int i = 0; i < 5000; i++) buf_printf(&big, "frame %d\n", i);
    buf_puts(&big, "E   RuntimeError: the end");
    char *b = results_colldetail_bound(buf_str(&big));
    assert_true(strlen(b) <= RESULTS_COLLDETAIL_MAX);
    assert_true(strncmp(b, "HEAD LINE\n[... traceback shortened ...]\nframe ", 46) == 0);
    size_t n = strlen(b);
    const char *end = "E   RuntimeError: the end";
    assert_string_equal(b + n - strlen(end), end);
    free(b);
    buf_free(&big);
}

/* A JUnit body many times the bound: the cause at its end still counts. */
static void huge_junit_body(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-colldetail");
    buf_t x = BUF_INIT;
    buf_puts(&x, "<testsuites><testsuite><testcase classname=\"\" name=\"tests.test_import_error\">"
                 "<error message=\"collection failure\">first line\n");
    for (int i = 0; i < 20000; i++) buf_printf(&x, "frame %d in somewhere\n", i);
    buf_puts(&x, "E   ModuleNotFoundError: No module named 'deep'</error></testcase>"
                 "</testsuite></testsuites>");
    char *path = fs_join(dir, "big.xml");
    assert_true(x.len > 8 * RESULTS_COLLDETAIL_MAX);
    assert_true(fs_write_file(path, x.data, x.len));
    results_model_t r;
    model_with_errors(&r);
    results_colldetail_fill(MODE_JUNIT, path, "", &r);
    assert_string_equal(failure_of(&r, IMPORT_ID), "ModuleNotFoundError: No module named 'deep'");
    scratch_dir_remove(dir);
    free(path);
    buf_free(&x);
    results_model_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(junit_causes),      cmocka_unit_test(json_causes),
        cmocka_unit_test(others_left_alone), cmocka_unit_test(bound_keeps_head_and_tail),
        cmocka_unit_test(huge_junit_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
