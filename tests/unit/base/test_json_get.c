/* json_get: what an absent, mistyped or out-of-range member becomes, so a
 * state file or plan answer from elsewhere can never make a reader cast NaN
 * or 1e999 to an integer. */
#include "unit.h"
#include "base/json_get.h"
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>

static cJSON *parsed(const char *text)
{
    cJSON *o = cJSON_Parse(text);
    assert_non_null(o);
    return o;
}

static void strings_absent_and_mistyped(void **state)
{
    (void)state;
    cJSON *o = parsed("{\"s\": \"v\", \"n\": 1, \"nil\": null, \"a\": [\"x\"], \"S\": \"upper\"}");
    assert_string_equal(json_get_str(o, "s"), "v");
    assert_string_equal(json_get_str(o, "absent"), "");
    assert_string_equal(json_get_str(o, "n"), "");
    assert_string_equal(json_get_str(o, "nil"), "");
    assert_string_equal(json_get_str(o, "a"), "");
    assert_string_equal(json_get_str(o, "S"), "upper"); /* case-sensitive lookup */
    char *dup = json_get_strdup(o, "s");
    assert_string_equal(dup, "v");
    assert_ptr_not_equal(dup, json_get_str(o, "s")); /* a copy */
    free(dup);
    assert_null(json_get_strdup(o, "absent"));
    assert_null(json_get_strdup(o, "n"));
    assert_null(json_get_strdup(o, "nil"));
    cJSON_Delete(o);
    /* Not an object at all: every read is "absent". */
    cJSON *arr = parsed("[1, 2]");
    assert_string_equal(json_get_str(arr, "0"), "");
    assert_true(isnan(json_get_num(arr, "0")));
    assert_string_equal(json_get_str(NULL, "s"), "");
    assert_int_equal(json_get_long(NULL, "n", 0, 10, -1), -1);
    cJSON_Delete(arr);
}

static void numbers_absent_mistyped_and_non_finite(void **state)
{
    (void)state;
    cJSON *o = parsed("{\"n\": 2.75, \"s\": \"3\", \"t\": true, \"big\": 1e999, \"neg\": -1e999}");
    assert_true(json_get_num(o, "n") == 2.75);
    assert_true(isnan(json_get_num(o, "absent")));
    assert_true(isnan(json_get_num(o, "s"))); /* a numeric string is not a number */
    assert_true(isnan(json_get_num(o, "t")));
    /* cJSON parses 1e999 as infinity: never an integer. */
    assert_int_equal(json_get_long(o, "big", LONG_MIN, LONG_MAX, -7), -7);
    assert_int_equal(json_get_long(o, "neg", LONG_MIN, LONG_MAX, -7), -7);
    assert_int_equal(json_get_count(o, "big"), 0);
    assert_int_equal(json_get_long(o, "s", 0, 10, -1), -1);
    assert_int_equal(json_get_long(o, "absent", 0, 10, -1), -1);
    cJSON_Delete(o);
    /* A NaN built in memory (JSON text cannot spell it). */
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "nan", NAN);
    assert_true(isnan(json_get_num(m, "nan")));
    assert_int_equal(json_get_long(m, "nan", LONG_MIN, LONG_MAX, 5), 5);
    assert_int_equal(json_get_count(m, "nan"), 0);
    cJSON_Delete(m);
}

static void long_bounds_are_inclusive_and_truncate(void **state)
{
    (void)state;
    cJSON *o = parsed("{\"lo\": -3, \"hi\": 10, \"over\": 10.5, \"under\": -3.5, \"frac\": 7.9,"
                      " \"negfrac\": -0.5, \"two63\": 9223372036854775808,"
                      " \"mtwo63\": -9223372036854775808, \"huge\": 1e300}");
    assert_int_equal(json_get_long(o, "lo", -3, 10, 99), -3);
    assert_int_equal(json_get_long(o, "hi", -3, 10, 99), 10);
    assert_int_equal(json_get_long(o, "over", -3, 10, 99), 99);
    assert_int_equal(json_get_long(o, "under", -3, 10, 99), 99);
    assert_int_equal(json_get_long(o, "frac", -3, 10, 99), 7);
    assert_int_equal(json_get_long(o, "negfrac", 0, 10, 99), 99); /* below 0, not 0 */
    assert_int_equal(json_get_long(o, "hi", 11, 20, 99), 99);
    /* 2^63 is past LONG_MAX although (double)LONG_MAX == 2^63 compares equal. */
    assert_int_equal(json_get_long(o, "two63", 0, LONG_MAX, 99), 99);
    assert_true(json_get_long(o, "mtwo63", LONG_MIN, 0, 99) == LONG_MIN);
    assert_int_equal(json_get_long(o, "huge", LONG_MIN, LONG_MAX, 99), 99);
    cJSON_Delete(o);
}

static void counts_and_booleans(void **state)
{
    (void)state;
    cJSON *o = parsed("{\"c\": 12, \"neg\": -1, \"e15\": 1e15, \"below\": 999999999999999,"
                      " \"t\": true, \"f\": false, \"one\": 1, \"str\": \"true\"}");
    assert_int_equal(json_get_count(o, "c"), 12);
    assert_int_equal(json_get_count(o, "neg"), 0);
    assert_int_equal(json_get_count(o, "e15"), 0); /* [0, 1e15): 1e15 is out */
    assert_int_equal(json_get_count(o, "below"), 999999999999999ULL);
    assert_int_equal(json_get_count(o, "absent"), 0);
    assert_true(json_get_bool(o, "t"));
    assert_false(json_get_bool(o, "f"));
    assert_false(json_get_bool(o, "one")); /* only a JSON true */
    assert_false(json_get_bool(o, "str"));
    assert_false(json_get_bool(o, "absent"));
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strings_absent_and_mistyped),
        cmocka_unit_test(numbers_absent_mistyped_and_non_finite),
        cmocka_unit_test(long_bounds_are_inclusive_and_truncate),
        cmocka_unit_test(counts_and_booleans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
