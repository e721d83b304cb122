/* The durations file formats: the streaming reader (both formats), the
 * later-wins resolution that plan and merge share, the per-test table, the
 * JSON merge writes and the per-job artifact's writer. */
#include "unit.h"
#include "base/buf.h"
#include "model/durations.h"
#include "base/fs.h"
#include "scratch.h"
#include "warn_lines.h"
#include <sys/stat.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

static char *write_temp(const char *text, size_t len)
{
    return scratch_file("tep-durread", text, len);
}

typedef struct {
    bool ok;
    durations_file_entries_t e;
    char *err;
    char *log; /* what went to stderr */
} read_t;

/* One read, as a call for scratch_stderr. */
typedef struct {
    const char *path;
    durations_file_opts_t o;
    read_t *out;
} read_call_t;

static void read_call(void *arg)
{
    read_call_t *c = arg;
    c->out->ok = durations_file_read(c->path, &c->o, &c->out->e, &c->out->err);
}

static void read_bytes(const char *text, size_t len, bool strict, read_t *out)
{
    char *path = write_temp(text, len);
    memset(out, 0, sizeof *out);
    /* Bad entries are shown as the phases show them: errors in merge
     * (strict), warnings in plan. */
    read_call_t c = {.path = path,
                     .o = {.label = "DURATIONS",
                           .strict = strict,
                           .warn = strict ? error_to_stderr : warn_to_stderr},
                     .out = out};
    out->log = scratch_stderr(read_call, &c, NULL);
    unlink(path);
    free(path);
}

static void read_text(const char *text, bool strict, read_t *out)
{
    read_bytes(text, strlen(text), strict, out);
}

static void read_free(read_t *r)
{
    durations_file_entries_free(&r->e);
    free(r->err);
    free(r->log);
}

static void json_escapes_become_utf8(void **state)
{
    (void)state;
    read_t r;
    read_text("{\"a\\\"q\\\\b\\/c.py::t\": 1, \"caf\\u00e9.py::t\": 2, "
              "\"smile.py::t[\\ud83d\\ude00]\": 3,"
              " \"tab.py::t[\\t]\": 4}",
              true, &r);
    assert_true(r.ok);
    assert_int_equal(r.e.len, 4);
    assert_string_equal(durations_file_key(&r.e, 0), "a\"q\\b/c.py::t");
    assert_string_equal(durations_file_key(&r.e, 1), "caf\xc3\xa9.py::t");
    assert_string_equal(durations_file_key(&r.e, 2), "smile.py::t[\xf0\x9f\x98\x80]");
    assert_string_equal(durations_file_key(&r.e, 3), "tab.py::t[\t]");
    read_free(&r);
}

/* Keys that name nothing on disk are refused, and the rest still count. */
static void unusable_keys_are_refused_by_name(void **state)
{
    (void)state;
    read_t r;
    read_text("{\"lone.py::t[\\ud800]\": 1, \"nul\\u0000.py\": 2, \"low.py::t[\\udc00x]\": 3, "
              "\"ok.py\": 4}",
              false, &r);
    assert_true(r.ok);
    assert_int_equal(r.e.len, 1);
    assert_string_equal(durations_file_key(&r.e, 0), "ok.py");
    assert_non_null(strstr(
        r.log, "key 'lone.py::t[]': the key has an unpaired UTF-16 surrogate; entry ignored"));
    assert_non_null(strstr(r.log, "the key contains a NUL byte; entry ignored"));
    assert_non_null(strstr(r.log, "key 'low.py::t[x]': the key has an unpaired UTF-16 surrogate"));
    read_free(&r);
}

/* Python's json writes NaN and Infinity: the entry is refused, the file is
 * still read (cJSON used to reject the whole file). */
static void python_nan_and_infinity_refuse_only_their_entry(void **state)
{
    (void)state;
    read_t r;
    read_text("{\"a.py::t\": NaN, \"b.py::t\": Infinity, \"c.py::t\": -Infinity, \"d.py::t\": 0.5}",
              false, &r);
    assert_true(r.ok);
    assert_int_equal(r.e.len, 1);
    assert_float_equal(r.e.items[0].seconds, 0.5, 0);
    assert_non_null(strstr(r.log, "key 'a.py::t': value is not a finite number"));
    assert_non_null(strstr(r.log, "key 'c.py::t': value is not a finite number"));
    read_free(&r);
}

static void nested_values_are_skipped_whole(void **state)
{
    (void)state;
    read_t r;
    read_text("{\"a.py\": {\"x\": [1, {\"y\": \"}]\"}, [], null]}, \"b.py\": [true, false], "
              "\"c.py\": \"2\", \"d.py\": 3}",
              false, &r);
    assert_true(r.ok);
    assert_int_equal(r.e.len, 1);
    assert_string_equal(durations_file_key(&r.e, 0), "d.py");
    assert_non_null(strstr(r.log, "key 'a.py': value is not a number of seconds"));
    assert_non_null(strstr(r.log, "key 'b.py': value is not a number of seconds"));
    read_free(&r);
}

static void broken_json_is_one_error_line_with_its_line(void **state)
{
    (void)state;
    struct {
        const char *text, *want;
    } cases[] = {
        {"{", "line 1: not a JSON object of path to seconds"},
        {"{\"a.py\": 1", "line 1: the file ends before the JSON object closes"},
        {"{\"a.py\": 1}\n{\"b.py\": 2}", "line 2: more text after the JSON object's closing '}'"},
        {"{\n\"a.py\" 1}", "line 2: not JSON: expected ':' after a key"},
        {"{\"a.py\": 01}", "not JSON: a malformed number"},
        {"{\"a.py\": 1.}", "not JSON: a malformed number"},
        {"{\"a.py\": -}", "not JSON: a malformed number"},
        {"{\"a\tb.py\": 1}", "a control character inside a string"},
        {"{\"a.py\": 1,}", "not a JSON object of path to seconds (expected a quoted key)"},
        {"{\"a\\x.py\": 1}", "a bad escape in a string"},
        {"{\"a\\u12.py\": 1}", "a \\u escape needs four hex digits"},
        {"{\"a.py\": [1, 2}", "not JSON: brackets do not match"},
        {"{\"a.py\": [1, 2", "the file ends inside a value"},
        {"{\"a.py\": tru}", "not JSON: an unknown word"},
        {"{\"a.py", "a string never ends"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        read_t r;
        read_text(cases[i].text, false, &r);
        if (r.ok) fail_msg("'%s' was accepted", cases[i].text);
        if (!strstr(r.err, cases[i].want)) fail_msg("'%s': got '%s'", cases[i].text, r.err);
        assert_null(strchr(r.err, '\n'));
        assert_non_null(strstr(r.err, "DURATIONS '/tmp/tep-durread-"));
        read_free(&r);
    }
}

static void byte_order_mark_and_blank_json_are_fine(void **state)
{
    (void)state;
    read_t r;
    read_text("\xef\xbb\xbf  \n{ }\n\n", false, &r);
    assert_true(r.ok);
    assert_int_equal(r.e.len, 0);
    read_free(&r);
    read_text("", false, &r); /* an empty file is an empty text-format file */
    assert_true(r.ok);
    assert_int_equal(r.e.len, 0);
    read_free(&r);
}

static void lines_count_from_the_top_and_refuse_nul(void **state)
{
    (void)state;
    read_t r;
    read_text("\n\n# c\n2 a.py\n  1.5   b c.py  \nnope x.py\n", false, &r);
    assert_false(r.ok);
    assert_non_null(strstr(r.err, "line 6: expected '<seconds> <path>'"));
    read_free(&r);
    read_bytes("1 a.py\n2 b\0.py\n", 15, false, &r);
    assert_false(r.ok);
    assert_non_null(strstr(r.err, "line 2: contains a NUL byte"));
    read_free(&r);
    read_text("\n2 a.py\n  1.5   b c.py  \n-1 d.py\n", false, &r);
    assert_true(r.ok);
    assert_int_equal(r.e.len, 2);
    assert_string_equal(durations_file_key(&r.e, 1), "b c.py");
    assert_non_null(strstr(r.log, "line 4: seconds is negative"));
    read_free(&r);
}

/* merge must not write a file that quietly lost entries. */
static void strict_mode_fails_on_bad_entries_naming_them(void **state)
{
    (void)state;
    read_t r;
    read_text(
        "{\"a.py\": -1, \"b.py\": 1, \"c\\u00e9.py\": NaN, \"d.py\": 1, \"e.py\": 1, \"f.py\": 1,"
        " \"g.py\": \"x\", \"h.py\": -2, \"i.py\": -3, \"j.py\": -4, \"k.py\": -5}",
        true, &r);
    assert_false(r.ok);
    assert_non_null(strstr(r.err, "DURATIONS '/tmp/tep-durread-"));
    assert_non_null(strstr(r.err, "7 bad entries (named above); fix or remove them"));
    assert_non_null(strstr(r.log, "error: DURATIONS '/tmp/tep-durread-"));
    assert_non_null(strstr(r.log, "key 'a.py': value is negative"));
    assert_non_null(strstr(r.log, "key 'c\xc3\xa9.py': value is not a finite number"));
    assert_non_null(strstr(r.log, "2 more bad entries (5 shown)"));
    assert_null(strstr(r.log, "entry ignored"));
    read_free(&r);
    read_bytes("1 caf\xe9.py\n", 10, true, &r); /* Latin-1, not UTF-8 */
    assert_false(r.ok);
    assert_non_null(strstr(r.log, "line 1: the path is not valid UTF-8"));
    read_free(&r);
    read_bytes("1 caf\xe9.py\n", 10, false, &r); /* plan: a path is bytes */
    assert_true(r.ok);
    read_free(&r);
}

static void push_entry(durations_file_entries_t *e, const char *key, double s, unsigned src)
{
    durations_file_add(e, key, strlen(key), s, src);
}

static void later_wins_at_the_granularity_it_has(void **state)
{
    (void)state;
    durations_file_entries_t e = {0};
    push_entry(&e, "a.py::t1", 1, 0);
    push_entry(&e, "a.py::t2", 2, 0);
    push_entry(&e, "a.py::t1", 5, 0); /* repeated in one file: the later counts */
    push_entry(&e, "b.py", 10, 0);    /* whole file, then tests of it in a later file */
    push_entry(&e, "b.py::x", 3, 1);
    push_entry(&e, "c.py::x", 4, 0); /* tests, then the whole file in a later file */
    push_entry(&e, "c.py", 6, 1);
    push_entry(&e, "d.py", 1, 1); /* file and tests in one file: both kept */
    push_entry(&e, "d.py::y", 2, 1);
    push_entry(&e, "a.py-b::z", 7, 0); /* sorts between "a.py" and "a.py::" */
    push_entry(&e, "a.py::t2", 9, 2);  /* a later file's test replaces only that test */
    durations_resolve(&e);
    assert_int_equal(e.len, 7);
    const char *want[] = {"a.py-b::z", "a.py::t1", "a.py::t2", "b.py::x",
                          "c.py",      "d.py",     "d.py::y"};
    double secs[] = {7, 5, 9, 3, 6, 1, 2};
    for (size_t i = 0; i < e.len; i++) {
        assert_string_equal(durations_file_key(&e, i), want[i]);
        assert_float_equal(e.items[i].seconds, secs[i], 0);
    }
    durations_file_entries_free(&e);
}

static void per_test_table_and_file_sums(void **state)
{
    (void)state;
    const char *text =
        "{\"a.py\": 1, \"a.py::t1\": 2, \"a.py::t2[x]\": 3, \"a.py-b::z\": 4, \"a.pyc::q\": 5,"
        " \"a.py::t1\": 6}";
    char *path = write_temp(text, strlen(text));
    durations_t d;
    char *err = NULL;
    assert_true(durations_load(path, NULL, NULL, &d, &err));
    assert_int_equal(d.len, 3);
    assert_float_equal(durations_get(&d, "a.py"), 1 + 6 + 3, 0); /* the repeated t1: 6, not 2 + 6 */
    assert_float_equal(durations_get(&d, "a.py-b"), 4, 0);
    assert_float_equal(durations_get(&d, "a.py::t1"), 6, 0);
    assert_float_equal(durations_get(&d, "a.py::t2[x]"), 3, 0);
    assert_true(durations_get(&d, "a.py::t3") < 0);
    assert_true(durations_get(&d, "b.py") < 0);
    size_t first = 99;
    assert_int_equal(durations_tests_of(&d, "a.py", &first), 2);
    assert_string_equal(d.tests[first], "a.py::t1");
    assert_string_equal(d.tests[first + 1], "a.py::t2[x]");
    assert_int_equal(durations_tests_of(&d, "a.p", &first), 0);
    assert_int_equal(durations_tests_of(&d, "zzz.py", &first), 0);
    durations_free(&d);
    unlink(path);
    free(path);
}

/* What merge writes reads back to the same entries, and Python's json would
 * take it (escapes, shortest numbers). */
static void json_out_reads_back_the_same(void **state)
{
    (void)state;
    durations_file_entries_t e = {0};
    push_entry(&e, "q\"\\.py::t[\n]", 0.1, 0);
    push_entry(&e, "b.py::t", 1e-7, 0);
    push_entry(&e, "c\xc3\xa9.py", 3, 0);
    push_entry(&e, "a.py::t", 123456.789, 0);
    durations_resolve(&e);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_true(durations_file_write_json(&e, out));
    fclose(out);
    assert_string_equal(
        text, "{\n    \"a.py::t\": 123456.789,\n    \"b.py::t\": 1e-07,\n    \"c\xc3\xa9.py\": 3,\n"
              "    \"q\\\"\\\\.py::t[\\u000a]\": 0.1\n}\n");
    read_t r;
    read_text(text, true, &r);
    assert_true(r.ok);
    assert_int_equal(r.e.len, e.len);
    for (size_t i = 0; i < e.len; i++) {
        assert_string_equal(durations_file_key(&r.e, i), durations_file_key(&e, i));
        assert_true(r.e.items[i].seconds == e.items[i].seconds);
    }
    read_free(&r);
    free(text);
    durations_file_entries_free(&e);
    text = NULL;
    out = open_memstream(&text, &len);
    assert_true(durations_file_write_json(&e, out)); /* nothing: an empty object */
    fclose(out);
    assert_string_equal(text, "{}\n");
    free(text);
}

/* The per-job artifact: entries in the order given, six decimals, keys made
 * valid UTF-8; it reads back as the same entries, and an empty one is an
 * empty object. */
static void artifact_writer_reads_back(void **state)
{
    (void)state;
    char *path = write_temp("", 0);
    durations_file_writer_t w;
    char *err = NULL;
    assert_true(durations_file_writer_open(&w, path, &err));
    durations_file_writer_put(&w, "b.py::t", 1.25);
    durations_file_writer_put(&w, "a \"q\".py::t[\n]", 0.0000004);
    durations_file_writer_put(&w, "c\xff.py::t", 2);
    assert_int_equal(w.written, 3);
    assert_true(durations_file_writer_close(&w, &err));
    assert_null(err);
    char *text = fs_read_file(path, NULL);
    assert_string_equal(text, "{\n\"b.py::t\": 1.250000,\n\"a \\\"q\\\".py::t[\\u000a]\": "
                              "0.000000,\n\"c\\ufffd.py::t\": 2.000000\n}\n");
    free(text);
    durations_file_entries_t e = {0};
    durations_file_opts_t o = {.label = "DURATIONS", .strict = true};
    assert_true(durations_file_read(path, &o, &e, &err));
    assert_int_equal(e.len, 3);
    assert_string_equal(durations_file_key(&e, 0), "b.py::t");
    assert_float_equal(e.items[0].seconds, 1.25, 0);
    assert_string_equal(durations_file_key(&e, 1), "a \"q\".py::t[\n]");
    assert_string_equal(durations_file_key(&e, 2), "c\xef\xbf\xbd.py::t");
    durations_file_entries_free(&e);
    assert_true(durations_file_writer_open(&w, path, &err));
    assert_true(durations_file_writer_close(&w, &err));
    text = fs_read_file(path, NULL);
    assert_string_equal(text, "{\n}\n");
    free(text);
    unlink(path);
    free(path);
}

/* A file that cannot be written is one error naming it; nothing is left behind. */
static void artifact_writer_errors_name_the_file(void **state)
{
    (void)state;
    durations_file_writer_t w;
    char *err = NULL;
    assert_false(durations_file_writer_open(&w, "/nonexistent-dir/d.json", &err));
    assert_non_null(strstr(err, "cannot write /nonexistent-dir/d.json ("));
    assert_non_null(strstr(err, "No such file or directory"));
    free(err);
    err = NULL;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-durwrite");
    char *target = xasprintf("%s/into-a-dir", dir);
    assert_int_equal(mkdir(target, 0700), 0); /* rename cannot replace a directory */
    assert_true(durations_file_writer_open(&w, target, &err));
    durations_file_writer_put(&w, "a.py::t", 1);
    assert_false(durations_file_writer_close(&w, &err));
    assert_non_null(strstr(err, "cannot write "));
    assert_non_null(strstr(err, "into-a-dir"));
    free(err);
    rmdir(target); /* fails unless the temporary file is gone too */
    assert_int_equal(rmdir(dir), 0);
    free(target);
}

/* The artifact's temporary file was "<path>.tmp.<pid>", opened without
 * O_EXCL or O_NOFOLLOW: a link planted at that name was written through.
 * Now nothing is, and the artifact is still written. */
static void artifact_writer_never_writes_through_a_planted_link(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-durlink");
    char *path = xasprintf("%s/durations.json", dir);
    char *victim = xasprintf("%s/victim", dir);
    char *planted = xasprintf("%s.tmp.%ld", path, (long)getpid());
    assert_int_equal(symlink(victim, planted), 0);
    durations_file_writer_t w;
    char *err = NULL;
    assert_true(durations_file_writer_open(&w, path, &err));
    durations_file_writer_put(&w, "a.py::t", 1);
    assert_true(durations_file_writer_close(&w, &err));
    assert_false(fs_exists(victim));
    char *text = fs_read_file(path, NULL);
    assert_string_equal(text, "{\n\"a.py::t\": 1.000000\n}\n");
    free(text);
    unlink(planted);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
    free(planted);
    free(victim);
    free(path);
}

/* Files that are no durations files end the read at once with one line,
 * never growing memory: a NUL (/dev/zero), a line or a JSON string over
 * 64 KiB (a line of /dev/zero had no end: it grew memory ~65 MB/s). */
static void reads_that_would_never_end_are_refused(void **state)
{
    (void)state;
    durations_file_entries_t e = {0};
    durations_file_opts_t o = {.label = "DURATIONS"};
    char *err = NULL;
    assert_false(durations_file_read("/dev/zero", &o, &e, &err));
    assert_string_equal(err, "DURATIONS '/dev/zero' line 1: contains a NUL byte; a durations "
                             "file is text");
    free(err);
    buf_t text = BUF_INIT;
    buf_puts(&text, "1 a.py\n2 ");
    for (int i = 0; i < 70000; i++) buf_putc(&text, 'b');
    char *path = write_temp(text.data, text.len);
    err = NULL;
    assert_false(durations_file_read(path, &o, &e, &err));
    assert_non_null(strstr(err, "' line 2: a line longer than 64 KiB; a durations file is text"));
    free(err);
    unlink(path);
    free(path);
    buf_reset(&text);
    buf_puts(&text, "{\"a.py\": 1, \"");
    for (int i = 0; i < 70000; i++) buf_putc(&text, 'b');
    buf_puts(&text, "\": 2}");
    path = write_temp(text.data, text.len);
    err = NULL;
    assert_false(durations_file_read(path, &o, &e, &err));
    assert_non_null(strstr(err, "' line 1: a string longer than 64 KiB"));
    free(err);
    unlink(path);
    free(path);
    buf_free(&text);
    durations_file_entries_free(&e);
}

/* The reader never prints: each bad entry, and the count past the cap, is a
 * line for the caller's warn_fn, and nowhere without one. */
/* The artifact's "%.6f" is written by hand for speed: it must be printf's,
 * byte for byte, for every double (ties to even on exact binary halves,
 * tiny and huge values, the edges of the fast path, -0). */
static void seconds_are_printf_byte_for_byte(void **state)
{
    (void)state;
    buf_t mine = BUF_INIT;
    char want[512];
    size_t checked = 0, mismatches = 0;
    double fixed[] = {0.0,
                      -0.0,
                      1e-300,
                      5e-324,
                      0.0000005,
                      0.0000015,
                      0.0000025,
                      0.1,
                      0.123,
                      0.5,
                      1.0,
                      59.999999999,
                      86400.0,
                      604800.25,
                      8589934591.9999995,
                      8589934592.0,
                      8589934592.5,
                      1e20,
                      1.7976931348623157e308};
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0; i < 400000; i++) {
        double s;
        if (i < sizeof fixed / sizeof *fixed) {
            s = fixed[i];
        } else if (i % 4 == 0) { /* exact binary halves of a microsecond: ties */
            s = ldexp((double)(i * 2 + 1), -7 - (int)(i % 30));
        } else if (i % 4 == 1) { /* what pytest writes: three decimals */
            s = (double)(i % 100000) / 1000.0;
        } else { /* any double of any magnitude below 2^40 */
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            s = ldexp((double)(x >> 11), -53 - (int)(x % 60) + 40);
        }
        buf_reset(&mine);
        durations_file_put_seconds(&mine, s);
        snprintf(want, sizeof want, "%.6f", s);
        checked++;
        if (strcmp(buf_str(&mine), want) != 0 && mismatches++ < 5)
            print_message("%.17g: %s, printf %s\n", s, buf_str(&mine), want);
    }
    assert_int_equal(mismatches, 0);
    assert_int_equal(checked, 400000);
    buf_free(&mine);
}

static void warnings_go_to_the_warn_fn_only(void **state)
{
    (void)state;
    const char *text = "1 a.py\n-1 b.py\nnan c.py\n-2 d.py\n-3 e.py\n-4 f.py\n-5 g.py\n-6 h.py\n";
    char *path = write_temp(text, strlen(text));
    for (int warn = 0; warn < 2; warn++) {
        strlist_t lines = STRLIST_INIT;
        read_t r = {0};
        read_call_t c = {
            .path = path,
            .o = {.label = "PLAN", .warn = warn ? warn_to_list : NULL, .warn_user = &lines},
            .out = &r};
        r.log = scratch_stderr(read_call, &c, NULL);
        assert_true(r.ok);
        assert_string_equal(r.log, "");
        assert_int_equal(r.e.len, 1);
        assert_int_equal(lines.len, warn ? DURATIONS_FILE_MAX_WARNINGS + 1 : 0);
        if (warn) {
            assert_non_null(strstr(lines.items[0], "PLAN '/tmp/tep-durread-"));
            assert_non_null(strstr(lines.items[0], "' line 2: seconds is negative; entry ignored"));
            assert_non_null(strstr(lines.items[5], ": 2 more entries ignored (5 shown)"));
        }
        strlist_free(&lines);
        read_free(&r);
    }
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_escapes_become_utf8),
        cmocka_unit_test(reads_that_would_never_end_are_refused),
        cmocka_unit_test(artifact_writer_never_writes_through_a_planted_link),
        cmocka_unit_test(unusable_keys_are_refused_by_name),
        cmocka_unit_test(python_nan_and_infinity_refuse_only_their_entry),
        cmocka_unit_test(nested_values_are_skipped_whole),
        cmocka_unit_test(broken_json_is_one_error_line_with_its_line),
        cmocka_unit_test(byte_order_mark_and_blank_json_are_fine),
        cmocka_unit_test(lines_count_from_the_top_and_refuse_nul),
        cmocka_unit_test(strict_mode_fails_on_bad_entries_naming_them),
        cmocka_unit_test(later_wins_at_the_granularity_it_has),
        cmocka_unit_test(per_test_table_and_file_sums),
        cmocka_unit_test(json_out_reads_back_the_same),
        cmocka_unit_test(artifact_writer_reads_back),
        cmocka_unit_test(seconds_are_printf_byte_for_byte),
        cmocka_unit_test(warnings_go_to_the_warn_fn_only),
        cmocka_unit_test(artifact_writer_errors_name_the_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
