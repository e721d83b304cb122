/* Hostile collector JSON: elements that do not advance the scanner, floods of
 * bad records, huge fields and huge records. Every test runs under alarm() so
 * a regression to "loops forever" fails instead of hanging the suite. */
#include "unit.h"
#include "base/text.h"
#include "base/buf.h"
#include "results/results_json.h"
#include "base/fs.h"
#include "records.h"
#include "scratch.h"
#include "warn_lines.h"
#include "results/results_model.h"
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static char *write_temp(const char *data, size_t len)
{
    return scratch_file("tep-cj", data, len);
}

/* Reads `text` as a collector file with the given chunk size. */
static void read_text(const char *text, size_t len, size_t chunk, recs_t *r,
                      results_json_scan_t *scan)
{
    char *path = write_temp(text, len);
    results_json_set_chunk_size(chunk);
    memset(r, 0, sizeof *r);
    results_json_read_records(path, recs_collect, r, warn_to_stderr, NULL, scan);
    results_json_set_chunk_size(0);
    unlink(path);
    free(path);
}

static void non_advancing_elements_stop_with_an_error(void **state)
{
    (void)state;
    alarm(20);
    /* Each of these once made the scanner return a zero-length element forever. */
    const char *bad[] = {"[}]",
                         "[{\"name\":\"a\"}}]",
                         "[:]",
                         "[1:]",
                         "[{\"name\":\"a\"} }",
                         "[\x01]",
                         "[,]",
                         "[1,]",
                         "[1 2]",
                         "[{\"name\":\"a\"},,{\"name\":\"b\"}]",
                         "[\"a\"\"b\"]"};
    size_t chunks[] = {0, 1, 2, 3};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (size_t c = 0; c < 4; c++) {
            recs_t r;
            results_json_scan_t scan;
            read_text(bad[i], strlen(bad[i]), chunks[c], &r, &scan);
            if (!scan.error) fail_msg("'%s' (chunk %zu) was accepted", bad[i], chunks[c]);
            assert_non_null(strstr(scan.error, "/tmp/tep-cj-")); /* names the file */
            assert_null(strchr(scan.error, '\n'));
            assert_true(scan.elements <= 2);
            free(scan.error);
            recs_free(&r);
        }
    }
    /* What was read before the bad byte still counts. */
    recs_t r;
    results_json_scan_t scan;
    read_text("[{\"name\":\"a\",\"result\":\"failed\"}}]", 33, 0, &r, &scan);
    assert_non_null(scan.error);
    assert_non_null(strstr(scan.error, "unexpected '}' at byte 31"));
    assert_int_equal(r.len, 1);
    assert_int_equal(recs_find(&r, "a")->status, ST_FAILED);
    free(scan.error);
    recs_free(&r);
    alarm(0);
}

static void valid_odd_spacing_still_reads(void **state)
{
    (void)state;
    const char *ok[] = {"[]", " [ ] ", "[ {\"name\":\"a\"} , {\"name\":\"b\"} ]",
                        "[{\"name\":\"a\"},1,true,null,\"s\",[]]", "[\n]\n"};
    size_t elements[] = {0, 0, 2, 6, 0};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        for (size_t chunk = 0; chunk < 4; chunk++) {
            recs_t r;
            results_json_scan_t scan;
            char *err = NULL;
            (void)err;
            read_text(ok[i], strlen(ok[i]), chunk, &r, &scan);
            if (scan.error) fail_msg("'%s' (chunk %zu): %s", ok[i], chunk, scan.error);
            assert_int_equal(scan.elements, elements[i]);
            recs_free(&r);
        }
    }
}

/* One read of `text`, for scratch_stderr to run with stderr captured. */
typedef struct {
    const char *text;
    size_t len;
    warn_fn warn; /* warn_to_stderr, warn_to_list (into lines) or NULL */
    recs_t r;
    results_json_scan_t scan;
    strlist_t lines;
} captured_read_t;

static void read_captured(void *arg)
{
    captured_read_t *c = arg;
    char *path = write_temp(c->text, c->len);
    results_json_read_records(path, recs_collect, &c->r, c->warn, &c->lines, &c->scan);
    unlink(path);
    free(path);
}

static void bad_record_warnings_are_capped(void **state)
{
    (void)state;
    alarm(20);
    buf_t b = BUF_INIT;
    buf_puts(&b, "[");
    for (int i = 0; i < 10000; i++) buf_puts(&b, "42,");
    buf_puts(&b, "{\"name\":\"real\",\"result\":\"passed\"}]");
    captured_read_t f = {.text = b.data, .len = b.len, .warn = warn_to_stderr};
    size_t lines = 0;
    char *err = scratch_stderr(read_captured, &f, &lines);
    assert_null(f.scan.error);
    assert_int_equal(f.r.problems, 10000);
    assert_int_equal(f.r.len, 1);
    assert_int_equal(lines, RESULTS_JSON_MAX_WARNINGS + 1); /* five named, then one count */
    assert_non_null(strstr(err, "9995 more result records are not test records"));
    free(err);
    recs_free(&f.r);
    buf_free(&b);
    alarm(0);
}

static void huge_failure_reason_is_cut(void **state)
{
    (void)state;
    alarm(60);
    for (int escaped = 0; escaped < 2; escaped++) {
        buf_t b = BUF_INIT;
        buf_puts(&b, "[{\"name\":\"t\",\"result\":\"failed\",\"failure_reason\":\"");
        for (int i = 0; i < 200000; i++) buf_puts(&b, escaped ? "ab\\ncd\\u00e9" : "0123456789");
        buf_puts(&b, "\"}]");
        recs_t r;
        results_json_scan_t scan;
        read_text(b.data, b.len, 0, &r, &scan);
        assert_null(scan.error);
        const rec_t *t = recs_find(&r, "t");
        assert_non_null(t);
        assert_true(strlen(t->failure) < TEXT_KEEP + 64);
        assert_non_null(strstr(t->failure, "... [cut: "));
        assert_int_equal(
            strncmp(t->failure, escaped ? "ab\ncd\xc3\xa9" : "0123456789", escaped ? 7 : 10), 0);
        recs_free(&r);
        buf_free(&b);
    }
    alarm(0);
}

static void oversized_name_makes_the_record_unusable(void **state)
{
    (void)state;
    buf_t b = BUF_INIT;
    buf_puts(&b, "[{\"name\":\"");
    for (int i = 0; i < RESULTS_JSON_MAX_ID + 10; i++) buf_putc(&b, 'n');
    buf_puts(&b, "\"},{\"name\":\"ok\"}]");
    recs_t r;
    results_json_scan_t scan;
    read_text(b.data, b.len, 0, &r, &scan);
    assert_null(scan.error);
    assert_int_equal(r.len, 1);
    assert_int_equal(r.problems, 1);
    assert_non_null(recs_find(&r, "ok"));
    recs_free(&r);
    buf_free(&b);
}

/* A file name that is not UTF-8 (the collector writes its byte 0xe9 as
 * \udce9) comes back byte for byte; a NUL makes the record unusable rather
 * than cutting the name. */
static void names_are_exact_bytes(void **state)
{
    (void)state;
    const char *text = "[{\"scope\":\"tests/test_latin1_\\udce9.py\",\"name\":\"test_x\","
                       "\"file_name\":\"tests/test_latin1_\\udce9.py\",\"result\":\"failed\"},"
                       "{\"scope\":\"tests/test_n.py\",\"name\":\"test_a\\u0000b\","
                       "\"result\":\"failed\"}]";
    recs_t r;
    results_json_scan_t scan;
    read_text(text, strlen(text), 0, &r, &scan);
    assert_null(scan.error);
    assert_int_equal(r.len, 1);
    assert_int_equal(r.problems, 1); /* the NUL one: refused, not cut to "test_a" */
    assert_string_equal(r.v[0].node_id, "tests/test_latin1_\xe9.py::test_x");
    assert_string_equal(r.v[0].file, "tests/test_latin1_\xe9.py");
    recs_free(&r);
}

static void record_size_is_bounded(void **state)
{
    (void)state;
    buf_t b = BUF_INIT;
    buf_puts(&b, "[{\"name\":\"first\"},{\"name\":\"x\",\"history\":\"");
    for (int i = 0; i < 8192; i++) buf_putc(&b, 'h');
    buf_puts(&b, "\"}]");
    results_json_set_max_record(4096);
    recs_t r;
    results_json_scan_t scan;
    read_text(b.data, b.len, 512, &r, &scan);
    results_json_set_max_record(0);
    assert_non_null(scan.error);
    assert_non_null(strstr(scan.error, "record 2 at byte 18 is larger than 4 KiB"));
    assert_int_equal(r.len, 1); /* the record before it still counts */
    free(scan.error);
    recs_free(&r);
    buf_free(&b);
}

static void long_record_is_scanned_once(void **state)
{
    (void)state;
    alarm(60);
    /* A 16 MB record read 4 KiB at a time: rescanning from the record's start
     * on every read (the old scanner) walks ~32 GB; one pass walks 16 MB. */
    buf_t b = BUF_INIT;
    buf_puts(&b, "[{\"name\":\"t\",\"history\":\"");
    buf_reserve(&b, 16u << 20);
    memset(b.data + b.len, 'x', 16u << 20);
    b.len += 16u << 20;
    buf_puts(&b, "\"}]");
    clock_t t0 = clock();
    recs_t r;
    results_json_scan_t scan;
    read_text(b.data, b.len, 4096, &r, &scan);
    double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_null(scan.error);
    assert_int_equal(r.len, 1);
    if (cpu > 3.0) fail_msg("16 MB record took %.1f s of CPU", cpu);
    recs_free(&r);
    buf_free(&b);
    alarm(0);
}

/* The reader never prints: what it skipped goes, one line each, to the
 * caller's warn_fn, and nowhere without one. */
static void warnings_go_to_the_warn_fn_only(void **state)
{
    (void)state;
    for (int warn = 0; warn < 2; warn++) {
        const char *text = "[1,{\"name\":\"a\"},{\"result\":\"passed\"}]";
        captured_read_t l = {.text = text, .len = strlen(text), .warn = warn ? warn_to_list : NULL};
        size_t printed = 0;
        char *err = scratch_stderr(read_captured, &l, &printed);
        assert_int_equal(printed, 0);
        assert_null(l.scan.error);
        assert_int_equal(l.r.len, 1);
        assert_int_equal(l.r.problems, 2);
        assert_int_equal(l.lines.len, warn ? 2 : 0);
        if (warn) {
            assert_non_null(strstr(l.lines.items[0], "result record 1 is not a test record (1); "
                                                     "skipped (not a JSON object)"));
            assert_non_null(strstr(l.lines.items[1], "result record 3 is not a test record"));
            assert_non_null(strstr(l.lines.items[1], "skipped (no name)"));
        }
        strlist_free(&l.lines);
        recs_free(&l.r);
        free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(non_advancing_elements_stop_with_an_error),
        cmocka_unit_test(valid_odd_spacing_still_reads),
        cmocka_unit_test(bad_record_warnings_are_capped),
        cmocka_unit_test(huge_failure_reason_is_cut),
        cmocka_unit_test(oversized_name_makes_the_record_unusable),
        cmocka_unit_test(names_are_exact_bytes),
        cmocka_unit_test(record_size_is_bounded),
        cmocka_unit_test(long_record_is_scanned_once),
        cmocka_unit_test(warnings_go_to_the_warn_fn_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
