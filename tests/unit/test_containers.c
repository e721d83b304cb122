/* buf_t and strlist_t in their zero state, after free and after detach, and
 * the UTF-8-aware text cutter every parser uses for untrusted messages. */
#include "unit.h"
#include "buf.h"
#include "strlist.h"

static void zero_buf_is_usable(void **state)
{
    (void)state;
    buf_t a = {0};
    assert_string_equal(buf_str(&a), "");
    buf_reset(&a); /* must not touch a NULL data pointer */
    buf_puts(&a, "x");
    assert_string_equal(a.data, "x");
    buf_free(&a);

    buf_t b = BUF_INIT;
    buf_printf(&b, "%d-%s", 42, "y");
    assert_string_equal(b.data, "42-y");
    assert_int_equal(b.len, 4);
    buf_free(&b);

    buf_t c = BUF_INIT;
    buf_putc(&c, 'z');
    assert_string_equal(c.data, "z");
    buf_free(&c);

    buf_t d = BUF_INIT; /* detach of a never-used buffer still hands back a string */
    char *s = buf_detach(&d);
    assert_string_equal(s, "");
    free(s);
    buf_free(&d); /* harmless */
}

static void buf_reusable_after_free_and_detach(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);
    buf_puts(&b, "first");
    buf_free(&b);
    buf_puts(&b, "second");
    assert_string_equal(b.data, "second");
    char *s = buf_detach(&b);
    assert_string_equal(s, "second");
    free(s);
    buf_printf(&b, "%s", "third"); /* detached: reusable without buf_init */
    assert_string_equal(b.data, "third");
    buf_free(&b);
}

static void buf_grows_past_initial_capacity(void **state)
{
    (void)state;
    buf_t b = BUF_INIT;
    for (int i = 0; i < 1000; i++) buf_puts(&b, "0123456789");
    assert_int_equal(b.len, 10000);
    assert_int_equal(strlen(b.data), 10000);
    buf_printf(&b, "%0500d", 7); /* vprintf path that needs a second pass */
    assert_int_equal(b.len, 10500);
    buf_free(&b);
}

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

static void cut_keeps_a_prefix_and_says_so(void **state)
{
    (void)state;
    char *s = xstrndup_cut("hello", 5, 16);
    assert_string_equal(s, "hello");
    free(s);
    s = xstrndup_cut("hello world", 11, 5);
    assert_string_equal(s, "hello... [cut: 11 bytes in all]");
    free(s);
    /* "aé" is 61 c3 a9: cutting at 2 would split the é, so only "a" stays. */
    s = xstrndup_cut("a\xc3\xa9z", 4, 2);
    assert_string_equal(s, "a... [cut: 4 bytes in all]");
    free(s);
    assert_int_equal(utf8_prefix_len("a\xc3\xa9z", 4, 3), 3);
    assert_int_equal(utf8_prefix_len("a\xc3\xa9z", 4, 1), 1);
    assert_int_equal(utf8_complete_len("a\xc3", 2), 1);
    assert_int_equal(utf8_complete_len("a\xc3\xa9", 3), 3);
    assert_int_equal(utf8_complete_len("\xf0\x9f\x98", 3), 0);
    assert_int_equal(utf8_complete_len("\xf0\x9f\x98\x80", 4), 4);
    assert_int_equal(utf8_complete_len("", 0), 0);
    /* invalid UTF-8 (a run of continuation bytes) never backs off more than 4 */
    assert_int_equal(utf8_prefix_len("\x80\x80\x80\x80\x80\x80\x80\x80", 8, 6), 2);
}

static void excerpt_is_one_printable_line(void **state)
{
    (void)state;
    char *s = text_excerpt("a\nb\x1b[31m\x7f", 9, 60);
    assert_string_equal(s, "a?b?[31m?");
    free(s);
    s = text_excerpt("h\xc3\xa9llo world", 12, 2); /* never half an é */
    assert_string_equal(s, "h...");
    free(s);
    s = text_excerpt("x\0y", 3, 60); /* an embedded NUL is shown, not a terminator */
    assert_string_equal(s, "x?y");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zero_buf_is_usable),
        cmocka_unit_test(buf_reusable_after_free_and_detach),
        cmocka_unit_test(buf_grows_past_initial_capacity),
        cmocka_unit_test(zero_strlist_is_usable),
        cmocka_unit_test(strlist_push_after_free),
        cmocka_unit_test(cut_keeps_a_prefix_and_says_so),
        cmocka_unit_test(excerpt_is_one_printable_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
