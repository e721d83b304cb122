/* Test helper: scratch space under /tmp (files and folders a test makes and
 * removes) and what a call writes to stdout or stderr. For programs a test puts on
 * PATH, see fake_agent.h. Include after unit.h. */
#ifndef TEP_TEST_SCRATCH_H
#define TEP_TEST_SCRATCH_H
#include "unit.h"
#include "base/buf.h"
#include "base/fs.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* A new file /tmp/<prefix>-XXXXXX holding data; returns its path (caller
 * unlinks and frees). */
static inline char *scratch_file(const char *prefix, const void *data, size_t len)
{
    char *path = xasprintf("/tmp/%s-XXXXXX", prefix);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

/* Makes a new folder /tmp/<prefix>_XXXXXX; its path goes to dir. */
static inline void scratch_dir(char *dir, size_t size, const char *prefix)
{
    snprintf(dir, size, "/tmp/%s_XXXXXX", prefix);
    assert_non_null(mkdtemp(dir));
}

/* Makes a new folder as scratch_dir does and makes it the working
 * directory; returns the one it left (hand it to scratch_leave). */
static inline char *scratch_enter(char *dir, size_t size, const char *prefix)
{
    char *old_cwd = getcwd(NULL, 0);
    assert_non_null(old_cwd);
    scratch_dir(dir, size, prefix);
    assert_int_equal(chdir(dir), 0);
    return old_cwd;
}

/* Writes dir/name holding text (a NUL-terminated string). */
static inline void scratch_put(const char *dir, const char *name, const char *text)
{
    char *path = fs_join(dir, name);
    assert_true(fs_write_file(path, text, strlen(text)));
    free(path);
}

static inline int scratch_remove_entry(const char *path, const struct stat *st, int flag,
                                       struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes the folder and all in it (no shell: any name is safe). */
static inline void scratch_dir_remove(const char *dir)
{
    assert_int_equal(nftw(dir, scratch_remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* Goes back to old_cwd (and frees it), then removes dir. */
static inline void scratch_leave(const char *dir, char *old_cwd)
{
    assert_int_equal(chdir(old_cwd), 0);
    free(old_cwd);
    scratch_dir_remove(dir);
}

/* The standard streams scratch_output can capture (or both: one file). */
enum {
    SCRATCH_STDOUT = 1,
    SCRATCH_STDERR = 2
};

/* Points fd at to (fd 1 or 2); returns a copy of what fd was, for undo. */
static inline int scratch_redirect(int fd, int to)
{
    int saved = dup(fd);
    assert_true(saved >= 0);
    assert_int_equal(dup2(to, fd), fd);
    return saved;
}

static inline void scratch_restore(int fd, int saved)
{
    assert_int_equal(dup2(saved, fd), fd);
    close(saved);
}

/* Runs fn(arg) with the streams in `which` (SCRATCH_STDOUT, SCRATCH_STDERR
 * or both) sent to one temp file; returns what they wrote (caller frees)
 * and, with lines, how many lines. */
static inline char *scratch_output(int which, void (*fn)(void *), void *arg, size_t *lines)
{
    char path[] = "/tmp/tep-output-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stdout);
    fflush(stderr);
    int saved_out = which & SCRATCH_STDOUT ? scratch_redirect(1, fd) : -1;
    int saved_err = which & SCRATCH_STDERR ? scratch_redirect(2, fd) : -1;
    fn(arg);
    fflush(stdout);
    fflush(stderr);
    if (saved_out >= 0) scratch_restore(1, saved_out);
    if (saved_err >= 0) scratch_restore(2, saved_err);
    close(fd);
    size_t len = 0;
    char *text = fs_read_file(path, &len);
    unlink(path);
    assert_non_null(text);
    if (lines) {
        *lines = 0;
        for (size_t i = 0; i < len; i++) *lines += text[i] == '\n';
    }
    return text;
}

/* scratch_output of stderr alone: what a call warns. */
static inline char *scratch_stderr(void (*fn)(void *), void *arg, size_t *lines)
{
    return scratch_output(SCRATCH_STDERR, fn, arg, lines);
}

#endif
