#include "state/options_file.h"
#include "state/state_dir.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>

#define OPTIONS_FILE_NAME "options.json"

bool options_file_write(const config_t *cfg, char **err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "version", OPTIONS_FILE_VERSION);
    cJSON_AddItemToObject(root, "options", config_saved_options(cfg));
    bool ok = state_dir_write_json(cfg, OPTIONS_FILE_NAME, root, err);
    int e = errno; /* the caller's exit status tells a full disk by it */
    cJSON_Delete(root);
    errno = e;
    return ok;
}

bool options_file_apply(config_t *cfg, char **err)
{
    cJSON *root;
    if (!state_dir_read_json(cfg, OPTIONS_FILE_NAME, OPTIONS_FILE_VERSION, &root, err))
        return false;
    if (!root) return true;
    /* The path is where the options came from, for config's messages; it is
     * taken before applying them, which derives the state dir again. */
    char *path = state_dir_file(cfg, OPTIONS_FILE_NAME);
    config_apply_saved(cfg, cJSON_GetObjectItemCaseSensitive(root, "options"), path);
    free(path);
    cJSON_Delete(root);
    return true;
}
