/* strlist: an owned, NULL-terminated string list in its zero state, after
 * free and clear; push_lines trimming; byte-order sort. */
#include "unit.h"
#include "base/buf.h"
#include "base/strlist.h"

static void zero_strlist_is_usable(void **state)
{
    (void)state;
    strlist_t l = {0};
    assert_false(strlist_contains(&l, "a"));
    strlist_sort(&l);
    strlist_clear(&l);
    for (int i = 0; i < 20; i++) strlist_push(&l, i % 2 ? "b" : "a");
    assert_int_equal(l.len, 20);
    assert_null(l.items[20]);
    strlist_free(&l);

    strlist_t m = STRLIST_INIT;
    strlist_push_lines(&m, " x \n\n y");
    assert_int_equal(m.len, 2);
    assert_string_equal(m.items[1], "y");
    strlist_free(&m);
}

static void strlist_push_after_free(void **state)
{
    (void)state;
    strlist_t l;
    strlist_init(&l);
    strlist_push(&l, "a");
    strlist_free(&l);
    assert_int_equal(l.len, 0);
    strlist_push(&l, "b"); /* free leaves a valid empty list */
    strlist_push(&l, "c");
    assert_int_equal(l.len, 2);
    assert_string_equal(l.items[0], "b");
    assert_null(l.items[2]);
    strlist_free(&l);
    strlist_free(&l); /* twice is harmless */
}

static void lines(const char *text, size_t want_len, const char *const *want)
{
    strlist_t l = STRLIST_INIT;
    strlist_push_lines(&l, text);
    assert_int_equal(l.len, want_len);
    for (size_t i = 0; i < want_len; i++) assert_string_equal(l.items[i], want[i]);
    strlist_free(&l);
}

static void push_lines_trims_and_drops_blank_lines(void **state)
{
    (void)state;
    const char *const crlf[] = {"tests/a.py", "tests/b.py"};
    lines("tests/a.py\r\ntests/b.py\r\n", 2, crlf);
    const char *const inner[] = {"a b", "c"};
    lines("\t a b \t\n   \n\nc", 2, inner);
    lines("", 0, NULL);
    lines("\n\n \t \n", 0, NULL);
    const char *const one[] = {"x"};
    lines("x", 1, one);

    strlist_t l = STRLIST_INIT; /* appends to what is there */
    strlist_push(&l, "first");
    strlist_push_lines(&l, "second\n");
    assert_int_equal(l.len, 2);
    assert_string_equal(l.items[0], "first");
    assert_string_equal(l.items[1], "second");
    assert_null(l.items[2]);
    strlist_free(&l);
}

static void sort_is_byte_order_and_contains_is_exact(void **state)
{
    (void)state;
    strlist_t l = STRLIST_INIT;
    const char *in[] = {"b", "B", "a", "\xc3\xa9", "a"};
    for (size_t i = 0; i < 5; i++) strlist_push(&l, in[i]);
    strlist_sort(&l);
    const char *want[] = {"B", "a", "a", "b", "\xc3\xa9"}; /* bytes, not a locale */
    for (size_t i = 0; i < 5; i++) assert_string_equal(l.items[i], want[i]);
    assert_null(l.items[5]);
    assert_true(strlist_contains(&l, "B"));
    assert_false(strlist_contains(&l, "A"));
    assert_false(strlist_contains(&l, "a "));
    const char *x = "x";
    const char *y = "y";
    assert_true(strlist_cmp(&x, &y) < 0);
    assert_true(strlist_cmp(&y, &x) > 0);
    assert_int_equal(strlist_cmp(&x, &x), 0);
    strlist_free(&l);
}

static void push_owned_takes_the_pointer_push_copies(void **state)
{
    (void)state;
    strlist_t l = STRLIST_INIT;
    char *mine = xstrdup("owned");
    strlist_push_owned(&l, mine);
    assert_ptr_equal(l.items[0], mine); /* freed by strlist_free, not here */
    char text[] = "copied";
    strlist_push(&l, text);
    assert_ptr_not_equal(l.items[1], text);
    text[0] = 'X';
    assert_string_equal(l.items[1], "copied");
    strlist_clear(&l);
    assert_int_equal(l.len, 0);
    assert_null(l.items[0]); /* still NULL-terminated for execvp */
    strlist_push(&l, "again");
    assert_string_equal(l.items[0], "again");
    strlist_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zero_strlist_is_usable),
        cmocka_unit_test(strlist_push_after_free),
        cmocka_unit_test(push_lines_trims_and_drops_blank_lines),
        cmocka_unit_test(sort_is_byte_order_and_contains_is_exact),
        cmocka_unit_test(push_owned_takes_the_pointer_push_copies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
