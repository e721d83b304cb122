/* Both parsers against real pytest 7.2.1 + collector 1.8.0 output in
 * fixtures/conformance (every record they hand out, and the run model they
 * feed), plus node-id rebuilding and classification. */
#include "unit.h"
#include "base/text.h"
#include "run/run_classify.h"
#include "results/results_json.h"
#include "config/config.h"
#include "base/fs.h"
#include "results/results_junit.h"
#include "base/buf.h"
#include "records.h"
#include "scratch.h"
#include "warn_lines.h"
#include "results/results_model.h"
#include <stdio.h>
#include <unistd.h>

static char *conf(const char *name)
{
    const char *src = getenv("TEP_SOURCE_DIR");
    char *p = NULL;
    if (asprintf(&p, "%s/fixtures/conformance/pytest-7.2.1-collector-1.8.0/%s", src ? src : ".",
                 name) < 0)
        return NULL;
    return p;
}

typedef struct {
    const char *node_id;
    test_status_t status;
    bool collection_error;
} expect_t;

static const expect_t CLEAN_RUN[] = {
    {"tests/test_basic.py::test_pass", ST_PASSED, false},
    {"tests/test_basic.py::test_fail", ST_FAILED, false},
    {"tests/test_basic.py::test_skipped", ST_SKIPPED, false},
    {"tests/test_basic.py::test_xfail", ST_SKIPPED, false},
    {"tests/test_basic.py::test_xpass_strict", ST_FAILED, false},
    {"tests/test_basic.py::test_tagged", ST_PASSED, false},
    {"tests/test_basic.py::test_param[plain]", ST_PASSED, false},
    {"tests/test_basic.py::test_param[with space]", ST_PASSED, false},
    {"tests/test_basic.py::test_param[h\\xe9llo w\\xf6rld]", ST_PASSED, false},
    {"tests/test_basic.py::test_param[a::b]", ST_PASSED, false},
    {"tests/test_basic.py::test_param[quote'\"s]", ST_PASSED, false},
    {"tests/test_basic.py::test_setup_error", ST_FAILED, false},
    {"tests/test_basic.py::TestGroup::test_method", ST_PASSED, false},
    {"tests/test_basic.py::TestGroup::TestInner::test_deep", ST_FAILED, false},
    {"tests/pkg/test_nested.py::test_nested_ok", ST_PASSED, false},
    {"tests/pkg/test_nested.py::test_nested_unicode_\xc3\x9f", ST_PASSED, false},
};

static void check(const recs_t *rs, const expect_t *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const rec_t *t = recs_find(rs, e[i].node_id);
        if (!t) fail_msg("missing %s", e[i].node_id);
        assert_int_equal(t->status, e[i].status);
        assert_int_equal(t->collection_error, e[i].collection_error);
    }
}

static void read_json(const char *name, recs_t *rs, results_json_scan_t *scan)
{
    char *p = conf(name);
    memset(rs, 0, sizeof *rs);
    results_json_read_records(p, recs_collect, rs, warn_to_stderr, NULL, scan);
    free(p);
}

static void read_json_model(const char *name, results_model_t *r, results_json_scan_t *scan)
{
    char *p = conf(name);
    results_model_init(r, NULL, 0);
    results_json_read_records(p, results_model_add_fn, r, warn_to_stderr, NULL, scan);
    free(p);
}

static void read_junit(const char *name, recs_t *rs, results_junit_scan_t *scan)
{
    char *p = conf(name);
    memset(rs, 0, sizeof *rs);
    results_junit_read_records(p, recs_collect, rs, warn_to_stderr, NULL, scan);
    free(p);
}

static void json_clean_run(void **state)
{
    (void)state;
    size_t chunks[] = {0, 1, 7, 64};
    for (size_t c = 0; c < 4; c++) {
        results_json_set_chunk_size(chunks[c]); /* boundaries inside strings, escapes and numbers */
        recs_t rs;
        results_json_scan_t scan;
        read_json("clean-run.json", &rs, &scan);
        assert_null(scan.error);
        assert_int_equal(scan.elements, 16);
        assert_int_equal(rs.len, 16);
        check(&rs, CLEAN_RUN, sizeof CLEAN_RUN / sizeof CLEAN_RUN[0]);
        const rec_t *t = recs_find(&rs, "tests/test_basic.py::test_fail");
        assert_string_equal(t->failure,
                            "AssertionError: value mismatch\nassert {'a': 1} == {'a': 2}\n  "
                            "Differing items:\n  {'a': 1} != {'a': 2}\n  Use -v to get more diff");
        assert_string_equal(t->file, "tests/test_basic.py");
        /* history.duration, read past the spans in children */
        assert_true(t->duration == 0.025116);
        assert_true(recs_find(&rs, "tests/test_basic.py::test_pass")->duration == 0.008658);
        recs_free(&rs);

        /* The model keeps the failures (with their one-line cause) and counts the rest. */
        results_model_t r;
        read_json_model("clean-run.json", &r, &scan);
        results_model_stats_t s;
        results_model_stats(&r, &s);
        assert_int_equal(s.total, 16);
        assert_int_equal(s.failed, 4);
        assert_int_equal(s.skipped, 2);
        assert_int_equal(s.passed_first, 10);
        assert_int_equal(r.len, 4); /* only failed tests are kept */
        assert_null(results_model_find(&r, "tests/test_basic.py::test_pass"));
        assert_string_equal(results_model_find(&r, "tests/test_basic.py::test_fail")->failure,
                            "AssertionError: value mismatch");
        assert_string_equal(
            results_model_find(&r, "tests/test_basic.py::test_setup_error")->failure,
            "RuntimeError: setup exploded");
        results_model_free(&r);
    }
    results_json_set_chunk_size(0);
}

static void json_collection_errors(void **state)
{
    (void)state;
    const char *files[] = {"collection-error-stops.json", "collection-error-continue.json",
                           "xdist-two-workers.json"};
    size_t counts[] = {2, 18, 18};
    for (int i = 0; i < 3; i++) {
        recs_t rs;
        results_json_scan_t scan;
        read_json(files[i], &rs, &scan);
        assert_null(scan.error);
        assert_int_equal(rs.len, counts[i]);
        const rec_t *t = recs_find(&rs, "tests/test_import_error.py");
        assert_non_null(t);
        assert_true(t->collection_error);
        assert_string_equal(t->scope, "");
        assert_non_null(strstr(t->failure, "ImportError while importing test module"));
        assert_true(recs_find(&rs, "tests/test_syntax_error.py")->collection_error);
        recs_free(&rs);
        results_model_t r;
        read_json_model(files[i], &r, &scan);
        results_model_stats_t s;
        results_model_stats(&r, &s);
        assert_int_equal(s.total, counts[i]);
        assert_int_equal(s.collection_errors, 2);
        assert_true(results_model_find(&r, "tests/test_import_error.py")->collection_error);
        assert_string_equal(results_model_find(&r, "tests/test_import_error.py")->file,
                            "tests/test_import_error.py");
        results_model_free(&r);
    }
}

static void json_edge_files(void **state)
{
    (void)state;
    recs_t rs;
    results_json_scan_t scan;
    read_json("vanished-file.json", &rs, &scan); /* "[]" */
    assert_null(scan.error);
    assert_int_equal(rs.len, 0);
    recs_free(&rs);
    read_json("retry-selectors.json", &rs, &scan);
    assert_int_equal(rs.len, 4);
    assert_non_null(recs_find(&rs, "tests/test_basic.py::test_param[h\\xe9llo w\\xf6rld]"));
    recs_free(&rs);

    const char *quirks = "\xEF\xBB\xBF [ {\"SCOPE\": \"a.py\", \"Name\": \"t[\\u00e9 \\\"q\\\" "
                         "]\", \"result\": \"passed\", "
                         "\"history\": {\"start_at\": 8.2e-05, \"duration\": 1E-6}}, 42, "
                         "{\"name\": \"no_result\", \"history\": {\"duration\": -1}},"
                         "{\"scope\": \"\", \"name\": \"b.py\", \"tags\": "
                         "{\"test.pytest_collection_error\": true}, \"result\": \"failed\"} ]\n";
    char *path = scratch_file("tep-json", quirks, strlen(quirks));
    memset(&rs, 0, sizeof rs);
    results_json_read_records(path, recs_collect, &rs, warn_to_stderr, NULL, &scan);
    assert_null(scan.error);
    assert_int_equal(scan.bad, 1);
    assert_int_equal(rs.problems, 1);
    assert_int_equal(rs.len, 3);
    assert_true(recs_find(&rs, "a.py::t[\xc3\xa9 \"q\" ]")->duration == 1e-6);
    assert_int_equal(recs_find(&rs, "no_result")->status, ST_UNKNOWN);
    assert_true(recs_find(&rs, "no_result")->duration < 0); /* a negative time is no time */
    assert_true(recs_find(&rs, "b.py")->collection_error);
    recs_free(&rs);
    results_model_t r;
    results_model_init(&r, NULL, 0);
    results_json_read_records(path, results_model_add_fn, &r, warn_to_stderr, NULL, &scan);
    assert_int_equal(r.skipped_records, 1);
    results_model_stats_t st;
    results_model_stats(&r, &st);
    assert_int_equal(st.total, 3);
    assert_int_equal(st.unknown, 1);
    results_model_free(&r);

    const char *bad[] = {"{\"data\": []}", "[{\"name\": \"x\"}", "", "[] trailing"};
    for (int i = 0; i < 4; i++) {
        fs_write_file(path, bad[i], strlen(bad[i]));
        memset(&rs, 0, sizeof rs);
        results_json_read_records(path, recs_collect, &rs, warn_to_stderr, NULL, &scan);
        assert_non_null(scan.error);
        assert_true(scan.error[0] != '\0');
        free(scan.error);
        recs_free(&rs);
    }
    unlink(path);
    free(path);
}

static void junit_conformance(void **state)
{
    (void)state;
    recs_t rs;
    results_junit_scan_t scan;
    read_junit("clean-run.xml", &rs, &scan);
    assert_null(scan.error);
    assert_int_equal(rs.len, 16);
    check(&rs, CLEAN_RUN, sizeof CLEAN_RUN / sizeof CLEAN_RUN[0]);
    assert_string_equal(recs_find(&rs, "tests/test_basic.py::test_setup_error")->failure,
                        "failed on setup with \"RuntimeError: setup exploded\"");
    assert_string_equal(
        recs_find(&rs, "tests/test_basic.py::TestGroup::TestInner::test_deep")->scope,
        "tests.test_basic.TestGroup.TestInner");
    assert_true(recs_find(&rs, "tests/test_basic.py::test_pass")->duration ==
                0.001); /* time="0.001" */
    recs_free(&rs);

    read_junit("collection-error-continue.xml", &rs, &scan);
    assert_null(scan.error);
    assert_int_equal(rs.len, 18);
    const rec_t *t = recs_find(&rs, "tests/test_import_error.py");
    assert_non_null(t);
    assert_true(t->collection_error);
    assert_string_equal(t->file, "tests/test_import_error.py");
    assert_string_equal(
        t->failure,
        "ImportError while importing test module '/builds/acme/shop/tests/test_import_error.py'.");
    assert_true(recs_find(&rs, "tests/test_syntax_error.py")->collection_error);
    recs_free(&rs);

    const char *others[] = {"collection-error-stops.xml", "vanished-file.xml",
                            "xdist-two-workers.xml", "all-passing.xml", "retry-selectors.xml"};
    size_t counts[] = {2, 0, 18, 3, 4};
    for (int i = 0; i < 5; i++) {
        read_junit(others[i], &rs, &scan);
        assert_null(scan.error);
        assert_int_equal(rs.len, counts[i]);
        recs_free(&rs);
        results_model_t r;
        char *p = conf(others[i]);
        results_model_init(&r, NULL, 0);
        results_junit_read_records(p, results_model_add_fn, &r, warn_to_stderr, NULL, &scan);
        free(p);
        results_model_stats_t s;
        results_model_stats(&r, &s);
        assert_int_equal(s.total, counts[i]);
        results_model_free(&r);
    }
}

static void junit_bad_inputs(void **state)
{
    (void)state;
    const char *bare = "<testsuite><testcase classname=\"t.test_a\" name=\"x\" time=\"nan\"><error "
                       "message=\"boom\"/></testcase></testsuite>";
    char *path = scratch_file("tep-xml", bare, strlen(bare));
    recs_t rs = {0};
    results_junit_scan_t scan;
    results_junit_read_records(path, recs_collect, &rs, warn_to_stderr, NULL, &scan);
    assert_null(scan.error);
    assert_int_equal(recs_find(&rs, "t/test_a.py::x")->status, ST_FAILED);
    assert_true(recs_find(&rs, "t/test_a.py::x")->duration < 0); /* time="nan" is no time */
    recs_free(&rs);
    const char *bad[] = {"<html/>", "<testsuites><testcase", ""};
    for (int i = 0; i < 3; i++) {
        fs_write_file(path, bad[i], strlen(bad[i]));
        results_junit_read_records(path, recs_collect, &rs, warn_to_stderr, NULL, &scan);
        assert_non_null(scan.error);
        free(scan.error);
        recs_free(&rs);
    }
    unlink(path);
    free(path);
}

/* Each record's byte range is exactly its <testcase> element in the file. */
static void junit_ranges(void **state)
{
    (void)state;
    const char *files[] = {"collection-error-continue.xml", "clean-run.xml"};
    for (int f = 0; f < 2; f++) {
        char *p = conf(files[f]);
        size_t len = 0;
        char *data = fs_read_file(p, &len);
        free(p);
        assert_non_null(data);
        recs_t rs;
        results_junit_scan_t scan;
        read_junit(files[f], &rs, &scan);
        assert_true(rs.len > 10);
        size_t prev_end = 0;
        for (size_t i = 0; i < rs.len; i++) {
            const char *c = data + rs.v[i].start;
            size_t n = rs.v[i].end - rs.v[i].start;
            assert_true(rs.v[i].start >= prev_end && rs.v[i].end <= len);
            prev_end = rs.v[i].end;
            assert_true(strncmp(c, "<testcase ", 10) == 0);
            assert_true((n > 2 && strncmp(c + n - 2, "/>", 2) == 0) ||
                        (n > 11 && strncmp(c + n - 11, "</testcase>", 11) == 0));
        }
        recs_free(&rs);
        free(data);
    }
}

static void node_ids(void **state)
{
    (void)state;
    struct {
        const char *cls, *name, *want;
    } cases[] = {
        {"tests.test_auth.TestLogin", "test_success",
         "tests/test_auth.py::TestLogin::test_success"},
        {"tests.MyTest.test_add", "test_add", "tests/MyTest/test_add.py::test_add"},
        {"test_sample", "test_happy", "test_sample.py::test_happy"},
        {"pkg.checks_test.TestX.TestY", "t", "pkg/checks_test.py::TestX::TestY::t"},
        {"a.b.Foo", "t", "a/b.py::Foo::t"},
        {"", "bare", "bare"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = results_junit_node_id(cases[i].cls, cases[i].name);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
    char *m = results_junit_module_path("tests.test_import_error");
    assert_string_equal(m, "tests/test_import_error.py");
    free(m);
}

static test_record_t record(const char *scope, const char *name, char *node_id,
                            test_status_t status, const char *failure)
{
    return (test_record_t){.scope = scope,
                           .name = name,
                           .node_id = node_id,
                           .file = scope,
                           .status = status,
                           .failure = failure,
                           .duration = -1};
}

static void add(results_model_t *r, const char *scope, const char *name, test_status_t status,
                const char *failure)
{
    char *id = recs_node_id(scope, name);
    test_record_t rec = record(scope, name, id, status, failure);
    results_model_add(r, &rec);
    free(id);
}

static void merging_muting_and_flaky(void **state)
{
    (void)state;
    plan_test_ref_t muted[] = {{"a.py", "t_muted"}, {"a.py", "t_muted_ok"}};
    results_model_t r;
    results_model_init(&r, muted, 2);
    add(&r, "a.py", "t_flaky", ST_FAILED, "E   AssertionError: boom");
    add(&r, "a.py", "t_muted", ST_FAILED, "x");
    add(&r, "a.py", "t_muted_ok", ST_PASSED, NULL);
    for (int i = 0; i < 3000; i++) { /* counted, never kept */
        char name[32];
        snprintf(name, sizeof name, "t_%d", i);
        add(&r, "b.py", name, i % 2 ? ST_PASSED : ST_SKIPPED, NULL);
    }
    for (int i = 0; i < 3000; i++) { /* kept: grows the index several times */
        char name[32];
        snprintf(name, sizeof name, "f_%d", i);
        add(&r, "c.py", name, ST_FAILED, "AssertionError: no");
    }
    assert_int_equal(r.len, 3002);
    assert_null(results_model_find(&r, "b.py::t_2999"));
    assert_string_equal(results_model_find(&r, "a.py::t_flaky")->failure,
                        "AssertionError: boom"); /* the cause, not the text */
    add(&r, "a.py", "t_flaky", ST_PASSED, NULL); /* the retry */
    test_result_t *t = results_model_find(&r, "a.py::t_flaky");
    assert_true(results_model_is_flaky(t));
    assert_int_equal(t->attempts, 2);
    assert_null(t->failure);
    assert_true(results_model_find(&r, "a.py::t_muted")->muted);
    assert_non_null(results_model_find(&r, "c.py::f_2999"));
    results_model_stats_t s;
    results_model_stats(&r, &s);
    assert_int_equal(s.total, 6003);
    assert_int_equal(s.passed_first, 1500);
    assert_int_equal(s.skipped, 1500);
    assert_int_equal(s.passed_retry, 1);
    assert_int_equal(s.flaky, 1);
    assert_int_equal(s.muted_failed, 1);
    assert_int_equal(s.muted_passed, 1);
    assert_int_equal(s.failed, 3000);
    /* a record that is not a test is counted as unreadable, nothing else */
    test_record_t bad = {.problem = "not a JSON object", .duration = -1};
    results_model_add(&r, &bad);
    assert_int_equal(r.skipped_records, 1);
    results_model_free(&r);
}

/* A test pytest no longer has (its id was widened) is forgotten: the others
 * keep their order, and lookups still find each of them. */
static void forgotten_tests_leave_the_model(void **state)
{
    (void)state;
    results_model_t r;
    results_model_init(&r, NULL, 0);
    for (int i = 0; i < 2000; i++) { /* over the first index size */
        char name[32];
        snprintf(name, sizeof name, "f_%d", i);
        add(&r, "a.py", name, ST_FAILED, "AssertionError: no");
    }
    results_model_forget(&r, "a.py::f_7");
    results_model_forget(&r, "a.py::nothing_like_it"); /* not tracked: nothing happens */
    assert_int_equal(r.len, 1999);
    assert_null(results_model_find(&r, "a.py::f_7"));
    assert_string_equal(r.tests[7].node_id, "a.py::f_8");
    for (int i = 0; i < 2000; i++) {
        char id[40];
        snprintf(id, sizeof id, "a.py::f_%d", i);
        test_result_t *t = results_model_find(&r, id);
        if (i == 7) continue;
        if (!t || strcmp(t->node_id, id) != 0) fail_msg("%s lost", id);
    }
    results_model_stats_t s;
    results_model_stats(&r, &s);
    assert_int_equal(s.failed, 1999);
    results_model_free(&r);
}

/* A long cause is cut, so a tracked test costs a bounded amount. */
static void long_causes_are_cut(void **state)
{
    (void)state;
    char *text = xmalloc(TEXT_KEEP + 1);
    memset(text, 'x', TEXT_KEEP);
    memcpy(text, "AssertionError: ", 16);
    text[TEXT_KEEP] = '\0';
    char *cause = results_model_cause(text, NULL);
    assert_true(strlen(cause) < RESULTS_MODEL_CAUSE_KEEP + 64);
    assert_true(strncmp(cause, "AssertionError: xxx", 19) == 0);
    free(cause);
    free(text);
    assert_null(results_model_cause("", NULL));
}

static void classification(void **state)
{
    (void)state;
    config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.failure_exit_status = 1;
    cfg.terminal_exit_status = 65;
    bool term;
    outcome_t o = {.json_mode = true};
    assert_int_equal(run_classify(&cfg, &o, &term), 0);
    o = (outcome_t){.last_exit = 1, .failed = 2};
    assert_int_equal(run_classify(&cfg, &o, &term), 1);
    assert_false(term);
    o = (outcome_t){.last_exit = 1, .collection_errors = 1, .failed = 3}; /* xdist: exit 1 + tag */
    assert_int_equal(run_classify(&cfg, &o, &term), 65);
    assert_true(term);
    o = (outcome_t){.last_exit = 2, .json_mode = true};
    assert_int_equal(run_classify(&cfg, &o, &term), 65);
    o = (outcome_t){.last_exit = 2, .json_mode = false}; /* JUnit interrupted: pass through */
    assert_int_equal(run_classify(&cfg, &o, &term), 2);
    o = (outcome_t){.last_exit = 0, .unreadable = true};
    assert_int_equal(run_classify(&cfg, &o, &term), 65);
    o = (outcome_t){.last_exit = 1, .muted_failed = 1};
    assert_int_equal(run_classify(&cfg, &o, &term), 0);
    o = (outcome_t){.last_exit = 1};
    assert_int_equal(run_classify(&cfg, &o, &term),
                     1); /* exit 1 with nothing failed is not a pass */
    o = (outcome_t){.last_exit = 4};
    assert_int_equal(run_classify(&cfg, &o, &term), 4);
    o = (outcome_t){.last_exit = 5};
    assert_int_equal(run_classify(&cfg, &o, &term), 5);
    o = (outcome_t){.signal = 15, .collection_errors = 1};
    assert_int_equal(run_classify(&cfg, &o, &term), 143);
    cfg.config_exit_status = 78;
    o = (outcome_t){.not_started = true, .last_exit = 127};
    assert_int_equal(run_classify(&cfg, &o, &term), 78);
    assert_false(term);
    cfg.terminal_exit_status = 99;
    o = (outcome_t){.collection_errors = 1};
    assert_int_equal(run_classify(&cfg, &o, &term), 99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_clean_run),
        cmocka_unit_test(json_collection_errors),
        cmocka_unit_test(json_edge_files),
        cmocka_unit_test(junit_conformance),
        cmocka_unit_test(junit_bad_inputs),
        cmocka_unit_test(junit_ranges),
        cmocka_unit_test(node_ids),
        cmocka_unit_test(merging_muting_and_flaky),
        cmocka_unit_test(forgotten_tests_leave_the_model),
        cmocka_unit_test(long_causes_are_cut),
        cmocka_unit_test(classification),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
