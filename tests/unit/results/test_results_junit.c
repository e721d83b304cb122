/* Hostile JUnit XML: nested testcases, huge attributes and bodies, huge
 * names, floods of bad testcases, and a tag too large to hold. */
#include "unit.h"
#include "base/text.h"
#include "base/buf.h"
#include "results/results_junit.h"
#include "records.h"
#include "scratch.h"
#include "warn_lines.h"
#include "results/results_model.h"
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static char *write_temp(const char *data, size_t len)
{
    return scratch_file("tep-junit", data, len);
}

static void read_xml(const char *text, size_t len, recs_t *r, results_junit_scan_t *scan)
{
    char *path = write_temp(text, len);
    memset(r, 0, sizeof *r);
    results_junit_read_records(path, recs_collect, r, warn_to_stderr, NULL, scan);
    unlink(path);
    free(path);
}

/* read_xml as a call for scratch_stderr. */
typedef struct {
    const char *text;
    size_t len;
    recs_t r;
    results_junit_scan_t scan;
    strlist_t *lines; /* with it, warnings go there instead of stderr */
} xml_read_t;

static void read_xml_call(void *arg)
{
    xml_read_t *x = arg;
    if (!x->lines) {
        read_xml(x->text, x->len, &x->r, &x->scan);
        return;
    }
    char *path = write_temp(x->text, x->len);
    memset(&x->r, 0, sizeof x->r);
    results_junit_read_records(path, recs_collect, &x->r, warn_to_list, x->lines, &x->scan);
    unlink(path);
    free(path);
}

/* The reader never prints: what it skipped or ignored goes, one line each,
 * to the caller's warn_fn. */
static void warnings_go_to_the_warn_fn_only(void **state)
{
    (void)state;
    buf_t b = BUF_INIT;
    buf_puts(&b, "<testsuite><testcase classname=\"tests.test_a\" name=\"");
    for (int i = 0; i < RESULTS_JUNIT_MAX_ID + 1; i++) buf_putc(&b, 'n');
    buf_puts(&b, "\"/>\n<testcase classname=\"tests.test_a\" name=\"ok\"><testcase name=\"in\"/>"
                 "</testcase></testsuite>");
    strlist_t lines = STRLIST_INIT;
    xml_read_t x = {.text = b.data, .len = b.len, .lines = &lines};
    size_t printed = 0;
    char *err = scratch_stderr(read_xml_call, &x, &printed);
    assert_int_equal(printed, 0);
    assert_null(x.scan.error);
    assert_int_equal(x.r.len, 1);
    assert_int_equal(lines.len, 2);
    assert_non_null(strstr(lines.items[0], " line 1: a testcase classname or name is longer than "
                                           "64 KiB; skipped"));
    assert_non_null(strstr(lines.items[1], ": 1 <testcase> elements inside another <testcase> "
                                           "were ignored (pytest never writes them)"));
    free(err);
    strlist_free(&lines);
    recs_free(&x.r);
    buf_free(&b);
}

static void nested_testcase_is_ignored_without_a_leak(void **state)
{
    (void)state;
    /* The inner <testcase> once overwrote the outer one's strings (a leak under
     * ASan) and the outer test was lost. */
    const char *xml = "<testsuite><testcase classname=\"tests.test_a\" name=\"test_outer\">"
                      "<testcase classname=\"tests.test_a\" name=\"test_inner\"><testcase "
                      "name=\"deeper\"/></testcase>"
                      "<failure message=\"boom\"/></testcase>"
                      "<testcase classname=\"tests.test_a\" name=\"test_next\"/></testsuite>";
    recs_t r;
    results_junit_scan_t scan;
    read_xml(xml, strlen(xml), &r, &scan);
    assert_null(scan.error);
    assert_int_equal(r.len, 2);
    const rec_t *t = recs_find(&r, "tests/test_a.py::test_outer");
    assert_non_null(t);
    assert_int_equal(t->status, ST_FAILED);
    assert_string_equal(t->failure, "boom");
    assert_non_null(recs_find(&r, "tests/test_a.py::test_next"));
    assert_null(recs_find(&r, "tests/test_a.py::test_inner"));
    recs_free(&r);
}

static void huge_message_is_cut_and_said_so(void **state)
{
    (void)state;
    alarm(60);
    buf_t b = BUF_INIT;
    buf_puts(&b, "<testsuite><testcase classname=\"tests.test_a\" name=\"test_x\"><failure "
                 "message=\"\xc3\xa9");
    for (int i = 0; i < 100000; i++) buf_puts(&b, "0123456789");
    buf_puts(&b, "\">body</failure></testcase>"
                 "<testcase classname=\"tests.test_a\" name=\"test_y\"><error>prefix:");
    for (int i = 0; i < 100000; i++) buf_puts(&b, "\xc3\xa9-line\n");
    buf_puts(&b, "</error></testcase></testsuite>");
    recs_t r;
    results_junit_scan_t scan;
    read_xml(b.data, b.len, &r, &scan);
    assert_null(scan.error);
    const rec_t *x = recs_find(&r, "tests/test_a.py::test_x");
    assert_true(strlen(x->failure) < TEXT_KEEP + 64);
    assert_non_null(strstr(x->failure, "... [cut: 1000002 bytes in all]"));
    assert_int_equal(strncmp(x->failure,
                             "\xc3\xa9"
                             "0123",
                             6),
                     0);
    const rec_t *y = recs_find(&r, "tests/test_a.py::test_y");
    assert_true(strlen(y->failure) < TEXT_KEEP + 64);
    assert_non_null(strstr(y->failure, "... [cut: 800007 bytes in all]"));
    /* the cut never splits the two-byte character */
    const char *note = strstr(y->failure, "... [cut");
    assert_true(note - y->failure >= 2);
    /* "prefix:" then "é-line\n" (8 bytes) repeated: byte 16384 is the second
     * byte of an é, so the kept text stops before that é, on a '\n'. */
    assert_int_equal(note - y->failure, 16383);
    assert_int_equal(note[-1], '\n');
    recs_free(&r);
    buf_free(&b);
    alarm(0);
}

static void huge_attribute_reads_in_linear_time(void **state)
{
    (void)state;
    alarm(120);
    /* A 48 MB attribute fed to expat 64 KiB at a time was re-read ~750 times
     * (~18 GB of scanning); reading as much as expat holds makes it ~100 MB. */
    size_t big = 48u << 20;
    buf_t b = BUF_INIT;
    buf_puts(&b,
             "<testsuite><testcase classname=\"tests.test_a\" name=\"test_x\"><failure message=\"");
    buf_reserve(&b, big);
    memset(b.data + b.len, 'm', big);
    b.len += big;
    buf_puts(&b, "\"/></testcase></testsuite>");
    clock_t t0 = clock();
    recs_t r;
    results_junit_scan_t scan;
    read_xml(b.data, b.len, &r, &scan);
    double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_null(scan.error);
    assert_int_equal(r.len, 1);
    if (cpu > 4.0) fail_msg("a 48 MB attribute took %.1f s of CPU", cpu);
    recs_free(&r);
    buf_free(&b);
    alarm(0);
}

static void oversized_tag_is_an_error(void **state)
{
    (void)state;
    buf_t b = BUF_INIT;
    buf_puts(
        &b,
        "<testsuite><testcase classname=\"tests.test_a\" name=\"test_ok\"/>\n<testcase name=\"");
    for (int i = 0; i < 400000; i++) buf_putc(&b, 'n');
    buf_puts(&b, "\"/></testsuite>");
    results_junit_set_max_token(128 << 10);
    recs_t r;
    results_junit_scan_t scan;
    read_xml(b.data, b.len, &r, &scan);
    results_junit_set_max_token(0);
    assert_non_null(scan.error);
    assert_non_null(strstr(scan.error, "one XML tag at line 2 is larger than 128 KiB"));
    assert_int_equal(r.len, 1); /* what came before still counts */
    free(scan.error);
    recs_free(&r);
    buf_free(&b);
}

static void oversized_names_are_skipped_with_capped_warnings(void **state)
{
    (void)state;
    buf_t b = BUF_INIT;
    buf_puts(&b, "<testsuite>");
    for (int k = 0; k < 20; k++) {
        buf_puts(&b, "<testcase classname=\"tests.test_a\" name=\"");
        for (int i = 0; i < RESULTS_JUNIT_MAX_ID + 1; i++) buf_putc(&b, 'n');
        buf_puts(&b, "\"/>");
    }
    buf_puts(&b, "<testcase classname=\"tests.test_a\" name=\"test_fine\"/></testsuite>");
    xml_read_t x = {.text = b.data, .len = b.len};
    size_t lines = 0;
    char *err = scratch_stderr(read_xml_call, &x, &lines);
    bool count_line = strstr(err, "15 more testcases skipped") != NULL;
    free(err);
    assert_null(x.scan.error);
    assert_int_equal(x.r.len, 1);
    assert_int_equal(x.r.problems, 20);
    assert_int_equal(lines, RESULTS_JUNIT_MAX_WARNINGS + 1);
    assert_true(count_line);
    recs_free(&x.r);
    buf_free(&b);
}

static void entity_amplification_is_refused(void **state)
{
    (void)state;
    alarm(30);
    const char *xml = "<?xml version=\"1.0\"?><!DOCTYPE t [<!ENTITY a "
                      "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">"
                      "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
                      "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
                      "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">"
                      "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">"
                      "<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">"
                      "<!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">]>"
                      "<testsuite><testcase classname=\"tests.test_a\" name=\"t\"><failure "
                      "message=\"&g;\"/></testcase></testsuite>";
    recs_t r;
    results_junit_scan_t scan;
    read_xml(xml, strlen(xml), &r, &scan);
    /* Refused at the first declaration, before any expansion, on every expat
     * (2.2.10, Debian 11's, has no amplification limit of its own). */
    assert_non_null(scan.error);
    assert_non_null(strstr(scan.error, "/tmp/tep-junit-"));
    assert_non_null(strstr(scan.error, "declares an XML entity"));
    assert_int_equal(r.len, 0);
    free(scan.error);
    recs_free(&r);
    alarm(0);
}

/* An attribute by name from expat's list (name, value, ..., NULL); NULL
 * when absent, and a value is never mistaken for a name. */
static void attribute_lookup(void **state)
{
    (void)state;
    const char *atts[] = {"classname", "tests.a", "name", "classname", "time", "0.5", NULL};
    assert_string_equal(results_junit_attr(atts, "classname"), "tests.a");
    assert_string_equal(results_junit_attr(atts, "name"), "classname");
    assert_string_equal(results_junit_attr(atts, "time"), "0.5");
    assert_null(results_junit_attr(atts, "tests.a"));
    assert_null(results_junit_attr(atts, "message"));
    const char *none[] = {NULL};
    assert_null(results_junit_attr(none, "name"));
}

/* A skip's reason is its message (pytest's JUnit writer drops "Skipped: "
 * itself); an expected failure says so; a failure's text is not a skip's. */
static void skipped_testcases_carry_their_reason(void **state)
{
    (void)state;
    const char *xml =
        "<testsuites><testsuite>"
        "<testcase classname=\"tests.test_a\" name=\"test_net\" time=\"0.001\">"
        "<skipped type=\"pytest.skip\" message=\"needs network\">tests/test_a.py:3: needs "
        "network</skipped></testcase>"
        "<testcase classname=\"tests.test_a\" name=\"test_bug\" time=\"0.002\">"
        "<skipped type=\"pytest.xfail\" message=\"bug 12\" /></testcase>"
        "<testcase classname=\"tests.test_a\" name=\"test_bare\"><skipped /></testcase>"
        "<testcase classname=\"tests.test_a\" name=\"test_f\"><failure message=\"boom\"/>"
        "<skipped message=\"not this\"/></testcase>"
        "</testsuite></testsuites>";
    recs_t r;
    results_junit_scan_t scan;
    read_xml(xml, strlen(xml), &r, &scan);
    assert_int_equal(r.len, 4);
    assert_int_equal(r.v[0].status, ST_SKIPPED);
    assert_string_equal(r.v[0].failure, "needs network");
    assert_float_equal(r.v[0].duration, 0.001, 1e-9);
    assert_string_equal(r.v[1].failure, "xfail: bug 12");
    assert_string_equal(r.v[2].failure, "");
    assert_int_equal(r.v[3].status, ST_FAILED);
    assert_string_equal(r.v[3].failure, "boom");
    recs_free(&r);
    free(scan.error);
}

/* pytest's JUnit for a run with two files that cannot be imported (the real
 * pytest 7.2.1 output of the conformance run): each is a testcase with no
 * classname and <error message="collection failure">, read as a collection
 * error of that file; a setup error and the failures beside them are not. */
static void collection_errors_from_real_pytest(void **state)
{
    (void)state;
    size_t len = 0;
    char *xml = fs_read_file(
        "fixtures/conformance/pytest-7.2.1-collector-1.8.0/collection-error-continue.xml", &len);
    assert_non_null(xml);
    recs_t r;
    results_junit_scan_t scan;
    read_xml(xml, len, &r, &scan);
    assert_int_equal(r.len, 18);
    size_t collection_errors = 0;
    for (size_t i = 0; i < r.len; i++) collection_errors += r.v[i].collection_error;
    assert_int_equal(collection_errors, 2);
    const rec_t *imp = recs_find(&r, "tests/test_import_error.py");
    assert_non_null(imp);
    assert_true(imp->collection_error);
    assert_int_equal(imp->status, ST_FAILED);
    assert_true(recs_find(&r, "tests/test_syntax_error.py")->collection_error);
    const rec_t *setup = recs_find(&r, "tests/test_basic.py::test_setup_error");
    assert_non_null(setup);
    assert_false(setup->collection_error);
    assert_false(recs_find(&r, "tests/test_basic.py::test_fail")->collection_error);
    recs_free(&r);
    free(xml);
    /* the label alone is not enough: a test of a class whose error says the
     * same words is that test's error */
    static const char TEST_ERROR[] =
        "<testsuites><testsuite><testcase classname=\"tests.test_x\" name=\"test_y\">"
        "<error message=\"collection failure\">boom</error></testcase></testsuite></testsuites>";
    read_xml(TEST_ERROR, sizeof TEST_ERROR - 1, &r, &scan);
    assert_int_equal(r.len, 1);
    assert_string_equal(r.v[0].node_id, "tests/test_x.py::test_y");
    assert_false(r.v[0].collection_error);
    recs_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nested_testcase_is_ignored_without_a_leak),
        cmocka_unit_test(warnings_go_to_the_warn_fn_only),
        cmocka_unit_test(huge_message_is_cut_and_said_so),
        cmocka_unit_test(huge_attribute_reads_in_linear_time),
        cmocka_unit_test(oversized_tag_is_an_error),
        cmocka_unit_test(oversized_names_are_skipped_with_capped_warnings),
        cmocka_unit_test(skipped_testcases_carry_their_reason),
        cmocka_unit_test(entity_amplification_is_refused),
        cmocka_unit_test(attribute_lookup),
        cmocka_unit_test(collection_errors_from_real_pytest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
