#include "state.h"
#include "buf.h"
#include "fsutil.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

char *state_file(const config_t *cfg, const char *name)
{
    return fs_join(cfg->state_dir, name);
}

cJSON *state_read_json(const config_t *cfg, const char *name, char **err)
{
    *err = NULL;
    char *path = state_file(cfg, name);
    char *text = fs_read_file(path, NULL);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    if (text && !cJSON_IsObject(root)) {
        *err = xasprintf("%s is not valid JSON; run the earlier phase again", path);
        cJSON_Delete(root);
        root = NULL;
    }
    free(text);
    free(path);
    return root;
}

bool state_prepare(const config_t *cfg, char **err)
{
    char *results = state_file(cfg, "results");
    bool ok = fs_mkdirs(results);
    if (!ok) *err = xasprintf("BUILDKITE_TEST_ENGINE_STATE_DIR '%s': cannot create it (%s)", cfg->state_dir, strerror(errno));
    free(results);
    return ok;
}

bool slice_write(const config_t *cfg, const plan_t *p, char **err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "source", plan_source_name(p->source));
    cJSON_AddStringToObject(root, "reason", p->reason);
    cJSON_AddBoolToObject(root, "from_server", p->source == PLAN_SERVER_CACHED || p->source == PLAN_SERVER_CREATED);
    cJSON_AddStringToObject(root, "identifier", cfg->identifier);
    cJSON_AddNumberToObject(root, "job", (double)cfg->parallel_job);
    cJSON_AddNumberToObject(root, "parallelism", (double)cfg->parallel_job_count);
    cJSON *tests = cJSON_AddArrayToObject(root, "tests");
    const strlist_t *run = &p->tasks[cfg->parallel_job].run;
    for (size_t i = 0; i < run->len; i++) cJSON_AddItemToArray(tests, cJSON_CreateString(run->items[i]));
    cJSON *muted = cJSON_AddArrayToObject(root, "muted");
    for (size_t i = 0; i < p->n_muted; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "scope", p->muted[i].scope);
        cJSON_AddStringToObject(m, "name", p->muted[i].name);
        cJSON_AddItemToArray(muted, m);
    }
    cJSON *skipped = cJSON_AddArrayToObject(root, "skipped");
    for (size_t i = 0; i < p->skipped.len; i++) cJSON_AddItemToArray(skipped, cJSON_CreateString(p->skipped.items[i]));
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    char *path = state_file(cfg, "slice.json");
    bool ok = fs_write_file(path, json, strlen(json));
    if (!ok) *err = xasprintf("cannot write %s (%s)", path, strerror(errno));
    free(path);
    free(json);
    return ok;
}

static char *dup_field(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return xstrdup(cJSON_IsString(v) ? v->valuestring : "");
}

bool slice_read(const config_t *cfg, slice_t *s, char **err)
{
    memset(s, 0, sizeof *s);
    strlist_init(&s->tests);
    strlist_init(&s->skipped);
    cJSON *root = state_read_json(cfg, "slice.json", err);
    if (!root) return false;
    s->source = dup_field(root, "source");
    s->reason = dup_field(root, "reason");
    s->identifier = dup_field(root, "identifier");
    s->from_server = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "from_server"));
    s->job = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(root, "job"));
    s->parallelism = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(root, "parallelism"));
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(root, "tests"))
        if (cJSON_IsString(t)) strlist_push(&s->tests, t->valuestring);
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(root, "skipped"))
        if (cJSON_IsString(t)) strlist_push(&s->skipped, t->valuestring);
    const cJSON *muted = cJSON_GetObjectItemCaseSensitive(root, "muted");
    int n = cJSON_GetArraySize(muted);
    s->muted = xcalloc((size_t)(n > 0 ? n : 1), sizeof(plan_test_ref_t));
    cJSON_ArrayForEach(t, muted) {
        s->muted[s->n_muted].scope = dup_field(t, "scope");
        s->muted[s->n_muted++].name = dup_field(t, "name");
    }
    cJSON_Delete(root);
    return true;
}

void slice_free(slice_t *s)
{
    free(s->source);
    free(s->reason);
    free(s->identifier);
    strlist_free(&s->tests);
    strlist_free(&s->skipped);
    for (size_t i = 0; i < s->n_muted; i++) {
        free(s->muted[i].scope);
        free(s->muted[i].name);
    }
    free(s->muted);
    memset(s, 0, sizeof *s);
}
