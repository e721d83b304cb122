/* Test helper: fake programs (shell scripts the test writes) in a fresh temp
 * dir put first on PATH, so the code under test runs a real child as it
 * would in a job: a fake `python3`, or a fake `buildkite-agent` whose script
 * starts with D=<that dir>, where it may keep files the test reads back
 * (argv, stdin, stored values). Scratch files and stderr capture are in
 * scratch.h. Include after unit.h. */
#ifndef TEP_TEST_FAKE_AGENT_H
#define TEP_TEST_FAKE_AGENT_H
#include "scratch.h"
#include "base/buf.h"
#include "config/config.h"
#include "base/fs.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A temp dir first on PATH, and the PATH it replaced. */
typedef struct {
    char dir[64];
    char *old_path;
} fake_bin_t;

/* Makes /tmp/<prefix>_XXXXXX and puts it first on PATH. */
static inline void fake_bin_open(fake_bin_t *b, const char *prefix)
{
    scratch_dir(b->dir, sizeof b->dir, prefix);
    const char *old = getenv("PATH");
    b->old_path = xstrdup(old ? old : "/usr/bin:/bin");
    char *now = xasprintf("%s:%s", b->dir, b->old_path);
    setenv("PATH", now, 1);
    free(now);
}

/* Writes the executable script dir/name (text is the whole script). */
static inline void fake_bin_script(const fake_bin_t *b, const char *name, const char *text)
{
    scratch_put(b->dir, name, text);
    char *path = fs_join(b->dir, name);
    assert_int_equal(chmod(path, 0755), 0);
    free(path);
}

/* Restores PATH and removes the dir with everything in it. */
static inline void fake_bin_close(fake_bin_t *b)
{
    setenv("PATH", b->old_path, 1);
    free(b->old_path);
    b->old_path = NULL;
    scratch_dir_remove(b->dir);
}

/* The fake buildkite-agent lives in a fake_bin_t of its own. */
typedef fake_bin_t fake_agent_t;

/* Installs `body` (shell, after "#!/bin/sh" and "D=<dir>") as buildkite-agent. */
static inline void fake_agent_install(fake_agent_t *f, const char *body)
{
    fake_bin_open(f, "tep-fake-agent");
    char *script = xasprintf("#!/bin/sh\nD='%s'\n%s", f->dir, body);
    fake_bin_script(f, "buildkite-agent", script);
    free(script);
}

/* Writes a file into the fake agent's dir (name relative to it). */
static inline void fake_agent_put(const fake_agent_t *f, const char *name, const char *text)
{
    scratch_put(f->dir, name, text);
}

/* A file in the fake agent's dir, read whole ("" when absent). Caller frees. */
static inline char *fake_agent_file(const fake_agent_t *f, const char *name)
{
    char *path = fs_join(f->dir, name);
    char *text = fs_read_file(path, NULL);
    free(path);
    return text ? text : xstrdup("");
}

/* Restores PATH and removes the dir with everything in it. */
static inline void fake_agent_remove(fake_agent_t *f)
{
    fake_bin_close(f);
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
