/* Test helper: scratch files under /tmp, and what a call writes to stderr. */
#ifndef TEP_TEST_SCRATCH_H
#define TEP_TEST_SCRATCH_H
#include "unit.h"
#include "buf.h"
#include "fsutil.h"
#include <stdio.h>
#include <stdlib.h>
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

/* Removes the folder and all in it. */
static inline void scratch_dir_remove(const char *dir)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

/* Runs fn(arg) with stderr sent to a file; returns what it wrote (caller
 * frees) and, with lines, how many lines. */
static inline char *scratch_stderr(void (*fn)(void *), void *arg, size_t *lines)
{
    char path[] = "/tmp/tep-stderr-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    fn(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
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

#endif
