/* Test helper: a fake `buildkite-agent` (a shell script the test writes) in a
 * fresh temp dir put first on PATH, so the code under test runs a real child
 * as it would in a job. The script starts with D=<that dir>, where it may
 * keep files the test reads back (argv, stdin, stored values). */
#ifndef TEP_TEST_FAKE_AGENT_H
#define TEP_TEST_FAKE_AGENT_H
#include "buf.h"
#include "fsutil.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char dir[64];
    char *old_path;
} fake_agent_t;

/* Installs `body` (shell, after "#!/bin/sh" and "D=<dir>") as buildkite-agent. */
static inline void fake_agent_install(fake_agent_t *f, const char *body)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/tep-fake-agent-XXXXXX");
    if (!mkdtemp(f->dir)) abort();
    char *path = xasprintf("%s/buildkite-agent", f->dir);
    char *script = xasprintf("#!/bin/sh\nD='%s'\n%s", f->dir, body);
    if (!fs_write_file(path, script, strlen(script)) || chmod(path, 0755) != 0) abort();
    free(script);
    free(path);
    const char *old = getenv("PATH");
    f->old_path = xstrdup(old ? old : "/usr/bin:/bin");
    char *now = xasprintf("%s:%s", f->dir, f->old_path);
    setenv("PATH", now, 1);
    free(now);
}

/* A file in the fake agent's dir, read whole ("" when absent). Caller frees. */
static inline char *fake_agent_file(const fake_agent_t *f, const char *name)
{
    char *path = xasprintf("%s/%s", f->dir, name);
    char *text = fs_read_file(path, NULL);
    free(path);
    return text ? text : xstrdup("");
}

static inline int fake_agent_unlink(const char *path, const struct stat *st, int flag,
                                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Restores PATH and removes the dir with everything in it. */
static inline void fake_agent_remove(fake_agent_t *f)
{
    setenv("PATH", f->old_path, 1);
    free(f->old_path);
    f->old_path = NULL;
    nftw(f->dir, fake_agent_unlink, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
