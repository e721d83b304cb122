#include "unit.h"
#include "pattern.h"

static bool m(const char *pat, const char *path)
{
    pattern_t p;
    char *err = NULL;
    assert_true(pattern_compile(&p, pat, &err));
    bool hit = pattern_match(&p, path);
    pattern_free(&p);
    return hit;
}

static void default_pattern(void **state)
{
    (void)state;
    const char *pat = "**/{*_test,test_*}.py";
    assert_true(m(pat, "test_a.py")); /* leading ** matches zero dirs */
    assert_true(m(pat, "tests/unit/a_test.py"));
    assert_true(m(pat, "a/b/c/test_x.py"));
    assert_false(m(pat, "tests/helper.py"));
    assert_false(m(pat, "tests/test_a.pyc"));
    assert_false(m(pat, "tests/test_a.py/x"));
}

static void stars_questions_classes(void **state)
{
    (void)state;
    assert_true(m("tests/*.py", "tests/a.py"));
    assert_false(m("tests/*.py", "tests/sub/a.py")); /* * stays in a segment */
    assert_true(m("tests/**", "tests/sub/a.py"));
    assert_true(m("t?st/a.py", "test/a.py"));
    assert_false(m("t?st/a.py", "t/st/a.py"));
    assert_true(m("[abc]x.py", "bx.py"));
    assert_false(m("[!abc]x.py", "bx.py"));
    assert_true(m("[^abc]x.py", "dx.py"));
    assert_true(m("[a-c]x.py", "cx.py"));
    assert_true(m("\\*.py", "*.py"));
    assert_false(m("\\*.py", "a.py"));
    assert_true(m("{a,b{c,d}}/x.py", "bd/x.py"));
    assert_true(m("a/**/b/*.py", "a/b/x.py"));
    assert_true(m("a/**/b/*.py", "a/q/r/b/x.py"));
}

static void malformed(void **state)
{
    (void)state;
    const char *bad[] = {"{a,b", "a}", "[abc", "x\\", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pattern_t p;
        char *err = NULL;
        assert_false(pattern_compile(&p, bad[i], &err));
        assert_non_null(err);
        free(err);
        pattern_free(&p);
    }
}

static void pruning_and_dir_naming(void **state)
{
    (void)state;
    pattern_t p;
    char *err = NULL;
    assert_true(pattern_compile(&p, "tests/unit/**/test_*.py", &err));
    assert_true(pattern_may_match_below(&p, "tests"));
    assert_true(pattern_may_match_below(&p, "tests/unit/deep"));
    assert_false(pattern_may_match_below(&p, "src"));
    assert_false(pattern_may_match_below(&p, "tests/api"));
    assert_false(pattern_names_dir(&p, ".venv"));
    pattern_free(&p);
    assert_true(pattern_compile(&p, "{.venv,lib}/**/test_*.py", &err));
    assert_true(pattern_names_dir(&p, ".venv"));
    assert_false(pattern_names_dir(&p, ".tox"));
    pattern_free(&p);
    assert_true(pattern_compile(&p, "**/node_modules/**/test_*.py", &err));
    assert_true(pattern_names_dir(&p, "node_modules"));
    pattern_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_pattern),
        cmocka_unit_test(stars_questions_classes),
        cmocka_unit_test(malformed),
        cmocka_unit_test(pruning_and_dir_naming),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
