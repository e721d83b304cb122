#include "unit.h"
#include "base/pattern.h"

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

/* The whole-path shortcuts (pattern.h: trailing literals, and a leading
 * "**" "/" that leaves one segment to match) give the NFA's answers, at
 * their edges: no '/', a trailing '/', literals that are the whole pattern,
 * a '/' after the "**", a glued "**" and an escaped last byte. */
static void shortcuts_keep_the_answers(void **state)
{
    (void)state;
    const struct {
        const char *pat, *path;
        bool hit;
    } cases[] = {
        {"**/test_*.py", "test_a.py", true},
        {"**/test_*.py", "a/b/test_a.py", true},
        {"**/test_*.py", "a/test_b/c.py", false},
        {"**/test_*.py", "test_a/b.py", false},
        {"**/test_*.py", "a/test_.py", true},
        {"**/test_*.py", "a/test_a.py/", false},
        {"**/test_*.py", "py", false},
        {"**/*", "a/", true},
        {"**/*", "", true},
        {"**/a.py", "a.py", true},
        {"**/a.py", "xa.py", false},
        {"**/a.py", "x/a.py", true},
        {"**/a.py", "x/ya.py", false},
        {"**/x/a.py", "q/x/a.py", true}, /* a '/' after "**": the whole path */
        {"**/x/a.py", "x/a.py", true},
        {"**/x/a.py", "q/y/a.py", false},
        {"**/**/a.py", "p/q/a.py", true},
        {"**/a**b.py", "x/azzb.py", true}, /* glued "**" stays in the segment */
        {"**/a**b.py", "x/a/b.py", false},
        {"**/[!/]x.py", "d/ax.py", true},
        {"**/?.py", "d/e/f.py", true},
        {"**/\\*.py", "d/*.py", true},
        {"**/\\*.py", "d/a.py", false},
        {"tests/a.py", "tests/a.py", true},
        {"tests/a.py", "xtests/a.py", false},
        {"tests/a.py", "a.py", false},
        {"tests/**", "tests/a/b", true},
        {"a/**/b/*.py", "a/b/x.py", true},
        {"*_test.py", "a/b_test.py", false},
        {"**/test_*.py", "test_.py", true}, /* the prefix and suffix meet */
        {"**/test_*.py", "test.py", false}, /* ... or would overlap */
        {"**/test_*_x.py", "a/test_1_2_x.py", true},
        {"**/test_*_x.py", "a/test_x.py", false},
        {"**/", "a/", true},
        {"**/", "a", false},
        {"a*", "a/b", false},
        {"a*", "abc", true},
        {"*", "a/b", false},
        {"tests/*", "tests/a", true},
        {"tests/*", "tests/a/b", false},
        {"tests/*.py", "tests/.py", true},
        {"t*/*.py", "tx/a.py", true},
        {"t*/*.py", "tx/y/a.py", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (m(cases[i].pat, cases[i].path) != cases[i].hit)
            fail_msg("'%s' against '%s': expected %s", cases[i].pat, cases[i].path,
                     cases[i].hit ? "a match" : "none");
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
        cmocka_unit_test(shortcuts_keep_the_answers),
        cmocka_unit_test(malformed),
        cmocka_unit_test(pruning_and_dir_naming),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
