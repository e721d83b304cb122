/* results_merge (merging result files: the parts of one attempt, and all
 * attempts into the result path, streaming) and results_colldetail (the cause of a
 * collection error from its whole text, read back from the result file). */
#include "unit.h"
#include "base/buf.h"
#include "results/results_colldetail.h"
#include "results/results_json.h"
#include "base/fs.h"
#include "results/results_junit.h"
#include "results/results_model.h"
#include "results/results_merge.h"
#include "scratch.h"
#include <stdio.h>
#include <unistd.h>

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    scratch_dir(dir, sizeof dir, "test_results_merge");
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    scratch_dir_remove(dir);
    return 0;
}

static char *write_file(const char *name, const char *text)
{
    char *p = fs_join(dir, name);
    assert_true(fs_write_file(p, text, strlen(text)));
    return p;
}

/* "node_id status" of every record of a result file, one per line. */
static void outcome_line(const test_record_t *rec, void *user)
{
    if (!rec->problem)
        buf_printf(user, "%s %s\n", rec->node_id, results_model_status_name(rec->status));
}

static char *record_outcomes(result_mode_t mode, const char *path)
{
    buf_t b = BUF_INIT;
    if (mode == MODE_JSON) {
        results_json_scan_t scan;
        results_json_read_records(path, outcome_line, &b, NULL, NULL, &scan);
        assert_null(scan.error);
    } else {
        results_junit_scan_t scan;
        results_junit_read_records(path, outcome_line, &b, NULL, NULL, &scan);
        assert_null(scan.error);
    }
    return buf_detach(&b);
}

/* What one merge test works with: its inputs, and what the merge says. */
typedef struct {
    strlist_t in;
    strlist_t problems;
    results_merge_stats_t st;
    char *err; /* the caller frees it where a merge failed */
} merge_case_t;

/* Writes name (holding text) into the temp dir as the merge's next input. */
static void add_input(merge_case_t *m, const char *name, const char *text)
{
    strlist_push_owned(&m->in, write_file(name, text));
}

static void merge_case_free(merge_case_t *m)
{
    strlist_free(&m->in);
    strlist_free(&m->problems);
}

static void json_attempts_merge_to_final_outcomes(void **state)
{
    (void)state;
    merge_case_t m = {0};
    add_input(&m, "a0.json",
              "[{\"scope\":\"t.py\",\"name\":\"flaky\",\"result\":\"failed\","
              "\"history\":{\"duration\":1.5}},"
              "{\"scope\":\"t.py\",\"name\":\"ok\",\"result\":\"passed\"}, 42,"
              "{\"scope\":\"t.py\",\"name\":\"broken\",\"result\":\"failed\","
              "\"failure_reason\":\"first\"}]");
    strlist_push_owned(&m.in, fs_join(dir, "never-written.json"));
    add_input(&m, "a1.json",
              "[{\"scope\":\"t.py\",\"name\":\"flaky\",\"result\":"
              "\"passed\",\"history\":{\"duration\":0.25}},"
              "{\"Scope\":\"t.py\",\"Name\":\"broken\",\"result\":"
              "\"failed\",\"failure_reason\":\"second\"}]");
    char *out = fs_join(dir, "sub/merged.json"); /* a folder that does not exist yet */
    assert_true(results_merge_final(MODE_JSON, &m.in, out, &m.st, &m.problems, &m.err));
    assert_int_equal(m.st.files, 2);
    assert_int_equal(m.st.records, 3);
    assert_int_equal(m.st.replaced, 2);
    assert_int_equal(m.problems.len, 0);
    char *text = fs_read_file(out, NULL);
    /* The first attempt's order, each retried test's record in its place. */
    assert_string_equal(text, "[{\"scope\":\"t.py\",\"name\":\"flaky\",\"result\":\"passed\","
                              "\"history\":{\"duration\":0.25}},"
                              "{\"scope\":\"t.py\",\"name\":\"ok\",\"result\":\"passed\"},"
                              "{\"Scope\":\"t.py\",\"Name\":\"broken\",\"result\":\"failed\","
                              "\"failure_reason\":\"second\"}]");
    /* The merged file is what the parser reads: final outcomes. */
    char *got = record_outcomes(MODE_JSON, out);
    assert_string_equal(got, "t.py::flaky passed\nt.py::ok passed\nt.py::broken failed\n");
    free(got);
    free(text);
    free(out);
    merge_case_free(&m);
}

static void json_truncated_part_keeps_what_it_has(void **state)
{
    (void)state;
    merge_case_t m = {0};
    add_input(&m, "p1.json", "[{\"scope\":\"a.py\",\"name\":\"x\",\"result\":\"passed\"}]");
    add_input(&m, "p2.json",
              "[{\"scope\":\"b.py\",\"name\":\"y\",\"result\":\"failed\"}, {\"scope\"");
    char *out = fs_join(dir, "parts.json");
    assert_true(results_merge_concat(MODE_JSON, &m.in, out, &m.st, &m.problems, &m.err));
    assert_int_equal(m.st.records, 2);
    assert_int_equal(m.problems.len, 1);
    assert_non_null(strstr(m.problems.items[0], "p2.json ends before its JSON array is closed"));
    char *text = fs_read_file(out, NULL);
    assert_string_equal(text, "[{\"scope\":\"a.py\",\"name\":\"x\",\"result\":\"passed\"},{"
                              "\"scope\":\"b.py\",\"name\":\"y\",\"result\":\"failed\"}]");
    free(text);
    /* No temporary file is left beside the output. */
    char *tmp = xasprintf("%s.tmp.%ld", out, (long)getpid());
    assert_false(fs_exists(tmp));
    free(tmp);
    free(out);
    merge_case_free(&m);
}

static void junit_merge_counts_kept_testcases(void **state)
{
    (void)state;
    merge_case_t m = {0};
    add_input(&m, "a0.xml",
              "<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites><testsuite "
              "name=\"pytest\" tests=\"4\">"
              "<testcase classname=\"t\" name=\"flaky\" time=\"1.0\"><failure "
              "message=\"boom\">x &lt; y</failure></testcase>"
              "<testcase classname=\"t\" name=\"ok\" time=\"0.1\" />"
              "<testcase classname=\"t\" name=\"skip\"><skipped message=\"later\"/></testcase>"
              "<testcase classname=\"\" name=\"tests.test_bad\"><error message=\"collection "
              "failure\">E   boom</error></testcase>"
              "</testsuite></testsuites>");
    add_input(&m, "a1.xml",
              "<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites><testsuite "
              "name=\"pytest\" tests=\"1\">"
              "<testcase classname=\"t\" name=\"flaky\" "
              "time=\"0.5\"></testcase></testsuite></testsuites>");
    char *out = fs_join(dir, "merged.xml");
    assert_true(results_merge_final(MODE_JUNIT, &m.in, out, &m.st, &m.problems, &m.err));
    assert_int_equal(m.st.records, 4);
    assert_int_equal(m.st.replaced, 1);
    char *text = fs_read_file(out, NULL);
    assert_non_null(strstr(text, "errors=\"1\" failures=\"0\" skipped=\"1\" tests=\"4\""));
    assert_non_null(strstr(text, "<testcase classname=\"t\" name=\"ok\" time=\"0.1\" />"));
    assert_non_null(
        strstr(text, "<testcase classname=\"t\" name=\"flaky\" time=\"0.5\"></testcase>"));
    assert_null(strstr(text, "x &lt; y")); /* the replaced failure is gone */
    free(text);
    char *got = record_outcomes(MODE_JUNIT, out);
    assert_string_equal(
        got, "t.py::flaky passed\nt.py::ok passed\nt.py::skip skipped\ntests/test_bad.py failed\n");
    free(got);
    results_model_t r;
    results_model_init(&r, NULL, 0);
    results_junit_scan_t scan;
    results_junit_read_records(out, results_model_add_fn, &r, NULL, NULL, &scan);
    assert_null(scan.error);
    assert_int_equal(r.len, 1); /* the model keeps the failure only */
    assert_true(results_model_find(&r, "tests/test_bad.py")->collection_error);
    results_model_free(&r);
    free(out);
    merge_case_free(&m);
}

/* Parts: every record, in order; the JUnit header counts what was written. */
static void junit_parts_concatenate(void **state)
{
    (void)state;
    merge_case_t m = {0};
    add_input(
        &m, "p1.xml",
        "<?xml version=\"1.0\"?><testsuites><testsuite name=\"pytest\" tests=\"2\">"
        "<testcase classname=\"a\" name=\"x\" time=\"1\"/>"
        "<testcase classname=\"a\" name=\"y\"><failure message=\"no\">body</failure></testcase>"
        "</testsuite></testsuites>");
    strlist_push_owned(&m.in, fs_join(dir, "missing.xml"));
    add_input(&m, "p2.xml",
              "<testsuite><testcase classname=\"b\" name=\"z\"><skipped/></testcase>"
              "<testcase classname=\"a\" name=\"x\"/></testsuite>");
    char *out = fs_join(dir, "attempt.xml");
    assert_true(results_merge_concat(MODE_JUNIT, &m.in, out, &m.st, &m.problems, &m.err));
    assert_int_equal(m.st.files, 2);
    assert_int_equal(m.st.records, 4);
    assert_int_equal(m.st.replaced,
                     0); /* parts are not deduplicated: one pytest run would not either */
    char *text = fs_read_file(out, NULL);
    assert_non_null(strstr(text, "errors=\"0\" failures=\"1\" skipped=\"1\" tests=\"4\""));
    assert_non_null(strstr(
        text,
        "<testcase classname=\"a\" name=\"y\"><failure message=\"no\">body</failure></testcase>"));
    free(text);
    char *got = record_outcomes(MODE_JUNIT, out);
    assert_string_equal(got, "a.py::x passed\na.py::y failed\nb.py::z skipped\na.py::x passed\n");
    free(got);
    free(out);
    merge_case_free(&m);
}

/* A test only a retry ran follows at the end; a missing first attempt leaves the retries. */
static void final_keeps_tests_only_a_retry_ran(void **state)
{
    (void)state;
    merge_case_t m = {0};
    add_input(&m, "f0.json", "[{\"scope\":\"t.py\",\"name\":\"a\",\"result\":\"failed\"}]");
    add_input(&m, "f1.json",
              "[{\"scope\":\"t.py\",\"name\":\"new\",\"result\":\"passed\"},{"
              "\"scope\":\"t.py\",\"name\":\"a\",\"result\":\"failed\"}]");
    add_input(&m, "f2.json", "[{\"scope\":\"t.py\",\"name\":\"a\",\"result\":\"passed\"}]");
    char *out = fs_join(dir, "final.json");
    assert_true(results_merge_final(MODE_JSON, &m.in, out, &m.st, &m.problems, &m.err));
    char *got = record_outcomes(MODE_JSON, out);
    assert_string_equal(got, "t.py::a passed\nt.py::new passed\n");
    free(got);
    assert_int_equal(m.st.replaced, 2);
    free(m.in.items[0]);
    m.in.items[0] = fs_join(dir, "never-written.json");
    assert_true(results_merge_final(MODE_JSON, &m.in, out, &m.st, &m.problems, &m.err));
    got = record_outcomes(MODE_JSON, out);
    assert_string_equal(got, "t.py::new passed\nt.py::a passed\n");
    free(got);
    free(out);
    merge_case_free(&m);
}

static void unwritable_output_is_an_error(void **state)
{
    (void)state;
    merge_case_t m = {0};
    char *blocker = write_file("file", "x");
    char *out = fs_join(blocker, "out.json"); /* a path under a regular file */
    assert_false(results_merge_final(MODE_JSON, &m.in, out, &m.st, &m.problems, &m.err));
    assert_non_null(strstr(m.err, "cannot write"));
    free(m.err);
    m.err = NULL;
    assert_false(results_merge_concat(MODE_JUNIT, &m.in, out, &m.st, &m.problems, &m.err));
    assert_non_null(strstr(m.err, "cannot write"));
    free(m.err);
    free(out);
    free(blocker);
    merge_case_free(&m);
}

/* The merged file (result-path) went through "<out>.tmp.<pid>", opened
 * without O_EXCL or O_NOFOLLOW: a link planted there was written through.
 * Now nothing is, and the merged file is written. */
static void merge_never_writes_through_a_planted_link(void **state)
{
    (void)state;
    merge_case_t m = {0};
    add_input(&m, "attempt-0.json",
              "[{\"scope\": \"t.py\", \"name\": \"a\", \"result\": \"passed\"}]");
    char *out = fs_join(dir, "merged.json");
    char *victim = fs_join(dir, "victim");
    char *planted = xasprintf("%s.tmp.%ld", out, (long)getpid());
    assert_int_equal(symlink(victim, planted), 0);
    assert_true(results_merge_final(MODE_JSON, &m.in, out, &m.st, &m.problems, &m.err));
    assert_true(results_merge_concat(MODE_JSON, &m.in, out, &m.st, &m.problems, &m.err));
    assert_false(fs_exists(victim));
    char *got = record_outcomes(MODE_JSON, out);
    assert_string_equal(got, "t.py::a passed\n");
    free(got);
    unlink(planted);
    unlink(out);
    free(planted);
    free(victim);
    free(out);
    merge_case_free(&m);
}

static const char SYNTAX_TAIL[] =
    "E     File \\\"/w/tests/test_syntax.py\\\", line 1\", \"E       def t(:\", "
    "\"E   SyntaxError: invalid syntax";

static void detail_from_collector_json(void **state)
{
    (void)state;
    char *json = xasprintf(
        "[{\"scope\":\"\",\"name\":\"tests/test_syntax.py\",\"file_name\":\"tests/test_syntax.py\","
        "\"tags\":{\"test.pytest_collection_error\":\"true\"},\"result\":\"failed\","
        "\"failure_reason\":\"/usr/lib/python3/dist-packages/_pytest/python.py:618: in "
        "_importtestmodule\","
        "\"failure_expanded\":[{\"expanded\":[\"    mod = import_path(...)\", \"%s\"]}]},"
        "{\"scope\":\"t.py\",\"name\":\"x\",\"result\":\"failed\",\"failure_reason\":"
        "\"AssertionError\","
        "\"failure_expanded\":[{\"expanded\":[\"E   not a collection error\"]}]}]",
        SYNTAX_TAIL);
    char *p = write_file("coll.json", json);
    results_model_t r;
    results_model_init(&r, NULL, 0);
    results_json_scan_t scan;
    results_json_read_records(p, results_model_add_fn, &r, NULL, NULL, &scan);
    assert_null(scan.error);
    /* The parser's line is a traceback frame, not a cause... */
    assert_string_equal(
        results_model_find(&r, "tests/test_syntax.py")->failure,
        "/usr/lib/python3/dist-packages/_pytest/python.py:618: in _importtestmodule");
    results_colldetail_fill(MODE_JSON, p, "", &r);
    /* ...the whole text (failure_expanded) has it. */
    assert_string_equal(results_model_find(&r, "tests/test_syntax.py")->failure,
                        "SyntaxError: invalid syntax (tests/test_syntax.py, line 1)");
    assert_string_equal(results_model_find(&r, "t.py::x")->failure,
                        "AssertionError"); /* only collection errors */
    results_model_free(&r);
    free(p);
    free(json);
}

static void detail_from_junit(void **state)
{
    (void)state;
    char *p = write_file(
        "coll.xml",
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites><testsuite name=\"pytest\">"
        "<testcase classname=\"\" name=\"tests.test_import\"><error message=\"collection failure\">"
        "ImportError while importing test module '/w/tests/test_import.py'.\nTraceback:\n"
        "tests/test_import.py:1: in &lt;module&gt;\n    import nope\n"
        "E   ModuleNotFoundError: No module named 'nope'</error></testcase>"
        "<testcase classname=\"t\" name=\"x\"><failure message=\"short\">long "
        "body</failure></testcase>"
        "</testsuite></testsuites>");
    results_model_t r;
    results_model_init(&r, NULL, 0);
    results_junit_scan_t scan;
    results_junit_read_records(p, results_model_add_fn, &r, NULL, NULL, &scan);
    assert_null(scan.error);
    results_colldetail_fill(MODE_JUNIT, p, "", &r);
    assert_string_equal(results_model_find(&r, "tests/test_import.py")->failure,
                        "ModuleNotFoundError: No module named 'nope'");
    assert_string_equal(results_model_find(&r, "t.py::x")->failure, "short");
    results_model_free(&r);
    free(p);
}

static void detail_is_bounded_to_its_end(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);
    buf_puts(&b, "first line\n");
    for (int i = 0; i < 5000; i++) buf_printf(&b, "frame %d: in f\n", i);
    buf_puts(&b, "E   RuntimeError: the cause");
    char *kept = results_colldetail_bound(b.data);
    assert_true(strlen(kept) <= RESULTS_COLLDETAIL_MAX);
    assert_true(strncmp(kept, "first line\n[... traceback shortened ...]\nframe ", 47) == 0);
    assert_non_null(strstr(kept, "E   RuntimeError: the cause"));
    free(kept);
    kept = results_colldetail_bound("short");
    assert_string_equal(kept, "short");
    free(kept);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_attempts_merge_to_final_outcomes),
        cmocka_unit_test(json_truncated_part_keeps_what_it_has),
        cmocka_unit_test(junit_merge_counts_kept_testcases),
        cmocka_unit_test(junit_parts_concatenate),
        cmocka_unit_test(final_keeps_tests_only_a_retry_ran),
        cmocka_unit_test(unwritable_output_is_an_error),
        cmocka_unit_test(merge_never_writes_through_a_planted_link),
        cmocka_unit_test(detail_from_collector_json),
        cmocka_unit_test(detail_from_junit),
        cmocka_unit_test(detail_is_bounded_to_its_end),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
