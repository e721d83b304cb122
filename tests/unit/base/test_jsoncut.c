/* jsoncut: where a JSON value ends (strings, escapes, nesting), found in one
 * pass however the bytes arrive, and an object's members as raw byte ranges. */
#include "unit.h"
#include "base/buf.h"
#include "base/jsoncut.h"

/* The state and length of a scan of text fed all at once. */
static jsoncut_state_t scan_whole(const char *text, size_t *len)
{
    jsoncut_scan_t st = {0};
    jsoncut_state_t vs = jsoncut_scan(text, strlen(text), &st);
    *len = st.at;
    return vs;
}

static void values_end_where_json_says(void **state)
{
    (void)state;
    struct {
        const char *text;
        size_t len;
    } cases[] = {
        {"{\"a\":1},{", 7},      {"[1,[2,{\"x\":[]}]] ", 16},
        {"\"q\\\"}\\\\\",", 8},  /* an escaped quote, then an escaped backslash */
        {"{\"k\":\"}]\"}]", 10}, /* brackets inside a string do not count */
        {"-1.5e+3,", 7},         {"true]", 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = 0;
        if (scan_whole(cases[i].text, &len) != JSONCUT_DONE || len != cases[i].len)
            fail_msg("'%s': length %zu, want %zu", cases[i].text, len, cases[i].len);
    }
}

static void a_byte_that_starts_no_value_is_bad(void **state)
{
    (void)state;
    const char *bad[] = {"}", "]", ":", ",", "\x01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = 0;
        assert_int_equal(scan_whole(bad[i], &len), JSONCUT_BAD);
    }
}

/* Fed one byte more at a time (every chunk boundary, a lone backslash at the
 * end of a read included), the scan ends where the whole-text scan does and
 * never walks a byte twice. */
static void resumed_scans_agree_with_whole_ones(void **state)
{
    (void)state;
    const char *texts[] = {"{\"a\":\"x\\\\\",\"b\":[\"\\\"\",{}]},", "\"\\\\\\\"\\\\\" ",
                           "[\"]\",\"\\\\]\"]x"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        size_t want = 0;
        assert_int_equal(scan_whole(texts[i], &want), JSONCUT_DONE);
        jsoncut_scan_t st = {0};
        jsoncut_state_t vs = JSONCUT_MORE;
        size_t avail = 0;
        while (vs == JSONCUT_MORE && avail < strlen(texts[i])) {
            avail++;
            size_t before = st.at;
            vs = jsoncut_scan(texts[i], avail, &st);
            assert_true(st.at >= before && st.at <= avail);
        }
        assert_int_equal(vs, JSONCUT_DONE);
        assert_int_equal(st.at, want);
    }
}

static void input_that_ends_inside_a_value(void **state)
{
    (void)state;
    jsoncut_scan_t st = {0};
    assert_int_equal(jsoncut_scan("12", 2, &st), JSONCUT_MORE);
    assert_true(jsoncut_scalar_ended(&st)); /* a number may end with the input */
    jsoncut_scan_t str = {0};
    assert_int_equal(jsoncut_scan("\"ab", 3, &str), JSONCUT_MORE);
    assert_false(jsoncut_scalar_ended(&str));
    jsoncut_scan_t obj = {0};
    assert_int_equal(jsoncut_scan("{\"a\":1", 6, &obj), JSONCUT_MORE);
    assert_false(jsoncut_scalar_ended(&obj));
    const char *v = "[1,2";
    assert_null(jsoncut_value_end(v, v + strlen(v)));
    const char *n = "42";
    assert_ptr_equal(jsoncut_value_end(n, n + 2), n + 2);
}

static void collect_member(const char *k, size_t klen, const char *v, size_t vlen, void *user)
{
    buf_printf(user, "%.*s=%.*s;", (int)klen, k, (int)vlen, v);
}

static void members_come_out_raw(void **state)
{
    (void)state;
    const char *obj =
        "{ \"name\" : \"t[\\\"x\\\"]\", \"history\":{\"duration\":1.5,\"children\":[{}]},"
        "\"tags\":{}, \"n\":-2 }";
    buf_t b = BUF_INIT;
    assert_true(jsoncut_each_member(obj, strlen(obj), collect_member, &b));
    assert_string_equal(b.data,
                        "name=\"t[\\\"x\\\"]\";history={\"duration\":1.5,\"children\":[{}]};"
                        "tags={};n=-2;");
    buf_free(&b);
    const char *bad[] = {"[1]", "{\"a\" 1}", "{a:1}", "{\"a\":", "{\"a\":[1", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        buf_t ignored = BUF_INIT;
        if (jsoncut_each_member(bad[i], strlen(bad[i]), collect_member, &ignored))
            fail_msg("'%s' was taken for an object", bad[i]);
        buf_free(&ignored);
    }
}

/* The strict walk takes what the lenient one takes when the commas are
 * JSON's, and refuses the objects whose commas are not. */
static void strict_members_need_json_commas(void **state)
{
    (void)state;
    const char *good[] = {"{}", "{ }", "{\"a\":1}", "{ \"a\" : 1 , \"b\":[1,2] ,\"c\":{\"d\":2} }"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        buf_t lenient = BUF_INIT, strict = BUF_INIT;
        assert_true(jsoncut_each_member(good[i], strlen(good[i]), collect_member, &lenient));
        if (!jsoncut_each_member_strict(good[i], strlen(good[i]), collect_member, &strict))
            fail_msg("'%s' was refused", good[i]);
        assert_string_equal(lenient.data ? lenient.data : "", strict.data ? strict.data : "");
        buf_free(&lenient);
        buf_free(&strict);
    }
    const char *bad[] = {
        "{\"a\":1 \"b\":2}", "{\"a\":1,,\"b\":2}", "{\"a\":1,}", "{,\"a\":1}", "{,}",
        "{\"a\":1} x",       "{\"a\":1",           "[1]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        buf_t ignored = BUF_INIT;
        assert_true(i >= 6 ||
                    jsoncut_each_member(bad[i], strlen(bad[i]), collect_member, &ignored));
        if (jsoncut_each_member_strict(bad[i], strlen(bad[i]), collect_member, &ignored))
            fail_msg("'%s' was taken for an object", bad[i]);
        buf_free(&ignored);
    }
}

/* Members picked by name: the first of a repeated name, NULL for an absent
 * one, keys as written; the strict walk refuses a value that is not JSON's. */
static void members_picked_by_name(void **state)
{
    (void)state;
    static const char *const names[] = {"a", "bb", "missing", "n"};
    jsoncut_value_t v[4];
    const char *obj = "{\"bb\": \"x\", \"a\": true, \"a\": 2, \"b\\u0062\": 3, \"n\": -1.5e3}";
    for (int strict = 0; strict < 2; strict++) {
        assert_true(jsoncut_pick(obj, strlen(obj), names, 4, v, strict));
        assert_true(jsoncut_value_is(v[0], "true"));
        assert_int_equal(v[1].len, 3);
        assert_memory_equal(v[1].v, "\"x\"", 3);
        assert_null(v[2].v);
        assert_false(jsoncut_value_is(v[2], "null"));
        assert_true(jsoncut_is_number(v[3].v, v[3].len));
    }
    const char *values[] = {"{\"a\": tru}", "{\"a\": 01}", "{\"a\": 1x}", "{\"a\": +1}",
                            "{\"a\": .5}",  "{\"a\": 1.}", "{\"a\": 1e}"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        assert_true(jsoncut_pick(values[i], strlen(values[i]), names, 1, v, false));
        if (jsoncut_pick(values[i], strlen(values[i]), names, 1, v, true))
            fail_msg("'%s' was taken strictly", values[i]);
    }
    static const char *const numbers[] = {"0", "-0", "12", "1.25", "-3e10", "2E-3", "1.5e+2"};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        assert_true(jsoncut_is_number(numbers[i], strlen(numbers[i])));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(values_end_where_json_says),
        cmocka_unit_test(a_byte_that_starts_no_value_is_bad),
        cmocka_unit_test(resumed_scans_agree_with_whole_ones),
        cmocka_unit_test(input_that_ends_inside_a_value),
        cmocka_unit_test(members_come_out_raw),
        cmocka_unit_test(strict_members_need_json_commas),
        cmocka_unit_test(members_picked_by_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
