/* buf: buf_t in its zero state, after free and after detach, and the x*
 * allocation helpers (the text helpers are in test_text.c). */
#include "unit.h"
#include "base/buf.h"

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

static void append_keeps_embedded_nul_and_terminates(void **state)
{
    (void)state;
    buf_t b = BUF_INIT;
    buf_append(&b, "a\0b", 3);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b", 3);
    assert_int_equal(b.data[3], '\0');
    buf_append(&b, NULL, 0); /* nothing to copy: still a valid string */
    assert_int_equal(b.len, 3);
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    buf_free(&b);
}

static void reserve_makes_room_without_changing_contents(void **state)
{
    (void)state;
    buf_t b = BUF_INIT;
    buf_puts(&b, "keep");
    buf_reserve(&b, 5000);
    assert_true(b.cap >= b.len + 5000 + 1);
    assert_string_equal(b.data, "keep");
    size_t cap = b.cap;
    buf_append(&b, "0123456789", 10); /* fits: no reallocation needed */
    assert_int_equal(b.cap, cap);
    assert_string_equal(b.data, "keep0123456789");
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.cap, 0);
}

static void formatting_helpers_allocate_exactly(void **state)
{
    (void)state;
    char *s = xasprintf("%s=%05d", "n", 42);
    assert_string_equal(s, "n=00042");
    free(s);
    s = xstrndup("abcdef", 3);
    assert_string_equal(s, "abc");
    free(s);
    s = xstrdup("");
    assert_string_equal(s, "");
    free(s);
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    s = xasprintf("[%s]", big); /* longer than a buffer's first allocation */
    assert_int_equal(strlen(s), sizeof big + 1);
    assert_int_equal(s[0], '[');
    assert_int_equal(s[sizeof big], ']');
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zero_buf_is_usable),
        cmocka_unit_test(buf_reusable_after_free_and_detach),
        cmocka_unit_test(buf_grows_past_initial_capacity),
        cmocka_unit_test(append_keeps_embedded_nul_and_terminates),
        cmocka_unit_test(reserve_makes_room_without_changing_contents),
        cmocka_unit_test(formatting_helpers_allocate_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
