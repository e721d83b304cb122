/* Test helper: a fake `buildkite-agent` (a shell script the test writes) in a
 * fresh temp dir put first on PATH, so the code under test runs a real child
 * as it would in a job. The script starts with D=<that dir>, where it may
 * keep files the test reads back (argv, stdin, stored values). */
#ifndef TEP_TEST_FAKE_AGENT_H
#define TEP_TEST_FAKE_AGENT_H
#include "buf.h"
#include "config.h"
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

/* Writes a file into the fake agent's dir (name relative to it). */
static inline void fake_agent_put(const fake_agent_t *f, const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", f->dir, name);
    if (!fs_write_file(path, text, strlen(text))) abort();
    free(path);
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

/* The usual fixture: the fake agent, and a configuration loaded from the
 * environment as the test left it (the agent command and the plugin JSON
 * cleared, so `buildkite-agent` is the fake one on PATH). */
typedef struct {
    fake_agent_t agent;
    config_t cfg;
} agent_fixture_t;

static inline agent_fixture_t *agent_fixture_new(const char *script)
{
    agent_fixture_t *f = xcalloc(1, sizeof *f);
    unsetenv("BUILDKITE_TEST_ENGINE_AGENT_CMD");
    unsetenv("BUILDKITE_PLUGIN_CONFIGURATION");
    fake_agent_install(&f->agent, script);
    config_load(&f->cfg);
    return f;
}

static inline void agent_fixture_free(agent_fixture_t *f)
{
    config_free(&f->cfg);
    fake_agent_remove(&f->agent);
    free(f);
}

#endif
