/* fs: whole-file reads and atomic writes (no temp file left, the old file
 * kept when a write fails), mkdir -p, path joining and the clocks. */
#include "unit.h"
#include "base/buf.h"
#include "base/fs.h"
#include "scratch.h"
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    scratch_dir(dir, sizeof dir, "test_fs");
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    scratch_dir_remove(dir);
    return 0;
}

/* How many entries the temp dir holds (a leftover temp file shows here). */
static size_t entries_in_dir(void)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void write_and_read_back_bytes(void **state)
{
    (void)state;
    char *path = fs_join(dir, "data.bin");
    const char data[] = "a\0b\nc";
    assert_true(fs_write_file(path, data, sizeof data));
    size_t len = 0;
    char *back = fs_read_file(path, &len);
    assert_non_null(back);
    assert_int_equal(len, sizeof data);
    assert_memory_equal(back, data, sizeof data);
    free(back);
    /* Overwritten whole, and nothing but the file is left beside it. */
    assert_true(fs_write_file(path, "x", 1));
    back = fs_read_file(path, NULL);
    assert_string_equal(back, "x");
    free(back);
    assert_int_equal(entries_in_dir(), 1);
    unlink(path);
    free(path);
}

static void read_failures_keep_errno(void **state)
{
    (void)state;
    char *missing = fs_join(dir, "missing");
    errno = 0;
    assert_null(fs_read_file(missing, NULL));
    assert_int_equal(errno, ENOENT);
    free(missing);
    /* A directory opens, but cannot be read: its own errno, not a made-up one. */
    errno = 0;
    assert_null(fs_read_file(dir, NULL));
    assert_int_equal(errno, EISDIR);
}

static void write_into_missing_dir_fails(void **state)
{
    (void)state;
    char *path = fs_join(dir, "no/such/file");
    errno = 0;
    assert_false(fs_write_file(path, "x", 1));
    assert_int_equal(errno, ENOENT);
    assert_false(fs_exists(path));
    free(path);
    assert_int_equal(entries_in_dir(), 0);
}

static void atomic_write_in_parts(void **state)
{
    (void)state;
    char *path = fs_join(dir, "parts.txt");
    fs_atomic_t w;
    assert_true(fs_atomic_begin(&w, path));
    fputs("one,", w.f);
    /* Until finished, the file is not there: a reader sees nothing, not half. */
    assert_false(fs_exists(path));
    fputs("two", w.f);
    assert_true(fs_atomic_finish(&w));
    assert_null(w.f);
    char *back = fs_read_file(path, NULL);
    assert_string_equal(back, "one,two");
    free(back);
    assert_int_equal(entries_in_dir(), 1);
    unlink(path);
    free(path);
}

/* A stream that failed on the way is not renamed over the good file. */
static void failed_atomic_write_keeps_the_old_file(void **state)
{
    (void)state;
    char *path = fs_join(dir, "keep.txt");
    assert_true(fs_write_file(path, "old", 3));
    fs_atomic_t w;
    assert_true(fs_atomic_begin(&w, path));
    fputs("new", w.f);
    /* Reading a write-only stream sets its error flag, as a failed write does. */
    assert_int_equal(fgetc(w.f), EOF);
    assert_true(ferror(w.f));
    assert_false(fs_atomic_finish(&w));
    assert_int_not_equal(errno, 0);
    char *back = fs_read_file(path, NULL);
    assert_string_equal(back, "old");
    free(back);
    assert_int_equal(entries_in_dir(), 1); /* the temp file is gone */
    unlink(path);
    free(path);
}

/* A rename that fails (a directory is in the way) leaves no temp file. */
static void failed_rename_removes_the_temp_file(void **state)
{
    (void)state;
    char *path = fs_join(dir, "adir");
    char *inside = fs_join(path, "f");
    assert_true(fs_mkdirs(path));
    assert_true(fs_write_file(inside, "x", 1));
    errno = 0;
    assert_false(fs_write_file(path, "y", 1));
    assert_int_not_equal(errno, 0);
    assert_true(fs_is_dir(path));
    assert_int_equal(entries_in_dir(), 1);
    unlink(inside);
    rmdir(path);
    free(inside);
    free(path);
}

static void mkdirs_makes_private_parents(void **state)
{
    (void)state;
    char *deep = xasprintf("%s/a/b/c", dir);
    assert_true(fs_mkdirs(deep));
    assert_true(fs_is_dir(deep));
    assert_true(fs_mkdirs(deep)); /* already there is fine */
    struct stat st;
    char *mid = xasprintf("%s/a/b", dir);
    assert_int_equal(stat(mid, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* Through a file: fails, and the file is still a file. */
    char *file = xasprintf("%s/a/file", dir);
    char *under = xasprintf("%s/x", file);
    assert_true(fs_write_file(file, "", 0));
    assert_false(fs_mkdirs(under));
    assert_false(fs_is_dir(file));
    assert_true(fs_exists(file));
    free(under);
    free(file);
    free(mid);
    free(deep);
    char *cmd = xasprintf("rm -rf '%s/a'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

/* The old temporary name, "<path>.tmp.<pid>", was predictable and opened
 * without O_EXCL or O_NOFOLLOW: a link planted there made the write go
 * through it to the link's target. Nothing is written through a planted
 * link now, whatever its name, and the file itself is written. */
static void atomic_write_never_follows_a_planted_link(void **state)
{
    (void)state;
    char *path = fs_join(dir, "run.json");
    char *victim = fs_join(dir, "victim");
    char *planted = xasprintf("%s.tmp.%ld", path, (long)getpid());
    assert_int_equal(symlink(victim, planted), 0);
    assert_true(fs_write_file(path, "ours", 4));
    assert_false(fs_exists(victim)); /* nothing created through the link */
    assert_true(fs_write_file(victim, "theirs", 6));
    fs_atomic_t w;
    assert_true(fs_atomic_begin_durable(&w, path));
    fputs("again", w.f);
    assert_true(fs_atomic_finish(&w));
    char *back = fs_read_file(victim, NULL);
    assert_string_equal(back, "theirs"); /* nothing written through it either */
    free(back);
    back = fs_read_file(path, NULL);
    assert_string_equal(back, "again");
    free(back);
    /* The temporary file is made in the target's folder, under a name of its
     * own that cleanup can tell (and nothing of it is left). */
    assert_int_equal(entries_in_dir(), 3); /* run.json, the link, the victim */
    assert_true(fs_atomic_is_temp(".run.json.tep-a1B2c3"));
    assert_false(fs_atomic_is_temp("run.json"));
    assert_false(fs_atomic_is_temp(".run.json.tep-"));
    unlink(planted);
    unlink(victim);
    unlink(path);
    free(planted);
    free(victim);
    free(path);
}

/* A link where the file itself goes is replaced, never written through. */
static void atomic_write_replaces_a_link_at_the_path(void **state)
{
    (void)state;
    char *path = fs_join(dir, "slice.json");
    char *victim = fs_join(dir, "victim");
    assert_true(fs_write_file(victim, "theirs", 6));
    assert_int_equal(symlink(victim, path), 0);
    assert_true(fs_write_file(path, "ours", 4));
    char *back = fs_read_file(victim, NULL);
    assert_string_equal(back, "theirs");
    free(back);
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    unlink(victim);
    unlink(path);
    free(victim);
    free(path);
}

/* mkdir -p in the checkout follows no link: a folder that is a link to
 * somewhere else gets nothing created in its target (the safety check that
 * refuses the link came too late for that before). */
static void mkdirs_never_creates_through_a_link(void **state)
{
    (void)state;
    char *old = getcwd(NULL, 0);
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(mkdir("elsewhere", 0700), 0);
    assert_int_equal(symlink("elsewhere", "state"), 0);
    errno = 0;
    assert_false(fs_mkdirs("state/job-1/results"));
    assert_int_equal(errno, ELOOP);
    assert_false(fs_exists("elsewhere/job-1"));
    bool made = true;
    assert_true(fs_mkdir_path("real/job-1", &made));
    assert_true(made);
    assert_true(fs_mkdir_path("real/job-1", &made));
    assert_false(made); /* it was there already */
    assert_int_equal(system("rm -rf elsewhere state real"), 0);
    assert_int_equal(chdir(old), 0);
    free(old);
}

/* Every whole-file read has a limit: a larger file (or an endless one such as
 * /dev/zero) is refused with EFBIG, after reading at most the limit. */
static void reads_have_a_size_limit(void **state)
{
    (void)state;
    char *path = fs_join(dir, "big");
    assert_true(fs_write_file(path, "0123456789", 10));
    size_t len = 0;
    char *text = fs_read_file_max(path, 10, &len);
    assert_non_null(text);
    assert_int_equal(len, 10);
    free(text);
    errno = 0;
    assert_null(fs_read_file_max(path, 9, &len));
    assert_int_equal(errno, EFBIG);
    errno = 0;
    assert_null(fs_read_file_max("/dev/zero", 1 << 20, &len));
    assert_int_equal(errno, EFBIG);
    errno = 0;
    assert_null(fs_read_file("/dev/zero", &len)); /* the default limit */
    assert_int_equal(errno, EFBIG);
    unlink(path);
    free(path);
}

static void join_uses_one_slash(void **state)
{
    (void)state;
    struct {
        const char *a, *b, *want;
    } cases[] = {
        {"a", "b", "a/b"},
        {"a/", "b", "a/b"},
        {"a//", "//b", "a/b"},
        {"/", "run.json", "/run.json"},
        {"state", "results/x.json", "state/results/x.json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = fs_join(cases[i].a, cases[i].b);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

static void clocks_and_timestamps(void **state)
{
    (void)state;
    char text[40];
    fs_rfc3339(0, text);
    assert_string_equal(text, "1970-01-01T00:00:00.000000Z");
    fs_rfc3339(1700000000.25, text);
    assert_string_equal(text, "2023-11-14T22:13:20.250000Z");
    /* a time run.json did not hold (NaN), or one out of range, is the epoch,
     * not undefined behaviour (UBSan: float-cast-overflow) */
    const double odd[] = {NAN, INFINITY, -INFINITY, 1e300, -1e300, -0.5};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        fs_rfc3339(odd[i], text);
        assert_string_equal(text, "1970-01-01T00:00:00.000000Z");
    }
    assert_true(fs_now() > 1700000000.0);
    double before = fs_monotonic();
    fs_sleep(0.05);
    fs_sleep(-1); /* returns at once */
    double slept = fs_monotonic() - before;
    assert_true(slept >= 0.05);
    assert_true(slept < 5.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(write_and_read_back_bytes),
        cmocka_unit_test(read_failures_keep_errno),
        cmocka_unit_test(write_into_missing_dir_fails),
        cmocka_unit_test(atomic_write_in_parts),
        cmocka_unit_test(failed_atomic_write_keeps_the_old_file),
        cmocka_unit_test(failed_rename_removes_the_temp_file),
        cmocka_unit_test(mkdirs_makes_private_parents),
        cmocka_unit_test(atomic_write_never_follows_a_planted_link),
        cmocka_unit_test(atomic_write_replaces_a_link_at_the_path),
        cmocka_unit_test(mkdirs_never_creates_through_a_link),
        cmocka_unit_test(reads_have_a_size_limit),
        cmocka_unit_test(join_uses_one_slash),
        cmocka_unit_test(clocks_and_timestamps),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
