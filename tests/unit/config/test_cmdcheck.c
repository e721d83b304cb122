/* cmdcheck: shell syntax in the commands, attached or alone, quoted or not. */
#include "unit.h"
#include "config/cmdcheck.h"

static size_t problems_in(const char *tmpl, strlist_t *problems)
{
    strlist_init(problems);
    cmdcheck_command("CMD", tmpl, problems);
    return problems->len;
}

static void attached_operators_are_each_reported(void **state)
{
    (void)state;
    strlist_t p;
    assert_int_equal(
        problems_in("pytest {{testExamples}} 2>/dev/null >out x|y a&&b c; `id` $(id) <in", &p), 8);
    assert_string_equal(
        p.items[0],
        "CMD: '2>/dev/null' needs a shell, and commands run without one (a redirection); "
        "put the shell part in a script and call that script");
    assert_non_null(strstr(p.items[1], "'>out'"));
    assert_non_null(
        strstr(p.items[2], "'x|y' needs a shell, and commands run without one (a pipe)"));
    assert_non_null(
        strstr(p.items[3], "'a&&b' needs a shell, and commands run without one (a command list)"));
    assert_non_null(strstr(p.items[4], "'c;'"));
    assert_non_null(strstr(
        p.items[5], "'`id`' needs a shell, and commands run without one (a command substitution)"));
    assert_non_null(strstr(p.items[6], "'$(id)'"));
    assert_non_null(
        strstr(p.items[7], "'<in' needs a shell, and commands run without one (a redirection)"));
    strlist_free(&p);
}

static void standalone_operators_too(void **state)
{
    (void)state;
    strlist_t p;
    assert_int_equal(
        problems_in("pytest {{testExamples}} | tee log && echo ok ; true || false &", &p), 5);
    assert_non_null(
        strstr(p.items[0], "CMD: '|' needs a shell, and commands run without one (a pipe)"));
    assert_non_null(
        strstr(p.items[3], "'||' needs a shell, and commands run without one (a command list)"));
    strlist_free(&p);
}

static void quoted_and_escaped_characters_are_plain(void **state)
{
    (void)state;
    const char *fine[] = {
        "pytest -k 'a|b' {{testExamples}}",
        "pytest -k \"x && y\" -o \"a=b>c\" {{testExamples}}",
        "pytest -o junit_suite_name=x\\;y {{testExamples}} --json={{resultPath}}",
        "pytest 'it'\\''s' \"q\\\"|\" {{testExamples}}",
        "pytest -k $HOME {{testExamples}}", /* no shell expands it, but it is no operator */
    };
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        strlist_t p;
        assert_int_equal(problems_in(fine[i], &p), 0);
        strlist_free(&p);
    }
}

static void other_syntax_problems_come_from_the_splitter(void **state)
{
    (void)state;
    strlist_t p;
    assert_int_equal(problems_in("pytest 'open", &p), 1);
    assert_string_equal(p.items[0], "CMD: unterminated single quote");
    strlist_free(&p);
    assert_int_equal(problems_in("   ", &p), 1);
    assert_string_equal(p.items[0], "CMD: command is empty");
    strlist_free(&p);
}

/* The words come back from the same split, only when the command is fine. */
static void words_of_a_good_command(void **state)
{
    (void)state;
    strlist_t words;
    strlist_t problems;
    strlist_init(&words);
    strlist_init(&problems);
    cmdcheck_command_words("CMD", "python3 -m pytest -k 'a|b' {{testExamples}}", &words, &problems);
    assert_int_equal(problems.len, 0);
    assert_int_equal(words.len, 6);
    assert_string_equal(words.items[4], "a|b");
    strlist_clear(&words);
    cmdcheck_command_words("CMD", "pytest 2>/dev/null", &words, &problems);
    cmdcheck_command_words("CMD", "pytest 'open", &words, &problems);
    assert_int_equal(words.len, 0);
    assert_int_equal(problems.len, 2);
    assert_string_equal(problems.items[1], "CMD: unterminated single quote");
    strlist_free(&words);
    strlist_free(&problems);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(attached_operators_are_each_reported),
        cmocka_unit_test(standalone_operators_too),
        cmocka_unit_test(quoted_and_escaped_characters_are_plain),
        cmocka_unit_test(other_syntax_problems_come_from_the_splitter),
        cmocka_unit_test(words_of_a_good_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
