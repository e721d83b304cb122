/* Glob patterns built to make a backtracking matcher explode, brace bombs,
 * and the exact semantics the NFA matcher must keep from the old one. */
#include "unit.h"
#include "base/buf.h"
#include "base/pattern.h"
#include <time.h>
#include <unistd.h>

static bool m(const char *pat, const char *path)
{
    pattern_t p;
    char *err = NULL;
    if (!pattern_compile(&p, pat, &err)) fail_msg("'%s': %s", pat, err);
    bool hit = pattern_match(&p, path);
    pattern_free(&p);
    return hit;
}

static bool below(const char *pat, const char *dir)
{
    pattern_t p;
    char *err = NULL;
    if (!pattern_compile(&p, pat, &err)) fail_msg("'%s': %s", pat, err);
    bool hit = pattern_may_match_below(&p, dir);
    pattern_free(&p);
    return hit;
}

static char *repeat(const char *unit, size_t times, const char *tail)
{
    buf_t b = BUF_INIT;
    for (size_t i = 0; i < times; i++) buf_puts(&b, unit);
    buf_puts(&b, tail);
    return buf_detach(&b);
}

static double cpu_since(clock_t t0)
{
    return (double)(clock() - t0) / CLOCKS_PER_SEC;
}

static void many_stars_are_linear(void **state)
{
    (void)state;
    alarm(30);
    clock_t t0 = clock();
    /* 177 s with the backtracking matcher */
    assert_false(m("*a*a*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    assert_true(m("*a*a*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"));
    char *pat = repeat("*a", 2000, "b"), *name = repeat("a", 4000, "");
    assert_false(m(pat, name));
    free(pat);
    free(name);
    double cpu = cpu_since(t0);
    if (cpu > 2.0) fail_msg("star patterns took %.2f s of CPU", cpu);
    alarm(0);
}

static void repeated_globstars_are_linear(void **state)
{
    (void)state;
    alarm(30);
    clock_t t0 = clock();
    char *pat = repeat("**/", 12, "x"), *path = repeat("a/", 30, "y");
    assert_false(m(pat, path)); /* 43 s with the backtracking matcher */
    free(path);
    path = repeat("a/", 30, "x");
    assert_true(m(pat, path));
    free(path);
    free(pat);
    pat = repeat("**/a*", 200, "/x");
    path = repeat("ab/", 300, "y");
    assert_false(m(pat, path));
    assert_true(below(pat, "ab/ab"));
    free(path);
    free(pat);
    double cpu = cpu_since(t0);
    if (cpu > 2.0) fail_msg("globstar patterns took %.2f s of CPU", cpu);
    alarm(0);
}

static void compile_error(const char *pat, const char *want)
{
    pattern_t p;
    char *err = NULL;
    if (pattern_compile(&p, pat, &err)) fail_msg("'%.40s' compiled", pat);
    if (!strstr(err, want)) fail_msg("'%.40s': '%s' does not say '%s'", pat, err, want);
    free(err);
    pattern_free(&p);
}

static void brace_expansion_is_bounded(void **state)
{
    (void)state;
    alarm(30);
    char *pat = repeat("{a,b}", 8, ""); /* exactly 256 alternatives: fine */
    assert_true(m(pat, "abababab"));
    free(pat);
    pat = repeat("{a,b}", 18, ""); /* 262144 alternatives once */
    compile_error(pat, "more than 256 alternatives");
    free(pat);
    pat = repeat("{a,b,c,d,e,f,g,h,i,j}", 60, "");
    compile_error(pat, "more than 256 alternatives");
    free(pat);
    pat = repeat("{a}", 65, "");
    compile_error(pat, "more than 64 '{' groups");
    free(pat);
    pat = repeat("{", 33, "x");
    char *closed = repeat("}", 33, "");
    char *nested = xasprintf("%s%s", pat, closed);
    compile_error(nested, "nested more than 32 deep");
    free(pat);
    free(closed);
    free(nested);
    pat = repeat("a", PATTERN_MAX_LEN + 1, "");
    compile_error(pat, "longer than 4096 bytes");
    free(pat);
    compile_error("{a,b", "never closed");
    compile_error("a}", "without a matching");
    alarm(0);
}

static void semantics_kept(void **state)
{
    (void)state;
    /* '**' then '/' may match nothing, even glued to text */
    assert_true(m("a**/b", "ab"));
    assert_true(m("a**/b", "ax/y/b"));
    assert_false(m("a**/b", "axb"));
    assert_false(m("tests/**", "tests"));
    assert_true(m("tests/**", "tests/"));
    assert_true(m("**", "a/b/c"));
    assert_true(m("**", ""));
    assert_true(m("a/**/", "a/"));
    assert_true(m("a/**/", "a/b/c/"));
    assert_false(m("a/**/", "a/b"));
    /* '**' glued to text is a '*' */
    assert_true(m("x**y", "xaay"));
    assert_false(m("x**y", "xa/y"));
    assert_true(m("***/t.py", "a/b/t.py"));
    /* classes */
    assert_true(m("[]]", "]"));
    assert_true(m("[!]]", "a"));
    assert_false(m("[!]]", "]"));
    assert_true(m("[a-]", "-"));
    assert_true(m("[\\]]", "]"));
    assert_true(m("[\\!a]", "!"));
    assert_false(m("[/]", "/"));
    assert_false(m("[!a]", "/"));
    assert_true(m("[a-c\\-]x", "-x"));
    compile_error("[\\]", "'[' is never closed");
    /* escapes */
    assert_true(m("\\*\\?\\[", "*?["));
    assert_false(m("\\*", "a"));
    /* prefix probes stop being strict at a '**', glued or not */
    assert_true(below("a**b/x.py", "a/q/r"));
    assert_true(below("src/*/tests/*.py", "src/app"));
    assert_true(below("src/*/tests/*.py", "src/app/tests"));
    assert_false(below("src/*/tests/*.py", "src/app/other"));
    assert_false(below("src/*/tests/*.py", "lib"));
    assert_true(below("**/test_*.py", "deep/er"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(many_stars_are_linear),
        cmocka_unit_test(repeated_globstars_are_linear),
        cmocka_unit_test(brace_expansion_is_bounded),
        cmocka_unit_test(semantics_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
