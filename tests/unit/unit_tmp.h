/* Temp directories, scripts and PATH for the unit tests that run children
 * (a fake python3 or buildkite-agent placed first on PATH). Include after
 * unit.h. */
#ifndef TEP_UNIT_TMP_H
#define TEP_UNIT_TMP_H
#include "buf.h"
#include "fsutil.h"
#include <stdio.h>
#include <sys/stat.h>

/* Makes /tmp/<name>-XXXXXX into dir (room for 64 bytes). */
static inline void unit_make_dir(char dir[64], const char *name)
{
    snprintf(dir, 64, "/tmp/%s-XXXXXX", name);
    assert_non_null(mkdtemp(dir));
}

static inline void unit_remove_tree(const char *dir)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

/* Writes an executable script dir/name. */
static inline void unit_write_script(const char *dir, const char *name, const char *text)
{
    char *path = fs_join(dir, name);
    assert_true(fs_write_file(path, text, strlen(text)));
    assert_int_equal(chmod(path, 0755), 0);
    free(path);
}

/* Puts dir first on PATH; returns the old PATH for unit_restore_path. */
static inline char *unit_prepend_path(const char *dir)
{
    const char *old = getenv("PATH");
    char *saved = xstrdup(old ? old : "/usr/bin:/bin");
    char *path = xasprintf("%s:%s", dir, saved);
    setenv("PATH", path, 1);
    free(path);
    return saved;
}

static inline void unit_restore_path(char *saved)
{
    setenv("PATH", saved, 1);
    free(saved);
}

#endif
