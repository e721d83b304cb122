/* template and pattern follow err.h: a failure sets *err to its one-line
 * message (replacing, not leaking, what was there) and returns false; a
 * success leaves *err exactly as it was; a failed pattern holds nothing. */
#include "unit.h"
#include "base/buf.h"
#include "base/pattern.h"
#include "config/template.h"

/* Splits text expecting a failure; returns the message (caller frees). */
static char *split_error(const char *text)
{
    strlist_t w = STRLIST_INIT;
    char *err = xstrdup("an earlier message"); /* ASan: must be freed, not leaked */
    assert_false(template_split(text, &w, &err));
    strlist_free(&w);
    return err;
}

static void split_messages_keep_their_text(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"pytest && echo", "'&&' needs a shell, and commands run without one; put the pipeline "
                           "in a script and call that"},
        {"pytest -q |", "'|' needs a shell, and commands run without one; put the pipeline in a "
                        "script and call that"},
        {"pytest 'x", "unterminated single quote"},
        {"pytest \"x", "unterminated double quote"},
        {"pytest x\\", "command ends with a lone backslash"},
        {"  \t ", "command is empty"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *err = split_error(cases[i][0]);
        assert_string_equal(err, cases[i][1]);
        free(err);
    }
}

static void split_success_leaves_err_alone(void **state)
{
    (void)state;
    char *before = xstrdup("untouched");
    char *err = before;
    strlist_t w = STRLIST_INIT;
    assert_true(template_split("a '' \"b c\" d\\ e", &w, &err));
    assert_ptr_equal(err, before);
    assert_string_equal(err, "untouched");
    assert_int_equal(w.len, 4);
    assert_string_equal(w.items[1], ""); /* an empty quoted word is a word */
    assert_string_equal(w.items[2], "b c");
    assert_string_equal(w.items[3], "d e");
    strlist_free(&w);
    strlist_t argv = STRLIST_INIT;
    assert_true(template_expand("pytest {{testExamples}}", &w, "r.json", &argv, &err));
    assert_true(template_launcher("python3 -m pytest", &argv, &err));
    assert_ptr_equal(err, before);
    strlist_free(&argv);
    free(err);
}

static void expand_refuses_a_glued_placeholder(void **state)
{
    (void)state;
    strlist_t ex = STRLIST_INIT;
    strlist_push(&ex, "t.py");
    strlist_t argv = STRLIST_INIT;
    char *err = NULL;
    assert_false(template_expand("pytest x{{testExamples}}", &ex, "", &argv, &err));
    assert_string_equal(err, "'x{{testExamples}}': {{testExamples}} must be a word of its own");
    free(err);
    strlist_free(&argv);
    strlist_free(&ex);
}

static void pattern_success_leaves_err_alone(void **state)
{
    (void)state;
    char *before = xstrdup("untouched");
    char *err = before;
    pattern_t p;
    assert_true(pattern_compile(&p, "**/{a,b}_test.py", &err));
    assert_ptr_equal(err, before);
    assert_true(pattern_match(&p, "x/a_test.py"));
    pattern_free(&p);
    free(err);
}

static void failed_pattern_holds_nothing(void **state)
{
    (void)state;
    /* Each fails at a different stage: before braces, in braces, in a token. */
    const char *bad[][2] = {
        {"", "pattern is empty"},
        {"{a,b", "'{' is never closed"},
        {"{a,b}/[x", "'[' is never closed"},
        {"{a,b}/x\\", "pattern ends with a lone '\\'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pattern_t p;
        char *err = xstrdup("an earlier message");
        assert_false(pattern_compile(&p, bad[i][0], &err));
        assert_string_equal(err, bad[i][1]);
        assert_int_equal(p.alts.len, 0);
        assert_null(p.progs);
        assert_null(p.prog_len);
        assert_false(pattern_match(&p, "x"));
        pattern_free(&p); /* harmless on an empty pattern */
        free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_messages_keep_their_text),
        cmocka_unit_test(split_success_leaves_err_alone),
        cmocka_unit_test(expand_refuses_a_glued_placeholder),
        cmocka_unit_test(pattern_success_leaves_err_alone),
        cmocka_unit_test(failed_pattern_holds_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
