#include "runstate.h"
#include "buf.h"
#include "fsutil.h"
#include "state.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static cJSON *test_json(const test_result_t *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "node_id", t->node_id);
    cJSON_AddStringToObject(o, "scope", t->scope);
    cJSON_AddStringToObject(o, "name", t->name);
    if (t->file) cJSON_AddStringToObject(o, "file", t->file);
    cJSON_AddStringToObject(o, "status", result_status_name(t->status));
    cJSON_AddNumberToObject(o, "attempts", t->attempts);
    if (t->failed_before) cJSON_AddBoolToObject(o, "failed_before", true);
    if (t->muted) cJSON_AddBoolToObject(o, "muted", true);
    if (t->collection_error) cJSON_AddBoolToObject(o, "collection_error", true);
    if (t->failure) cJSON_AddStringToObject(o, "failure", t->failure);
    return o;
}

bool runstate_write(const config_t *cfg, const run_record_t *rec, char **err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "mode", rec->mode);
    cJSON_AddStringToObject(root, "plan_source", rec->plan_source);
    cJSON_AddStringToObject(root, "plan_reason", rec->plan_reason);
    cJSON_AddBoolToObject(root, "from_server", rec->from_server);
    cJSON_AddNumberToObject(root, "exit_status", rec->exit_status);
    cJSON_AddBoolToObject(root, "terminal", rec->terminal);
    cJSON_AddStringToObject(root, "why", rec->why ? rec->why : "");
    cJSON_AddStringToObject(root, "forensics", rec->forensics ? rec->forensics : "");
    cJSON *atts = cJSON_AddArrayToObject(root, "attempts");
    for (size_t i = 0; i < rec->n_attempts; i++) {
        const attempt_t *a = &rec->attempts[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", a->index);
        cJSON_AddStringToObject(o, "result_file", a->result_file);
        cJSON_AddNumberToObject(o, "exit_code", a->exit_code);
        cJSON_AddNumberToObject(o, "signal", a->signal);
        cJSON_AddNumberToObject(o, "started", a->started);
        cJSON_AddNumberToObject(o, "ended", a->ended);
        cJSON_AddNumberToObject(o, "selectors", (double)a->n_selectors);
        cJSON_AddItemToArray(atts, o);
    }
    cJSON *tests = cJSON_AddArrayToObject(root, "tests");
    for (size_t i = 0; i < rec->result.len; i++) cJSON_AddItemToArray(tests, test_json(&rec->result.tests[i]));
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    char *path = state_file(cfg, "run.json");
    bool ok = fs_write_file(path, json, strlen(json));
    if (!ok) *err = xasprintf("cannot write %s (%s)", path, strerror(errno));
    free(path);
    free(json);
    return ok;
}

static char *dup_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

static double num(const cJSON *o, const char *key)
{
    return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static bool flag(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static void read_tests(run_record_t *rec, const cJSON *tests)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, tests) {
        char *scope = dup_str(t, "scope"), *name = dup_str(t, "name"), *id = dup_str(t, "node_id");
        char *file = dup_str(t, "file"), *failure = dup_str(t, "failure"), *status = dup_str(t, "status");
        if (scope && name && id) {
            test_result_t *r = result_record(&rec->result, scope, name, id, file, result_status_parse(status), failure,
                                             flag(t, "collection_error"));
            r->attempts = (int)num(t, "attempts");
            r->failed_before = flag(t, "failed_before");
            r->muted = flag(t, "muted");
        }
        free(scope), free(name), free(id), free(file), free(failure), free(status);
    }
}

bool runstate_read(const config_t *cfg, run_record_t *rec, char **err)
{
    memset(rec, 0, sizeof *rec);
    result_init(&rec->result, NULL, 0);
    cJSON *root = state_read_json(cfg, "run.json", err);
    if (!root) return false;
    rec->mode = dup_str(root, "mode");
    rec->plan_source = dup_str(root, "plan_source");
    rec->plan_reason = dup_str(root, "plan_reason");
    rec->from_server = flag(root, "from_server");
    rec->exit_status = (int)num(root, "exit_status");
    rec->terminal = flag(root, "terminal");
    rec->why = dup_str(root, "why");
    rec->forensics = dup_str(root, "forensics");
    const cJSON *atts = cJSON_GetObjectItemCaseSensitive(root, "attempts");
    int n = cJSON_GetArraySize(atts);
    rec->attempts = xcalloc((size_t)(n > 0 ? n : 1), sizeof(attempt_t));
    const cJSON *a;
    cJSON_ArrayForEach(a, atts) {
        attempt_t *at = &rec->attempts[rec->n_attempts++];
        at->index = (int)num(a, "index");
        at->result_file = dup_str(a, "result_file");
        at->exit_code = (int)num(a, "exit_code");
        at->signal = (int)num(a, "signal");
        at->started = num(a, "started");
        at->ended = num(a, "ended");
        at->n_selectors = (size_t)num(a, "selectors");
    }
    read_tests(rec, cJSON_GetObjectItemCaseSensitive(root, "tests"));
    cJSON_Delete(root);
    return true;
}

void runstate_free(run_record_t *rec)
{
    free(rec->mode);
    free(rec->plan_source);
    free(rec->plan_reason);
    free(rec->why);
    free(rec->forensics);
    for (size_t i = 0; i < rec->n_attempts; i++) free(rec->attempts[i].result_file);
    free(rec->attempts);
    result_free(&rec->result);
    memset(rec, 0, sizeof *rec);
}
