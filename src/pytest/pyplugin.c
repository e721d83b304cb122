#include "pytest/pyplugin.h"
#include "base/buf.h"
#include "pytest/childenv.h"
#include "base/err.h"
#include "base/fs.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void pyplugin_dir_remove(const char *dir)
{
    if (dir && *dir) nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

bool pyplugin_dir_make(const char *prefix, const char *module, const char *source, char **dir,
                       char **err)
{
    const char *tmp = getenv("TMPDIR");
    const char *base = tmp && *tmp ? tmp : "/tmp";
    char *made = xasprintf("%s/%s-XXXXXX", base, prefix);
    if (!mkdtemp(made)) {
        err_set(err, "cannot make a private directory for a pytest plugin in %s: %m", base);
        free(made);
        return false;
    }
    char *name = xasprintf("%s.py", module);
    char *file = fs_join(made, name);
    bool ok = fs_write_file(file, source, strlen(source));
    free(name);
    free(file);
    if (!ok) {
        err_set(err, "cannot write a pytest plugin into %s: %m", made);
        pyplugin_dir_remove(made);
        free(made);
        return false;
    }
    *dir = made;
    return true;
}

void pyplugin_env_add(strlist_t *env, const char *dir)
{
    const char *old = childenv_get(env, "PYTHONPATH");
    char *path = old && *old ? xasprintf("%s:%s", dir, old) : xstrdup(dir);
    childenv_set(env, "PYTHONPATH", path);
    free(path);
}
