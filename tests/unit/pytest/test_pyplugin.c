/* pyplugin: the private directory a pytest plugin of ours is written into
 * (under TMPDIR, mode 0700, unpredictable), found by a real Python through
 * PYTHONPATH, and removed with what Python left there, never following a
 * symlink out of it. */
#include "unit.h"
#include "scratch.h"
#include "pytest/childenv.h"
#include "base/process.h"
#include "pytest/pyplugin.h"
#include <sys/stat.h>

/* TMPDIR set to value (NULL: unset) for one test; the old value comes back. */
typedef struct {
    char *old;
    bool had;
} tmpdir_t;

static void tmpdir_set(tmpdir_t *t, const char *value)
{
    const char *old = getenv("TMPDIR");
    t->had = old != NULL;
    t->old = old ? xstrdup(old) : NULL;
    if (value)
        setenv("TMPDIR", value, 1);
    else
        unsetenv("TMPDIR");
}

static void tmpdir_restore(tmpdir_t *t)
{
    if (t->had)
        setenv("TMPDIR", t->old, 1);
    else
        unsetenv("TMPDIR");
    free(t->old);
}

static void made_private_under_tmpdir(void **state)
{
    (void)state;
    char base[64];
    scratch_dir(base, sizeof base, "tep-pyplugin");
    tmpdir_t t;
    tmpdir_set(&t, base);
    char *dir = NULL, *other = NULL, *err = NULL;
    assert_true(pyplugin_dir_make("tep-x", "mod_x", "X = 41 + 1\n", &dir, &err));
    assert_null(err);
    char *start = xasprintf("%s/tep-x-", base);
    assert_true(strncmp(dir, start, strlen(start)) == 0);
    assert_true(strlen(dir) > strlen(start)); /* a random part */
    struct stat st;
    assert_int_equal(lstat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(st.st_uid, getuid());
    char *file = fs_join(dir, "mod_x.py");
    char *text = fs_read_file(file, NULL);
    assert_string_equal(text, "X = 41 + 1\n");
    assert_int_equal(lstat(file, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 022, 0); /* nobody else may change it */
    /* a second one is another directory */
    assert_true(pyplugin_dir_make("tep-x", "mod_x", "X = 1\n", &other, &err));
    assert_string_not_equal(dir, other);
    pyplugin_dir_remove(dir);
    pyplugin_dir_remove(other);
    assert_false(fs_exists(dir));
    assert_false(fs_exists(other));
    free(text);
    free(file);
    free(start);
    free(dir);
    free(other);
    tmpdir_restore(&t);
    scratch_dir_remove(base);
}

/* Without TMPDIR (or with an empty one): /tmp. */
static void without_tmpdir_in_tmp(void **state)
{
    (void)state;
    const char *values[] = {NULL, ""};
    for (size_t i = 0; i < 2; i++) {
        tmpdir_t t;
        tmpdir_set(&t, values[i]);
        char *dir = NULL, *err = NULL;
        assert_true(pyplugin_dir_make("tep-y", "m", "", &dir, &err));
        assert_true(strncmp(dir, "/tmp/tep-y-", 11) == 0);
        pyplugin_dir_remove(dir);
        assert_false(fs_exists(dir));
        free(dir);
        tmpdir_restore(&t);
    }
}

/* A TMPDIR where nothing can be made: false, one line naming it. */
static void unusable_tmpdir_is_an_error(void **state)
{
    (void)state;
    tmpdir_t t;
    tmpdir_set(&t, "/nonexistent/tep-tmp");
    char *dir = NULL, *err = NULL;
    assert_false(pyplugin_dir_make("tep-z", "m", "", &dir, &err));
    assert_null(dir);
    assert_non_null(err);
    assert_non_null(strstr(err, "/nonexistent/tep-tmp"));
    assert_null(strchr(err, '\n'));
    free(err);
    tmpdir_restore(&t);
}

/* What Python leaves (a bytecode cache) goes with the directory; a symlink
 * inside is removed, not what it points at. */
static void remove_takes_the_cache_not_symlink_targets(void **state)
{
    (void)state;
    char outside[64];
    scratch_dir(outside, sizeof outside, "tep-pyplugin-outside");
    scratch_put(outside, "precious.txt", "keep");
    char *precious = fs_join(outside, "precious.txt");
    char *dir = NULL, *err = NULL;
    assert_true(pyplugin_dir_make("tep-r", "m", "", &dir, &err));
    char *cache = fs_join(dir, "__pycache__/deeper");
    assert_true(fs_mkdirs(cache));
    scratch_put(cache, "m.cpython-311.pyc", "bytes");
    char *link_file = fs_join(dir, "to-file");
    char *link_dir = fs_join(dir, "to-dir");
    assert_int_equal(symlink(precious, link_file), 0);
    assert_int_equal(symlink(outside, link_dir), 0);
    pyplugin_dir_remove(dir);
    assert_false(fs_exists(dir));
    char *kept = fs_read_file(precious, NULL);
    assert_non_null(kept);
    assert_string_equal(kept, "keep");
    pyplugin_dir_remove(NULL); /* nothing to do, nothing removed */
    pyplugin_dir_remove("");
    free(kept);
    free(link_file);
    free(link_dir);
    free(cache);
    free(dir);
    free(precious);
    scratch_dir_remove(outside);
}

static const char *value_of(const strlist_t *env, const char *name)
{
    size_t n = 0;
    const char *v = NULL;
    size_t len = strlen(name);
    for (size_t i = 0; i < env->len; i++)
        if (strncmp(env->items[i], name, len) == 0 && env->items[i][len] == '=') {
            n++;
            v = env->items[i] + len + 1;
        }
    assert_true(n <= 1); /* never two entries for one name */
    return v;
}

/* The directory goes first on PYTHONPATH; the user's entries stay after it. */
static void env_puts_the_dir_first(void **state)
{
    (void)state;
    strlist_t env;
    strlist_init(&env);
    strlist_push(&env, "HOME=/home/u");
    strlist_push(&env, "PYTHONPATH=/user/a:/user/b");
    pyplugin_env_add(&env, "/tmp/tep-x-123");
    assert_string_equal(value_of(&env, "PYTHONPATH"), "/tmp/tep-x-123:/user/a:/user/b");
    assert_string_equal(value_of(&env, "HOME"), "/home/u");
    strlist_free(&env);

    strlist_init(&env);
    strlist_push(&env, "HOME=/home/u");
    pyplugin_env_add(&env, "/tmp/tep-x-123");
    assert_string_equal(value_of(&env, "PYTHONPATH"), "/tmp/tep-x-123");
    strlist_free(&env);

    /* an empty PYTHONPATH: no trailing ':' (Python reads an empty entry as
     * the current directory, the user's checkout) */
    strlist_init(&env);
    strlist_push(&env, "PYTHONPATH=");
    pyplugin_env_add(&env, "/tmp/tep-x-123");
    assert_string_equal(value_of(&env, "PYTHONPATH"), "/tmp/tep-x-123");
    strlist_free(&env);
}

/* A real Python imports the module through that environment. */
static void real_python_imports_it(void **state)
{
    (void)state;
    char *dir = NULL, *err = NULL;
    assert_true(pyplugin_dir_make("tep-py", "tep_probe_mod", "ANSWER = 'from the plugin dir'\n",
                                  &dir, &err));
    strlist_t env;
    strlist_init(&env);
    childenv_build(&env);
    childenv_set(&env, "PYTHONPATH", "/nonexistent/user-path");
    pyplugin_env_add(&env, dir);
    char *const argv[] = {"/usr/bin/python3", "-c",
                          "import sys, tep_probe_mod; print(tep_probe_mod.ANSWER); "
                          "print(sys.path[1])",
                          NULL};
    buf_t out = BUF_INIT;
    process_opts_t o = {.argv = argv, .env = &env, .capture = &out, .timeout_s = 300};
    process_result_t r;
    process_run(&o, &r);
    assert_false(r.start_failed);
    assert_int_equal(r.exit_code, 0);
    char *want = xasprintf("from the plugin dir\n%s\n", dir);
    assert_string_equal(out.data, want);
    free(want);
    process_result_free(&r);
    buf_free(&out);
    strlist_free(&env);
    pyplugin_dir_remove(dir); /* with the __pycache__ Python may have written */
    assert_false(fs_exists(dir));
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(made_private_under_tmpdir),
        cmocka_unit_test(without_tmpdir_in_tmp),
        cmocka_unit_test(unusable_tmpdir_is_an_error),
        cmocka_unit_test(remove_takes_the_cache_not_symlink_targets),
        cmocka_unit_test(env_puts_the_dir_first),
        cmocka_unit_test(real_python_imports_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
