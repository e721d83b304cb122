/* Hostile JUnit XML: nested testcases, huge attributes and bodies, huge
 * names, floods of bad testcases, and a tag too large to hold. */
#include "unit.h"
#include "buf.h"
#include "results_junit.h"
#include "records.h"
#include "warn_lines.h"
#include "run_result.h"
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static char *write_temp(const char *data, size_t len)
{
    char *path = strdup("/tmp/tep-junit-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

static void read_xml(const char *text, size_t len, recs_t *r, results_junit_scan_t *scan)
{
    char *path = write_temp(text, len);
    memset(r, 0, sizeof *r);
    results_junit_read_records(path, recs_collect, r, warn_to_stderr, NULL, scan);
    unlink(path);
    free(path);
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
    assert_true(strlen(x->failure) < TEP_TEXT_KEEP + 64);
    assert_non_null(strstr(x->failure, "... [cut: 1000002 bytes in all]"));
    assert_int_equal(strncmp(x->failure,
                             "\xc3\xa9"
                             "0123",
                             6),
                     0);
    const rec_t *y = recs_find(&r, "tests/test_a.py::test_y");
    assert_true(strlen(y->failure) < TEP_TEXT_KEEP + 64);
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
    char errpath[] = "/tmp/tep-junit-err-XXXXXX";
    int fd = mkstemp(errpath);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    recs_t r;
    results_junit_scan_t scan;
    read_xml(b.data, b.len, &r, &scan);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *f = fdopen(fd, "r");
    rewind(f);
    char line[512];
    int lines = 0;
    bool count_line = false;
    while (fgets(line, sizeof line, f)) {
        lines++;
        if (strstr(line, "15 more testcases skipped")) count_line = true;
    }
    fclose(f);
    unlink(errpath);
    assert_null(scan.error);
    assert_int_equal(r.len, 1);
    assert_int_equal(r.problems, 20);
    assert_int_equal(lines, RESULTS_JUNIT_MAX_WARNINGS + 1);
    assert_true(count_line);
    recs_free(&r);
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
    assert_non_null(scan.error); /* expat's amplification limit */
    assert_non_null(strstr(scan.error, "/tmp/tep-junit-"));
    free(scan.error);
    recs_free(&r);
    alarm(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nested_testcase_is_ignored_without_a_leak),
        cmocka_unit_test(huge_message_is_cut_and_said_so),
        cmocka_unit_test(huge_attribute_reads_in_linear_time),
        cmocka_unit_test(oversized_tag_is_an_error),
        cmocka_unit_test(oversized_names_are_skipped_with_capped_warnings),
        cmocka_unit_test(entity_amplification_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
