#include "pytest/recorder.h"
#include "base/buf.h"
#include "pytest/childenv.h"
#include "pytest/pyplugin.h"
#include "recorder_py.h"
#include <stdlib.h>
#include <string.h>

#define OUT_VAR "TEP_RECORD_OUT"

bool recorder_start(recorder_t *r, char **err)
{
    memset(r, 0, sizeof *r);
    return pyplugin_dir_make("tep-recorder", RECORDER_MODULE, recorder_py, &r->dir, err);
}

bool recorder_on(const recorder_t *r)
{
    return r->dir != NULL;
}

void recorder_env(const recorder_t *r, strlist_t *env, const char *events_path)
{
    pyplugin_env_add(env, r->dir);
    const char *old = childenv_get(env, "PYTEST_PLUGINS");
    char *plugins = old && *old ? xasprintf("%s," RECORDER_MODULE, old) : xstrdup(RECORDER_MODULE);
    childenv_set(env, "PYTEST_PLUGINS", plugins);
    childenv_set(env, OUT_VAR, events_path);
    free(plugins);
}

bool recorder_load_failed(const char *line)
{
    /* the traceback's last line, not the source of the raise Python 3.13 shows */
    return strncmp(line, "ImportError: Error importing plugin", 35) == 0 &&
           strstr(line, RECORDER_MODULE);
}

void recorder_stop(recorder_t *r)
{
    pyplugin_dir_remove(r->dir);
    free(r->dir);
    r->dir = NULL;
}
