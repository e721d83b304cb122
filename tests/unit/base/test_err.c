/* err: err_set formats one message into *err, frees what was there, and
 * returns false so a failure is one line; warn_vsay hands a formatted line to
 * the phase's warn_fn. */
#include "unit.h"
#include "base/err.h"
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

static bool fail_with(const char *what, char **err)
{
    return err_set(err, "cannot read %s (%d): run `plan` first", what, 2);
}

static void sets_the_message_and_returns_false(void **state)
{
    (void)state;
    char *err = NULL;
    assert_false(fail_with("slice.json", &err));
    assert_string_equal(err, "cannot read slice.json (2): run `plan` first");
    free(err);
}

static void replaces_and_frees_an_earlier_message(void **state)
{
    (void)state;
    char *err = NULL;
    assert_false(err_set(&err, "first"));
    assert_false(err_set(&err, "second %s", "message")); /* ASan: "first" freed */
    assert_string_equal(err, "second message");
    free(err);
}

static void a_message_may_quote_its_own_text(void **state)
{
    (void)state;
    /* The old message is an argument of the new one: it must be read before
     * it is freed. */
    char *err = NULL;
    err_set(&err, "inner");
    err_set(&err, "outer: %s", err);
    assert_string_equal(err, "outer: inner");
    free(err);
}

static void long_and_percent_text_is_kept_whole(void **state)
{
    (void)state;
    char big[5000];
    memset(big, 'p', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char *err = NULL;
    err_set(&err, "%s|%%|%ld", big, LONG_MAX);
    assert_int_equal(strlen(err), sizeof big - 1 + strlen("|%|9223372036854775807"));
    assert_string_equal(err + sizeof big - 1, "|%|9223372036854775807");
    free(err);
}

typedef struct {
    int calls;
    char last[64];
} heard_t;

static void hear(void *user, const char *line)
{
    heard_t *h = user;
    h->calls++;
    snprintf(h->last, sizeof h->last, "%s", line);
}

__attribute__((format(printf, 3, 4))) static void say(warn_fn fn, void *user, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    warn_vsay(fn, user, fmt, ap);
    va_end(ap);
}

static void warn_vsay_formats_one_line_for_the_phase(void **state)
{
    (void)state;
    heard_t h = {0};
    say(hear, &h, "%s: %d records skipped", "a.json", 3);
    assert_int_equal(h.calls, 1);
    assert_string_equal(h.last, "a.json: 3 records skipped");
    say(NULL, &h, "nobody listens"); /* no warn_fn: nothing happens */
    assert_int_equal(h.calls, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sets_the_message_and_returns_false),
        cmocka_unit_test(replaces_and_frees_an_earlier_message),
        cmocka_unit_test(a_message_may_quote_its_own_text),
        cmocka_unit_test(long_and_percent_text_is_kept_whole),
        cmocka_unit_test(warn_vsay_formats_one_line_for_the_phase),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
