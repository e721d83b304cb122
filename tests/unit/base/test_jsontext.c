/* jsontext: JSON string literals written by hand. Escapes as JSON needs them,
 * bytes kept as they came (our files) or made valid UTF-8 (files other tools
 * parse strictly), and the UTF-8 sequence check both modes rest on. */
#include "unit.h"
#include "base/buf.h"
#include "base/jsontext.h"
#include <cjson/cJSON.h>

/* The literal for s, as a heap string. */
static char *json_literal(const char *s, bool valid_utf8)
{
    buf_t b = BUF_INIT;
    jsontext_put_string(&b, s, valid_utf8);
    return buf_detach(&b);
}

static void assert_literal(const char *s, bool valid_utf8, const char *want)
{
    char *got = json_literal(s, valid_utf8);
    assert_string_equal(got, want);
    free(got);
}

static void escapes_what_json_needs(void **state)
{
    (void)state;
    for (int strict = 0; strict < 2; strict++) {
        assert_literal("", strict, "\"\"");
        assert_literal("tests/a.py::t[1-2]", strict, "\"tests/a.py::t[1-2]\"");
        assert_literal("q\"b\\s", strict, "\"q\\\"b\\\\s\"");
        assert_literal("a\nb\tc\rd\x01\x1f", strict, "\"a\\u000ab\\u0009c\\u000dd\\u0001\\u001f\"");
        assert_literal("del\x7f/", strict, "\"del\x7f/\""); /* DEL and '/' need nothing */
    }
}

static void raw_mode_keeps_every_byte(void **state)
{
    (void)state;
    /* invalid UTF-8 in a node id: it must come back byte for byte (a retry
     * selector names the test pytest printed) */
    assert_literal("caf\xe9 \xc0\x80 \xed\xa0\x80 \xff", false,
                   "\"caf\xe9 \xc0\x80 \xed\xa0\x80 \xff\"");
    assert_literal("caf\xc3\xa9 \xf0\x9f\x98\x80", false, "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
}

static void strict_mode_replaces_each_bad_byte(void **state)
{
    (void)state;
    /* valid sequences of every length stay */
    assert_literal("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", true,
                   "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
    assert_literal("caf\xe9!", true, "\"caf\\ufffd!\"");               /* Latin-1 */
    assert_literal("\xc0\x80", true, "\"\\ufffd\\ufffd\"");            /* overlong NUL */
    assert_literal("\xe0\x80\xaf", true, "\"\\ufffd\\ufffd\\ufffd\""); /* overlong '/' */
    assert_literal("\xed\xa0\x80", true, "\"\\ufffd\\ufffd\\ufffd\""); /* a surrogate */
    assert_literal("\xf4\x90\x80\x80", true,
                   "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");           /* past U+10FFFF */
    assert_literal("a\xe2\x82", true, "\"a\\ufffd\\ufffd\"");     /* cut short by the end */
    assert_literal("\x80z", true, "\"\\ufffdz\"");                /* a lone continuation byte */
    assert_literal("\xe2\x82\"", true, "\"\\ufffd\\ufffd\\\"\""); /* cut short by a quote */
}

static void utf8_len_of_each_kind(void **state)
{
    (void)state;
    struct {
        const char *s;
        size_t want;
    } cases[] = {
        {"a", 1},
        {"\x7f", 1},
        {"\xc2\x80", 2},
        {"\xdf\xbf", 2},
        {"\xe0\xa0\x80", 3},
        {"\xed\x9f\xbf", 3},
        {"\xef\xbf\xbf", 3},
        {"\xf0\x90\x80\x80", 4},
        {"\xf4\x8f\xbf\xbf", 4},
        {"\x80", 0},
        {"\xc1\xbf", 0},
        {"\xc2", 0},
        {"\xe0\x9f\xbf", 0},
        {"\xed\xa0\x80", 0},
        {"\xf0\x8f\xbf\xbf", 0},
        {"\xf4\x90\x80\x80", 0},
        {"\xf5\x80\x80\x80", 0},
        {"\xe2\x82", 0},
        {"\xc3(", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (jsontext_utf8_len(cases[i].s) != cases[i].want)
            fail_msg("case %zu: %zu, want %zu", i, jsontext_utf8_len(cases[i].s), cases[i].want);
}

/* What is written parses back, with a strict parser, to what was given. */
static void literals_parse_back(void **state)
{
    (void)state;
    const char *inputs[] = {"plain", "q\"\\/\b\f\n\r\t\x01 end", "caf\xc3\xa9 \xf0\x9f\x98\x80",
                            "tests/test_a.py::test_x[\\u0041]"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        for (int strict = 0; strict < 2; strict++) {
            char *text = json_literal(inputs[i], strict);
            cJSON *v = cJSON_Parse(text);
            assert_true(cJSON_IsString(v));
            assert_string_equal(v->valuestring, inputs[i]);
            cJSON_Delete(v);
            free(text);
        }
    }
}

/* Decodes lit; the decoded bytes (NUL-terminated, length in *n) or NULL for BAD. */
static char *decoded(const char *lit, jsontext_decoded_t *d, size_t *n)
{
    buf_t b = BUF_INIT;
    *d = jsontext_decode(lit, strlen(lit), &b);
    *n = b.len ? b.len - 1 : 0;
    if (*d == JSONTEXT_BAD) {
        assert_int_equal(b.len, 0); /* nothing left behind */
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b);
}

static void assert_decodes_to(const char *lit, const char *want)
{
    jsontext_decoded_t d;
    size_t n;
    char *got = decoded(lit, &d, &n);
    if (d != JSONTEXT_OK) fail_msg("%s: not decoded (%d)", lit, (int)d);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(got, want, n);
    free(got);
}

static void decode_reads_every_escape(void **state)
{
    (void)state;
    assert_decodes_to("\"\"", "");
    assert_decodes_to("\"tests/a.py::t\"", "tests/a.py::t");
    assert_decodes_to("\"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\"", "q\"b\\s/\b\f\n\r\t");
    assert_decodes_to("\"\\u0041\\u00e9\\u20ac\"", "A\xc3\xa9\xe2\x82\xac");
    assert_decodes_to("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80");     /* a surrogate pair */
    assert_decodes_to("\"raw \xe9 \xc3\xa9\"", "raw \xe9 \xc3\xa9"); /* bytes kept */
}

/* Python's json writes a file name's undecodable byte as \udcXX
 * (surrogateescape): the name must come back byte for byte, never cut. */
static void decode_gives_surrogate_escaped_bytes_back(void **state)
{
    (void)state;
    assert_decodes_to("\"tests/test_latin1_\\udce9.py::test_x\"",
                      "tests/test_latin1_\xe9.py::test_x");
    assert_decodes_to("\"\\udc80\\udcff\"", "\x80\xff");
    /* other lone surrogates cannot be bytes: U+FFFD */
    assert_decodes_to("\"a\\ud800b\\udc7fc\"", "a\xef\xbf\xbd"
                                               "b\xef\xbf\xbd"
                                               "c");
}

static void decode_flags_nul_and_refuses_broken_literals(void **state)
{
    (void)state;
    jsontext_decoded_t d;
    size_t n;
    char *got = decoded("\"test_a\\u0000b\"", &d, &n);
    assert_int_equal(d, JSONTEXT_NUL);
    assert_string_equal(got, "test_a\xef\xbf\xbd"
                             "b"); /* not cut at the NUL */
    free(got);
    const char *bad[] = {"",         "\"",      "x",         "\"abc",       "abc\"",
                         "\"a\"b\"", "\"a\\\"", "\"\\u12\"", "\"\\uzzzz\"", "\"\\x41\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(decoded(bad[i], &d, &n));
        assert_int_equal(d, JSONTEXT_BAD);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escapes_what_json_needs),
        cmocka_unit_test(raw_mode_keeps_every_byte),
        cmocka_unit_test(strict_mode_replaces_each_bad_byte),
        cmocka_unit_test(utf8_len_of_each_kind),
        cmocka_unit_test(literals_parse_back),
        cmocka_unit_test(decode_reads_every_escape),
        cmocka_unit_test(decode_gives_surrogate_escaped_bytes_back),
        cmocka_unit_test(decode_flags_nul_and_refuses_broken_literals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
