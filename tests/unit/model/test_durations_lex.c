/* durations_lex: the JSON tokens of a durations file, read from a real file
 * one byte at a time. Where the cursor is left after each call, the line it
 * is on, how strings and numbers are decoded, how any value is skipped, and
 * the one-line first problem every failing call keeps. test_durations_file.c
 * covers the reader built on top; this file pins the lexer's own contract. */
#include "unit.h"
#include "base/buf.h"
#include "model/durations_lex.h"
#include "scratch.h"
#include <math.h>
#include <stdio.h>
#include <unistd.h>

/* A lexer over a temp file holding text[0..len), its cursor on the first
 * byte, as durations_file.c starts one. */
typedef struct {
    durations_lex_t x;
    char *path;
} lexfile_t;

static void lex_open_bytes(lexfile_t *l, const char *text, size_t len)
{
    memset(l, 0, sizeof *l);
    l->path = scratch_file("tep-durlex", text, len);
    l->x.f = fopen(l->path, "r");
    assert_non_null(l->x.f);
    l->x.label = "durations merge";
    l->x.path = l->path;
    l->x.line = 1;
    durations_lex_advance(&l->x);
}

static void lex_open(lexfile_t *l, const char *text)
{
    lex_open_bytes(l, text, strlen(text));
}

static void lex_close(lexfile_t *l)
{
    fclose(l->x.f);
    durations_lex_free(&l->x);
    unlink(l->path);
    free(l->path);
}

/* The message a failure on `line` with `what` must keep. */
static void assert_err(const lexfile_t *l, size_t line, const char *what)
{
    assert_non_null(l->x.err);
    char *want = xasprintf("durations merge '%s' line %zu: %s", l->path, line, what);
    assert_string_equal(l->x.err, want);
    free(want);
}

/* ---- the cursor ---- */

static void cursor_moves_one_byte_and_counts_lines(void **state)
{
    (void)state;
    lexfile_t l;
    lex_open(&l, "a\nb\n\nc");
    durations_lex_t *x = &l.x;
    assert_int_equal(x->c, 'a');
    assert_int_equal(x->line, 1);
    durations_lex_advance(x);
    assert_int_equal(x->c, '\n');
    assert_int_equal(x->line, 1); /* the newline itself is still on line 1 */
    durations_lex_advance(x);
    assert_int_equal(x->c, 'b');
    assert_int_equal(x->line, 2);
    durations_lex_advance(x);
    durations_lex_advance(x);
    durations_lex_advance(x);
    assert_int_equal(x->c, 'c');
    assert_int_equal(x->line, 4);
    durations_lex_advance(x);
    assert_int_equal(x->c, EOF);
    durations_lex_advance(x); /* past the end it stays at the end */
    assert_int_equal(x->c, EOF);
    assert_int_equal(x->line, 4);
    assert_null(x->err);
    lex_close(&l);
}

static void whitespace_is_json_whitespace_only(void **state)
{
    (void)state;
    lexfile_t l;
    lex_open(&l, " \t\r\n \n\vx");
    durations_lex_skip_ws(&l.x);
    assert_int_equal(l.x.c, '\v'); /* not JSON whitespace: the caller sees it */
    assert_int_equal(l.x.line, 3);
    durations_lex_advance(&l.x);
    durations_lex_skip_ws(&l.x); /* nothing to skip: the cursor stays */
    assert_int_equal(l.x.c, 'x');
    lex_close(&l);
    lex_open(&l, "  ");
    durations_lex_skip_ws(&l.x);
    assert_int_equal(l.x.c, EOF);
    lex_close(&l);
}

static void the_first_problem_is_kept_in_one_line(void **state)
{
    (void)state;
    lexfile_t l;
    lex_open(&l, "x\ny\nz");
    durations_lex_advance(&l.x);
    durations_lex_advance(&l.x);
    assert_false(durations_lex_fail(&l.x, "the first problem"));
    assert_err(&l, 2, "the first problem");
    durations_lex_advance(&l.x);
    durations_lex_advance(&l.x);
    assert_false(durations_lex_fail(&l.x, "a consequence"));
    assert_err(&l, 2, "the first problem");
    durations_lex_free(&l.x);
    assert_null(l.x.err);
    assert_false(durations_lex_fail(&l.x, "after a free")); /* a fresh start */
    assert_err(&l, 3, "after a free");
    lex_close(&l);
}

static void at_number_sees_where_a_number_starts(void **state)
{
    (void)state;
    const char *starts = "-0123456789NI";
    const char *others = "\"+.eEtfn{[]},: \nni";
    for (const char *s = starts; *s; s++) {
        lexfile_t l;
        lex_open_bytes(&l, s, 1);
        if (!durations_lex_at_number(&l.x)) fail_msg("'%c' does start a number", *s);
        lex_close(&l);
    }
    for (const char *s = others; *s; s++) {
        lexfile_t l;
        lex_open_bytes(&l, s, 1);
        if (durations_lex_at_number(&l.x)) fail_msg("'%c' does not start a number", *s);
        lex_close(&l);
    }
    lexfile_t l;
    lex_open(&l, "");
    assert_false(durations_lex_at_number(&l.x));
    lex_close(&l);
}

/* ---- strings ---- */

/* Reads the string at the cursor; expects success. Returns a copy of what it
 * decoded (it may hold a NUL: *len says how much) and leaves unpaired. */
static char *lex_string(lexfile_t *l, size_t *len, bool *unpaired)
{
    buf_t out = BUF_INIT;
    buf_puts(&out, "left over from before");
    *unpaired = true; /* must be set by the call, not left as it was */
    assert_true(durations_lex_string(&l->x, &out, unpaired));
    assert_null(l->x.err);
    *len = out.len;
    char *copy = xmalloc(out.len + 1);
    memcpy(copy, buf_str(&out), out.len + 1);
    buf_free(&out);
    return copy;
}

static void strings_decode_escapes_into_the_callers_buffer(void **state)
{
    (void)state;
    lexfile_t l;
    lex_open(&l, "\"q\\\"b\\\\s\\/ \\b\\f\\n\\r\\t\" rest");
    size_t len;
    bool unpaired;
    char *s = lex_string(&l, &len, &unpaired);
    assert_string_equal(s, "q\"b\\s/ \b\f\n\r\t");
    assert_int_equal(len, strlen("q\"b\\s/ \b\f\n\r\t"));
    assert_false(unpaired);
    assert_int_equal(l.x.c, ' '); /* just after the closing quote */
    free(s);
    lex_close(&l);

    lex_open(&l, "\"\"x");
    s = lex_string(&l, &len, &unpaired);
    assert_int_equal(len, 0); /* "left over" was reset */
    assert_int_equal(l.x.c, 'x');
    free(s);
    lex_close(&l);
}

static void unicode_escapes_become_utf8(void **state)
{
    (void)state;
    lexfile_t l;
    /* 1, 2, 3 and 4 UTF-8 bytes; upper-case hex; raw UTF-8 kept as it is */
    lex_open(&l, "\"\\u0041\\u00e9\\u00C9\\u20AC\\ud83d\\ude00 caf\xc3\xa9\",");
    size_t len;
    bool unpaired;
    char *s = lex_string(&l, &len, &unpaired);
    assert_string_equal(s, "A\xc3\xa9\xc3\x89\xe2\x82\xac\xf0\x9f\x98\x80 caf\xc3\xa9");
    assert_false(unpaired);
    assert_int_equal(l.x.c, ',');
    free(s);
    lex_close(&l);

    lex_open(&l, "\"a\\u0000b\""); /* a NUL is decoded; the caller decides about it */
    s = lex_string(&l, &len, &unpaired);
    assert_int_equal(len, 3);
    assert_memory_equal(s, "a\0b", 3);
    free(s);
    lex_close(&l);
}

/* A surrogate that is not half of a pair names no file: reported through
 * *unpaired, the string is still read to its end. */
static void unpaired_surrogates_are_reported_and_the_string_read_on(void **state)
{
    (void)state;
    struct {
        const char *text, *want;
    } cases[] = {
        {"\"\\ud800\"", ""},                               /* high at the end */
        {"\"\\ud800x\"", "x"},                             /* high, then a byte */
        {"\"\\ud800\\n\"", "\n"},                          /* high, then an escape */
        {"\"\\ud800\\u0041\"", "A"},                       /* high, then no low */
        {"\"\\udc00\"", ""},                               /* a low alone */
        {"\"\\ude00\\ud83d\"", ""},                        /* the halves swapped */
        {"\"\\ud800\\ud83d\\ude00\"", "\xf0\x9f\x98\x80"}, /* a high, then a pair */
        {"\"\\ud83d\\ude00\\udc00\"", "\xf0\x9f\x98\x80"}, /* a pair, then a low */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lexfile_t l;
        lex_open(&l, cases[i].text);
        size_t len;
        bool unpaired;
        char *s = lex_string(&l, &len, &unpaired);
        if (!unpaired) fail_msg("%s: the unpaired surrogate was not reported", cases[i].text);
        assert_string_equal(s, cases[i].want);
        assert_int_equal(l.x.c, EOF); /* read to the closing quote */
        free(s);
        lex_close(&l);
    }
}

static void string_errors_name_the_problem_and_the_line(void **state)
{
    (void)state;
    struct {
        const char *text;
        size_t line;
        const char *what;
    } cases[] = {
        {"\"abc", 1, "a string never ends"},
        {"\n\n\"ab\\", 3, "a bad escape in a string"}, /* the file ends after '\\' */
        {"\"a\tb\"", 1, "a control character inside a string (JSON needs it escaped)"},
        {"\n\"a\nb\"", 2, "a control character inside a string (JSON needs it escaped)"},
        {"\"a\\xb\"", 1, "a bad escape in a string"},
        {"\"a\\'b\"", 1, "a bad escape in a string"},
        {"\"\\u12\"", 1, "a \\u escape needs four hex digits"},
        {"\"\\u12g4\"", 1, "a \\u escape needs four hex digits"},
        {"\"\\u12", 1, "a \\u escape needs four hex digits"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lexfile_t l;
        lex_open(&l, cases[i].text);
        durations_lex_skip_ws(&l.x);
        buf_t out = BUF_INIT;
        bool unpaired = false;
        if (durations_lex_string(&l.x, &out, &unpaired)) fail_msg("'%s' was read", cases[i].text);
        assert_err(&l, cases[i].line, cases[i].what);
        buf_free(&out);
        lex_close(&l);
    }
}

/* ---- numbers ---- */

/* Reads the number at the start of text; expects success and that the
 * cursor is then on `after`. */
static double lex_number(const char *text, int after)
{
    lexfile_t l;
    lex_open(&l, text);
    double v = -12345;
    if (!durations_lex_number(&l.x, &v)) fail_msg("'%s': %s", text, l.x.err);
    if (l.x.c != after) fail_msg("'%s': the cursor is on %d, not %d", text, l.x.c, after);
    lex_close(&l);
    return v;
}

static void numbers_follow_json_grammar(void **state)
{
    (void)state;
    assert_float_equal(lex_number("0", EOF), 0, 0);
    assert_float_equal(lex_number("-0,", ','), 0, 0);
    assert_float_equal(lex_number("12}", '}'), 12, 0);
    assert_float_equal(lex_number("1.5 ", ' '), 1.5, 0);
    assert_float_equal(lex_number("-7.25\n", '\n'), -7.25, 0);
    assert_float_equal(lex_number("1e3]", ']'), 1000, 0);
    assert_float_equal(lex_number("1E+3", EOF), 1000, 0);
    assert_float_equal(lex_number("2.5e-3", EOF), 0.0025, 1e-15);
    assert_float_equal(lex_number("0.125", EOF), 0.125, 0);
    assert_float_equal(lex_number("3x", 'x'), 3, 0); /* the number ends; the caller sees 'x' */
}

static void malformed_numbers_are_refused(void **state)
{
    (void)state;
    const char *bad[] = {"01", "-01", "00", "1.", "1.e3", "-", "-x", ".5", "1e", "1e+", "1E-}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lexfile_t l;
        lex_open(&l, bad[i]);
        double v;
        if (durations_lex_number(&l.x, &v)) fail_msg("'%s' was read as %g", bad[i], v);
        assert_err(&l, 1, "not JSON: a malformed number");
        lex_close(&l);
    }
}

/* Python's json writes NaN and Infinity; they are read so that the format
 * can refuse the entry, not the file. */
static void python_words_are_read_as_numbers(void **state)
{
    (void)state;
    assert_true(isnan(lex_number("NaN,", ',')));
    double v = lex_number("Infinity}", '}');
    assert_true(isinf(v) && v > 0);
    v = lex_number("-Infinity", EOF);
    assert_true(isinf(v) && v < 0);
    const char *bad[] = {"Nan", "NAN", "Inf", "Infinit", "-Infinty", "N"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lexfile_t l;
        lex_open(&l, bad[i]);
        double ignored;
        if (durations_lex_number(&l.x, &ignored)) fail_msg("'%s' was read", bad[i]);
        assert_err(&l, 1, "not JSON: an unknown word where a value should be");
        lex_close(&l);
    }
}

static void huge_tiny_and_long_numbers(void **state)
{
    (void)state;
    double v = lex_number("1e999", EOF);
    assert_true(v == HUGE_VAL); /* not finite: the format refuses it */
    v = lex_number("-1e999", EOF);
    assert_true(v == -HUGE_VAL);
    v = lex_number("1e-999", EOF); /* underflow is just zero seconds */
    assert_true(isfinite(v) && v >= 0 && v < 1e-300);

    char digits[70];
    memset(digits, '0', sizeof digits);
    digits[0] = '1';
    digits[64] = '\0'; /* 64 characters: still a number */
    assert_float_equal(lex_number(digits, EOF), 1e63, 1e48);
    digits[64] = '0';
    digits[65] = '\0';
    lexfile_t l;
    lex_open(&l, digits);
    double ignored;
    assert_false(durations_lex_number(&l.x, &ignored));
    assert_err(&l, 1, "a number of seconds longer than 64 characters");
    lex_close(&l);
}

/* ---- skipping ---- */

/* Skips the value at the start of text; expects success, the cursor then on
 * `after`. */
static void assert_skips(const char *text, int after)
{
    lexfile_t l;
    lex_open(&l, text);
    if (!durations_lex_skip_value(&l.x)) fail_msg("'%s': %s", text, l.x.err);
    if (l.x.c != after) fail_msg("'%s': the cursor is on %d, not %d", text, l.x.c, after);
    lex_close(&l);
}

static void any_value_is_skipped_whole(void **state)
{
    (void)state;
    assert_skips("{\"a\": [1, {\"b\": \"]}\\\"{\"}, null, true, false, -1.5e3, NaN]} ,x", ' ');
    assert_skips("[[], {}, [[\"[\"]]]]", ']'); /* the value ends at its own bracket */
    assert_skips("  \n [ ]x", 'x');            /* leading whitespace is skipped */
    assert_skips("\"a string\",", ',');
    assert_skips("\"\\ud800\"}", '}'); /* an unpaired surrogate is no problem here */
    assert_skips("true]", ']');
    assert_skips("false", EOF);
    assert_skips("null ", ' ');
    assert_skips("-Infinity,", ',');
    assert_skips("2.5e1}", '}');
}

/* A hostile file of 200,000 nested brackets must not overflow the stack. */
static void any_depth_is_skipped_without_recursion(void **state)
{
    (void)state;
    size_t depth = 200000;
    buf_t doc = BUF_INIT;
    for (size_t i = 0; i < depth; i++) buf_puts(&doc, i % 2 ? "{\"k\":" : "[");
    buf_putc(&doc, '1');
    for (size_t i = depth; i-- > 0;) buf_puts(&doc, i % 2 ? "}" : "]");
    buf_putc(&doc, ';');
    assert_skips(doc.data, ';');
    buf_free(&doc);
}

static void skip_errors_name_the_problem_and_the_line(void **state)
{
    (void)state;
    struct {
        const char *text;
        size_t line;
        const char *what;
    } cases[] = {
        {"[1, 2}", 1, "not JSON: brackets do not match"},
        {"{\n\"a\": 1\n]", 3, "not JSON: brackets do not match"},
        {"]", 1, "not JSON: brackets do not match"},
        {", 1", 1, "not JSON: a stray ',' or ':'"},
        {":", 1, "not JSON: a stray ',' or ':'"},
        {"[1,\n2", 2, "the file ends inside a value"},
        {"", 1, "the file ends inside a value"},
        {"  \n", 2, "the file ends inside a value"},
        {"[@]", 1, "not JSON: an unexpected character"},
        {"'a'", 1, "not JSON: an unexpected character"},
        {"[tru]", 1, "not JSON: an unknown word where a value should be"},
        {"nul", 1, "not JSON: an unknown word where a value should be"},
        {"[\"abc", 1, "a string never ends"},
        {"[\n\n01]", 3, "not JSON: a malformed number"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lexfile_t l;
        lex_open(&l, cases[i].text);
        if (durations_lex_skip_value(&l.x)) fail_msg("'%s' was skipped", cases[i].text);
        assert_err(&l, cases[i].line, cases[i].what);
        lex_close(&l);
    }
}

/* One lexer serves a whole file: scratch buffers are reused between calls,
 * and after the first failure later calls keep its message. */
static void a_lexer_reads_a_file_of_many_tokens(void **state)
{
    (void)state;
    lexfile_t l;
    lex_open(&l, "[[1]] \"k\" 2.5 [\"x\"] 1x");
    durations_lex_t *x = &l.x;
    assert_true(durations_lex_skip_value(x));
    durations_lex_skip_ws(x);
    buf_t key = BUF_INIT;
    bool unpaired;
    assert_true(durations_lex_string(x, &key, &unpaired));
    assert_string_equal(key.data, "k");
    durations_lex_skip_ws(x);
    double v;
    assert_true(durations_lex_number(x, &v));
    assert_float_equal(v, 2.5, 0);
    assert_true(durations_lex_skip_value(x));
    durations_lex_skip_ws(x);
    assert_true(durations_lex_number(x, &v)); /* "1", the cursor on 'x' */
    assert_float_equal(v, 1, 0);
    assert_false(durations_lex_skip_value(x)); /* 'x' starts no value */
    assert_err(&l, 1, "not JSON: an unexpected character");
    assert_false(durations_lex_number(x, &v)); /* a later problem: the first is kept */
    assert_err(&l, 1, "not JSON: an unexpected character");
    buf_free(&key);
    lex_close(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cursor_moves_one_byte_and_counts_lines),
        cmocka_unit_test(whitespace_is_json_whitespace_only),
        cmocka_unit_test(the_first_problem_is_kept_in_one_line),
        cmocka_unit_test(at_number_sees_where_a_number_starts),
        cmocka_unit_test(strings_decode_escapes_into_the_callers_buffer),
        cmocka_unit_test(unicode_escapes_become_utf8),
        cmocka_unit_test(unpaired_surrogates_are_reported_and_the_string_read_on),
        cmocka_unit_test(string_errors_name_the_problem_and_the_line),
        cmocka_unit_test(numbers_follow_json_grammar),
        cmocka_unit_test(malformed_numbers_are_refused),
        cmocka_unit_test(python_words_are_read_as_numbers),
        cmocka_unit_test(huge_tiny_and_long_numbers),
        cmocka_unit_test(any_value_is_skipped_whole),
        cmocka_unit_test(any_depth_is_skipped_without_recursion),
        cmocka_unit_test(skip_errors_name_the_problem_and_the_line),
        cmocka_unit_test(a_lexer_reads_a_file_of_many_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
