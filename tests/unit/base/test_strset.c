/* strset: membership as a list scan would answer it, in constant time. */
#include "unit.h"
#include "base/buf.h"
#include "base/strset.h"

static void zeroed_set_is_empty_and_usable(void **state)
{
    (void)state;
    strset_t s = STRSET_INIT;
    assert_false(strset_has(&s, "a.py"));
    assert_false(strset_has(&s, ""));
    assert_true(strset_add(&s, "a.py"));
    assert_true(strset_has(&s, "a.py"));
    strset_free(&s);
    assert_false(strset_has(&s, "a.py")); /* freed: empty again */
    strset_free(&s);
}

static void equal_strings_count_once(void **state)
{
    (void)state;
    char a[] = "tests/x.py", b[] = "tests/x.py"; /* different pointers, same text */
    strset_t s = STRSET_INIT;
    assert_true(strset_add(&s, a));
    assert_false(strset_add(&s, b));
    assert_int_equal(s.len, 1);
    assert_true(strset_add(&s, ""));
    assert_true(strset_has(&s, ""));
    assert_false(strset_has(&s, "tests/x.p"));
    assert_false(strset_has(&s, "tests/x.py "));
    strset_free(&s);
}

/* Growth keeps every member, and the answers match a linear scan. */
static void agrees_with_a_list_scan_through_growth(void **state)
{
    (void)state;
    strlist_t in = STRLIST_INIT, out = STRLIST_INIT;
    for (int i = 0; i < 50000; i++) {
        strlist_push_owned(&in, xasprintf("tests/pkg%d/test_%d.py", i / 100, i));
        strlist_push_owned(&out, xasprintf("tests/pkg%d/test_%d.pyc", i / 100, i));
    }
    strset_t s = STRSET_INIT;
    strset_add_list(&s, &in);
    strset_add_list(&s, &in); /* again: nothing new */
    assert_int_equal(s.len, in.len);
    assert_true(s.len * 2 <= s.cap);
    for (size_t i = 0; i < in.len; i++) {
        assert_true(strset_has(&s, in.items[i]));
        assert_false(strset_has(&s, out.items[i]));
    }
    /* spot-check against strlist_contains, the scan it replaces */
    for (size_t i = 0; i < in.len; i += 5000) {
        assert_true(strlist_contains(&in, in.items[i]) == strset_has(&s, in.items[i]));
        assert_true(strlist_contains(&in, out.items[i]) == strset_has(&s, out.items[i]));
    }
    strset_free(&s);
    strlist_free(&in);
    strlist_free(&out);
}

/* strset_hash is 64-bit FNV-1a: the published test values (offset basis
 * 14695981039346656037 for "", then "a" and "foobar"). */
static void hash_is_fnv1a_64(void **state)
{
    (void)state;
    assert_true(strset_hash("") == 0xcbf29ce484222325ULL);
    assert_true(strset_hash("a") == 0xaf63dc4c8601ec8cULL);
    assert_true(strset_hash("foobar") == 0x85944171f73967e8ULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zeroed_set_is_empty_and_usable),
        cmocka_unit_test(equal_strings_count_once),
        cmocka_unit_test(agrees_with_a_list_scan_through_growth),
        cmocka_unit_test(hash_is_fnv1a_64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
