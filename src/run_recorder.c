#include "run_recorder.h"
#include "buf.h"
#include "childenv.h"
#include "pyplugin.h"
#include "run_recorder_py.h"
#include <stdlib.h>
#include <string.h>

#define OUT_VAR "TEP_RECORD_OUT"

bool run_recorder_start(run_recorder_t *r, char **err)
{
    memset(r, 0, sizeof *r);
    return pyplugin_dir_make("tep-recorder", RUN_RECORDER_MODULE, run_recorder_py, &r->dir, err);
}

bool run_recorder_on(const run_recorder_t *r)
{
    return r->dir && !r->failed;
}

void run_recorder_env(const run_recorder_t *r, strlist_t *env, const char *events_path)
{
    pyplugin_env_add(env, r->dir);
    const char *old = childenv_get(env, "PYTEST_PLUGINS");
    char *plugins =
        old && *old ? xasprintf("%s," RUN_RECORDER_MODULE, old) : xstrdup(RUN_RECORDER_MODULE);
    childenv_set(env, "PYTEST_PLUGINS", plugins);
    childenv_set(env, OUT_VAR, events_path);
    free(plugins);
}

bool run_recorder_load_failed(const char *line)
{
    /* the traceback's last line, not the source of the raise Python 3.13 shows */
    return strncmp(line, "ImportError: Error importing plugin", 35) == 0 &&
           strstr(line, RUN_RECORDER_MODULE);
}

void run_recorder_stop(run_recorder_t *r)
{
    pyplugin_dir_remove(r->dir);
    free(r->dir);
    r->dir = NULL;
}
