#include "unit.h"
#include "config/template.h"

/* template_words_have_option on a template as the user writes it. */
static bool has_option(const char *tmpl, const char *opt)
{
    strlist_t words;
    strlist_init(&words);
    char *err = NULL;
    assert_true(template_split(tmpl, &words, &err));
    bool hit = template_words_have_option(&words, opt);
    strlist_free(&words);
    return hit;
}

static void splits_like_sh(void **state)
{
    (void)state;
    strlist_t w;
    strlist_init(&w);
    char *err = NULL;
    assert_true(template_split("python3 -m pytest -k 'a or b' \"x \\\"y\\\"\" c\\ d", &w, &err));
    assert_int_equal(w.len, 7);
    assert_string_equal(w.items[4], "a or b");
    assert_string_equal(w.items[5], "x \"y\"");
    assert_string_equal(w.items[6], "c d");
    strlist_free(&w);
}

static void refuses_shell_syntax_and_bad_quotes(void **state)
{
    (void)state;
    const char *bad[] = {"pytest 'x",    "pytest \"x",  "pytest && echo",
                         "pytest | tee", "pytest ; rm", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        strlist_t w;
        strlist_init(&w);
        char *err = NULL;
        assert_false(template_split(bad[i], &w, &err));
        assert_non_null(err);
        free(err);
        strlist_free(&w);
    }
    strlist_t w;
    strlist_init(&w);
    char *err = NULL;
    assert_true(template_split("pytest '&&'", &w, &err)); /* quoted: just a word */
    strlist_free(&w);
}

static void selectors_stay_one_element(void **state)
{
    (void)state;
    strlist_t ex, argv;
    strlist_init(&ex);
    strlist_init(&argv);
    strlist_push(&ex, "tests/a.py::test_p[with space]");
    strlist_push(&ex, "tests/a.py::test_p[quote'\"s]");
    strlist_push(&ex, "tests/a.py::test_p[a::b]");
    strlist_push(&ex, "tests/a.py::test_p[h\\xe9llo w\\xf6rld]");
    char *err = NULL;
    assert_true(template_expand("pytest {{testExamples}} --json={{resultPath}} -q", &ex,
                                "/r/out.json", &argv, &err));
    assert_int_equal(argv.len, 7);
    assert_string_equal(argv.items[1], "tests/a.py::test_p[with space]");
    assert_string_equal(argv.items[2], "tests/a.py::test_p[quote'\"s]");
    assert_string_equal(argv.items[4], "tests/a.py::test_p[h\\xe9llo w\\xf6rld]");
    assert_string_equal(argv.items[5], "--json=/r/out.json");
    strlist_free(&argv);
    strlist_init(&argv);
    assert_true(template_expand("pytest -x", &ex, "", &argv, &err)); /* appended */
    assert_int_equal(argv.len, 6);
    assert_string_equal(argv.items[5], "tests/a.py::test_p[h\\xe9llo w\\xf6rld]");
    strlist_free(&argv);
    strlist_free(&ex);
}

static void launcher_and_options(void **state)
{
    (void)state;
    strlist_t l;
    strlist_init(&l);
    char *err = NULL;
    assert_true(template_launcher(
        "/usr/bin/python3 -m pytest -p plug {{testExamples}} --json={{resultPath}}", &l, &err));
    assert_int_equal(l.len, 5);
    assert_string_equal(l.items[4], "plug");
    strlist_free(&l);
    assert_true(has_option("pytest {{testExamples}} --junitxml {{resultPath}}", "--junitxml"));
    assert_true(has_option("pytest --json=x", "--json"));
    assert_false(has_option("pytest --jsonx=x", "--json"));
}

/* A placeholder pytest would get as a path is refused before anything runs. */
static void placeholders_are_checked(void **state)
{
    (void)state;
    const char *bad[] = {"pytest {{testExamples}}}} --json={{resultPath}}",
                         "pytest {{testExample}}", "pytest x{{testExamples}}",
                         "pytest {{testExamples}} --json={{resultPath}", "pytest {{ tests }}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        strlist_t words = STRLIST_INIT;
        char *err = NULL;
        assert_true(template_split(bad[i], &words, &err));
        if (template_check_placeholders(&words, &err)) fail_msg("accepted: %s", bad[i]);
        assert_non_null(err);
        assert_null(strchr(err, '\n'));
        free(err);
        strlist_free(&words);
    }
    strlist_t words = STRLIST_INIT;
    char *err = NULL;
    assert_true(template_split("pytest {{testExamples}} --json={{resultPath}}", &words, &err));
    assert_true(template_check_placeholders(&words, &err));
    strlist_free(&words);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(splits_like_sh),
        cmocka_unit_test(refuses_shell_syntax_and_bad_quotes),
        cmocka_unit_test(selectors_stay_one_element),
        cmocka_unit_test(launcher_and_options),
        cmocka_unit_test(placeholders_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
