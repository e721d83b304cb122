/* text: cutting untrusted text without splitting a UTF-8 character (and
 * saying so), one printable line for messages, and trimming. Moved here from
 * test_buf.c with the functions, assertions unchanged. */
#include "unit.h"
#include "base/text.h"
#include <stdlib.h>
#include <string.h>

static void cut_keeps_a_prefix_and_says_so(void **state)
{
    (void)state;
    char *s = text_cut("hello", 5, 16);
    assert_string_equal(s, "hello");
    free(s);
    s = text_cut("hello world", 11, 5);
    assert_string_equal(s, "hello... [cut: 11 bytes in all]");
    free(s);
    /* "aé" is 61 c3 a9: cutting at 2 would split the é, so only "a" stays. */
    s = text_cut("a\xc3\xa9z", 4, 2);
    assert_string_equal(s, "a... [cut: 4 bytes in all]");
    free(s);
    assert_int_equal(text_utf8_prefix_len("a\xc3\xa9z", 4, 3), 3);
    assert_int_equal(text_utf8_prefix_len("a\xc3\xa9z", 4, 1), 1);
    assert_int_equal(text_utf8_complete_len("a\xc3", 2), 1);
    assert_int_equal(text_utf8_complete_len("a\xc3\xa9", 3), 3);
    assert_int_equal(text_utf8_complete_len("\xf0\x9f\x98", 3), 0);
    assert_int_equal(text_utf8_complete_len("\xf0\x9f\x98\x80", 4), 4);
    assert_int_equal(text_utf8_complete_len("", 0), 0);
    /* invalid UTF-8 (a run of continuation bytes) never backs off more than 4 */
    assert_int_equal(text_utf8_prefix_len("\x80\x80\x80\x80\x80\x80\x80\x80", 8, 6), 2);
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

static void trimmed(const char *in, size_t len, const char *want)
{
    size_t n = len;
    const char *t = text_trim(in, &n);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(t, want, n);
    assert_true(t >= in && t + n <= in + len); /* a view into the input */
}

static void trim_trims_both_ends_only(void **state)
{
    (void)state;
    trimmed("  a b \t\r\n", 9, "a b");
    trimmed("x", 1, "x");
    trimmed(" \t\n\v\f\r", 6, "");
    trimmed("", 0, "");
    trimmed("  inner  space  ", 16, "inner  space");
    trimmed(" ab  cd", 4, "ab"); /* only the span counts, not what follows it */
    /* Bytes past 0x7f are not white space, even where a locale might say so. */
    trimmed("\xc2\xa0x\xc2\xa0", 5, "\xc2\xa0x\xc2\xa0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cut_keeps_a_prefix_and_says_so),
        cmocka_unit_test(excerpt_is_one_printable_line),
        cmocka_unit_test(trim_trims_both_ends_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
