#include "unit.h"
#include "base/pattern.h"
#include "plan/plan_discover.h"
#include "base/fs.h"
#include "scratch.h"
#include <stdio.h>
#include <unistd.h>

static char root[64];

static void touch(const char *rel)
{
    char *path = fs_join(root, rel);
    char *dir = strdup(path);
    *strrchr(dir, '/') = '\0';
    assert_true(fs_mkdirs(dir));
    assert_true(fs_write_file(path, "x", 1));
    free(dir);
    free(path);
}

static int make_tree(void **state)
{
    (void)state;
    scratch_dir(root, sizeof root, "tep-discover");
    touch("test_top.py");
    touch("b/test_b.py");
    touch("a/z_test.py");
    touch("a/helper.py");
    touch("a/test_a.py");
    touch(".venv/lib/test_venv.py");
    touch(".git/test_git.py");
    touch("node_modules/x/test_nm.py");
    touch("slow/test_slow.py");
    return 0;
}

static int remove_tree(void **state)
{
    (void)state;
    scratch_dir_remove(root);
    return 0;
}

static char *joined(const strlist_t *l)
{
    size_t n = 1;
    for (size_t i = 0; i < l->len; i++) n += strlen(l->items[i]) + 1;
    char *s = calloc(n, 1);
    for (size_t i = 0; i < l->len; i++) {
        strcat(s, l->items[i]);
        strcat(s, ";");
    }
    return s;
}

/* The walk of the tree, which must succeed, as "a;b;". Caller frees. */
static char *walk_joined(const char *include, const char *exclude)
{
    strlist_t out = STRLIST_INIT;
    char *err = NULL;
    assert_true(plan_discover_walk(root, include, exclude, &out, &err));
    char *s = joined(&out);
    strlist_free(&out);
    return s;
}

static void sorted_skips_hidden_and_node_modules(void **state)
{
    (void)state;
    char *s = walk_joined("**/{*_test,test_*}.py", NULL);
    assert_string_equal(s, "a/test_a.py;a/z_test.py;b/test_b.py;slow/test_slow.py;test_top.py;");
    free(s);
}

static void exclude_directory_and_file(void **state)
{
    (void)state;
    char *s = walk_joined("**/test_*.py", "{slow/**,**/test_b.py}");
    assert_string_equal(s, "a/test_a.py;test_top.py;");
    free(s);
}

/* A pattern that does not compile names its option and why. */
static void bad_patterns_name_their_option(void **state)
{
    (void)state;
    strlist_t out = STRLIST_INIT;
    char *err = NULL;
    char deep[3 * (PATTERN_MAX_NESTING + 1) + 1] = ""; /* one level too deep */
    for (int i = 0; i <= PATTERN_MAX_NESTING; i++) strcat(deep, "{a,");
    assert_false(plan_discover_walk(root, deep, NULL, &out, &err));
    assert_non_null(strstr(err, "BUILDKITE_TEST_ENGINE_TEST_FILE_PATTERN '{a,"));
    assert_false(plan_discover_walk(root, "**/test_*.py", deep, &out, &err));
    assert_non_null(strstr(err, "BUILDKITE_TEST_ENGINE_TEST_FILE_EXCLUDE_PATTERN '{a,"));
    assert_int_equal(out.len, 0);
    free(err);
}

static void nothing_found_is_an_error(void **state)
{
    (void)state;
    strlist_t out;
    strlist_init(&out);
    char *err = NULL;
    assert_false(plan_discover_walk(root, "**/*.rb", NULL, &out, &err));
    assert_non_null(strstr(err, "no test files match pattern '**/*.rb'"));
    free(err);
    strlist_free(&out);
}

static void list_file(void **state)
{
    (void)state;
    char *path = fs_join(root, "list.txt");
    assert_true(fs_write_file(path, " a.py \n\n b.py\n", 14));
    strlist_t out;
    strlist_init(&out);
    char *err = NULL;
    assert_true(plan_discover_read_list(path, &out, &err));
    assert_int_equal(out.len, 2);
    assert_string_equal(out.items[1], "b.py");
    strlist_free(&out);
    strlist_init(&out);
    assert_true(fs_write_file(path, "\n \n", 3));
    assert_false(plan_discover_read_list(path, &out, &err));
    assert_non_null(strstr(err, "has no file names"));
    assert_true(fs_write_file(path, "a.py\0b.py\n", 10));
    assert_false(plan_discover_read_list(path, &out, &err));
    assert_non_null(strstr(err, "': is not a text file; give one test file per line"));
    char *missing = fs_join(root, "no-such-list.txt");
    assert_false(plan_discover_read_list(missing, &out, &err));
    assert_non_null(strstr(err, "no-such-list.txt': cannot read it (No such file or directory)"));
    free(missing);
    free(err);
    strlist_free(&out);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sorted_skips_hidden_and_node_modules),
        cmocka_unit_test(exclude_directory_and_file),
        cmocka_unit_test(nothing_found_is_an_error),
        cmocka_unit_test(bad_patterns_name_their_option),
        cmocka_unit_test(list_file),
    };
    return cmocka_run_group_tests(tests, make_tree, remove_tree);
}
