/* run_exit4: pytest's "file or directory not found" line, the presence check
 * of the selectors' files, and the forensics block, in temp directories (one
 * a git checkout with an untracked file, one not a checkout at all). */
#include "unit.h"
#include "base/buf.h"
#include "base/fs.h"
#include "run/run_exit4.h"
#include "scratch.h"
#include <stdio.h>
#include <unistd.h>

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    scratch_dir(dir, sizeof dir, "tep-exit4");
    const char *files[] = {"test_alpha.py", "test_alpha_two.py", "test_beta.py", "notes.txt"};
    for (size_t i = 0; i < 4; i++) {
        char *p = fs_join(dir, files[i]);
        assert_true(fs_write_file(p, "x\n", 2));
        free(p);
    }
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    scratch_dir_remove(dir);
    return 0;
}

static void missing_path_line(void **state)
{
    (void)state;
    char *p = run_exit4_missing_path("ERROR: file or directory not found: tests/a.py");
    assert_string_equal(p, "tests/a.py");
    free(p);
    p = run_exit4_missing_path("ERROR: file or directory not found: tests/a.py::t[1 2]  \r");
    assert_string_equal(p, "tests/a.py::t[1 2]");
    free(p);
    /* only trailing blanks and '\r' go: a tab or a leading blank is the path's */
    p = run_exit4_missing_path("ERROR: file or directory not found:  odd\t");
    assert_string_equal(p, " odd\t");
    free(p);
    assert_null(run_exit4_missing_path("ERROR: file or directory not found:   "));
    assert_null(run_exit4_missing_path("ERROR: not found: tests/a.py"));
    assert_null(run_exit4_missing_path(""));
}

static void files_present(void **state)
{
    (void)state;
    strlist_t sel;
    strlist_init(&sel);
    strlist_push_owned(&sel, xasprintf("%s/test_alpha.py::test_x[a::b]", dir));
    strlist_push_owned(&sel, xasprintf("%s/test_beta.py", dir));
    assert_true(run_exit4_files_present(&sel));
    strlist_push_owned(&sel, xasprintf("%s/test_gone.py::test_y", dir));
    assert_false(run_exit4_files_present(&sel));
    strlist_free(&sel);
    strlist_init(&sel);
    assert_true(run_exit4_files_present(&sel)); /* nothing to miss */
    strlist_free(&sel);
}

/* Runs the forensics with the working directory at `cwd`. */
static char *forensics_in(const char *cwd, const char *path, int retries)
{
    char *old = getcwd(NULL, 0);
    assert_int_equal(chdir(cwd), 0);
    buf_t out = BUF_INIT;
    run_exit4_forensics(path, retries, &out);
    assert_int_equal(chdir(old), 0);
    free(old);
    return buf_detach(&out);
}

static void forensics_for_a_node_id_outside_git(void **state)
{
    (void)state;
    char *id = xasprintf("%s/test_alpha.py::test_x", dir);
    char *text = forensics_in(dir, id, 2);
    char *want = xasprintf("--- exit-4 forensics for %s/test_alpha.py (file of %s) ---\n"
                           "exists=true retries_used=2\n"
                           "parent=%s entries=4 similar=[test_alpha.py, test_alpha_two.py]\n"
                           "git_status=unavailable (not a git checkout?)\n"
                           "hint: ",
                           dir, id, dir);
    assert_memory_equal(text, want, strlen(want));
    free(want);
    free(text);
    free(id);
}

static void forensics_for_a_missing_file(void **state)
{
    (void)state;
    char *text = forensics_in(dir, "/nonexistent-tep/dir/test_a.py", 0);
    assert_non_null(strstr(text, "--- exit-4 forensics for /nonexistent-tep/dir/test_a.py ---\n"
                                 "exists=false retries_used=0\n"
                                 "parent=/nonexistent-tep/dir MISSING\n"));
    free(text);
}

static void forensics_in_a_checkout(void **state)
{
    (void)state;
    char *repo = fs_join(dir, "repo");
    char *cmd = xasprintf("git init -q '%s' && touch '%s/untracked.py'", repo, repo);
    assert_int_equal(system(cmd), 0);
    char *text = forensics_in(repo, "untracked.py", 1);
    assert_non_null(strstr(text, "git_dirty_entries=1\n  ?? untracked.py\n"));
    assert_non_null(strstr(text, "exists=true retries_used=1\n"));
    free(text);
    free(cmd);
    free(repo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(missing_path_line),
        cmocka_unit_test(files_present),
        cmocka_unit_test(forensics_for_a_node_id_outside_git),
        cmocka_unit_test(forensics_for_a_missing_file),
        cmocka_unit_test(forensics_in_a_checkout),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
