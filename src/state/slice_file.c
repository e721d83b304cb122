#include "state/slice_file.h"
#include "base/buf.h"
#include "base/json_get.h"
#include "state/state_dir.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SLICE_FILE_NAME "slice.json"

/* ---- writing ---- */

static cJSON *strlist_json(const strlist_t *l)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < l->len; i++) cJSON_AddItemToArray(a, cJSON_CreateString(l->items[i]));
    return a;
}

static cJSON *muted_json(const plan_t *p)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < p->n_muted; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "scope", p->muted[i].scope);
        cJSON_AddStringToObject(m, "name", p->muted[i].name);
        cJSON_AddItemToArray(a, m);
    }
    return a;
}

/* What the run phase needs to settle this job's share of the split files. */
static cJSON *refine_json(const plan_t *p, long job)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *splits = cJSON_AddArrayToObject(o, "splits");
    cJSON *elsewhere = cJSON_AddArrayToObject(o, "elsewhere");
    const strlist_t *mine = &p->tasks[job].run;
    for (size_t i = 0; i < p->n_splits; i++) {
        const plan_split_t *sp = &p->splits[i];
        bool involved = false;
        for (size_t k = 0; !involved && k < mine->len; k++)
            involved = plan_split_of(p, mine->items[k]) == sp;
        if (!involved) continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "path", sp->path);
        cJSON_AddNumberToObject(e, "rest_job", (double)sp->rest_job);
        cJSON_AddItemToArray(splits, e);
    }
    for (long k = 0; k < p->parallelism; k++) {
        const strlist_t *run = &p->tasks[k].run;
        for (size_t i = 0; k != job && i < run->len; i++)
            if (strstr(run->items[i], "::") && plan_split_of(p, run->items[i]))
                cJSON_AddItemToArray(elsewhere, cJSON_CreateString(run->items[i]));
    }
    return o;
}

/* This job's estimate and what it rests on, for the run's estimated-vs-actual line. */
static cJSON *estimate_json(const plan_t *p, long job)
{
    const plan_task_t *t = &p->tasks[job];
    bool server = p->source == PLAN_SERVER_CACHED || p->source == PLAN_SERVER_CREATED;
    const char *basis = t->estimated_s < 0           ? "none"
                        : server                     ? "test_engine"
                        : p->source == PLAN_FALLBACK ? "durations_file"
                                                     : "none";
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "seconds", strcmp(basis, "none") == 0 ? -1 : t->estimated_s);
    cJSON_AddStringToObject(o, "basis", basis);
    cJSON_AddNumberToObject(o, "samples", (double)t->samples);
    cJSON_AddNumberToObject(o, "with_history", (double)t->n_history);
    return o;
}

bool slice_file_write(const config_t *cfg, const plan_t *p, char **err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "version", SLICE_FILE_VERSION);
    cJSON_AddStringToObject(root, "suite", cfg->suite_slug);
    cJSON_AddStringToObject(root, "source", plan_source_name(p->source));
    cJSON_AddStringToObject(root, "reason", p->reason);
    cJSON_AddBoolToObject(root, "from_server",
                          p->source == PLAN_SERVER_CACHED || p->source == PLAN_SERVER_CREATED);
    cJSON_AddStringToObject(root, "identifier", cfg->identifier);
    cJSON_AddNumberToObject(root, "job", (double)cfg->parallel_job);
    cJSON_AddNumberToObject(root, "parallelism", (double)cfg->parallel_job_count);
    cJSON_AddItemToObject(root, "tests", strlist_json(&p->tasks[cfg->parallel_job].run));
    cJSON_AddItemToObject(root, "muted", muted_json(p));
    cJSON_AddItemToObject(root, "skipped", strlist_json(&p->skipped));
    if (p->refine_deferred)
        cJSON_AddItemToObject(root, "refine", refine_json(p, cfg->parallel_job));
    cJSON_AddItemToObject(root, "estimate", estimate_json(p, cfg->parallel_job));
    bool ok = state_dir_write_json(cfg, SLICE_FILE_NAME, root, err);
    int e = errno; /* the caller's exit status tells a full disk by it */
    cJSON_Delete(root);
    errno = e;
    return ok;
}

/* ---- reading ---- */

/* The strings of a JSON array; other members are not node ids and are left out. */
static void read_string_array(const cJSON *array, strlist_t *out)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, array)
    {
        if (cJSON_IsString(item)) strlist_push(out, item->valuestring);
    }
}

static void read_muted(const cJSON *array, slice_t *s)
{
    int n = cJSON_GetArraySize(array);
    s->muted = xcalloc((size_t)(n > 0 ? n : 1), sizeof(plan_test_ref_t));
    const cJSON *item;
    cJSON_ArrayForEach(item, array)
    {
        plan_test_ref_t *m = &s->muted[s->n_muted++];
        m->scope = xstrdup(json_get_str(item, "scope"));
        m->name = xstrdup(json_get_str(item, "name"));
    }
}

static void read_refine(const cJSON *refine, slice_t *s)
{
    if (!cJSON_IsObject(refine)) return;
    s->refine = true;
    const cJSON *splits = cJSON_GetObjectItemCaseSensitive(refine, "splits"), *e;
    int n = cJSON_GetArraySize(splits);
    s->splits = xcalloc((size_t)(n > 0 ? n : 1), sizeof *s->splits);
    cJSON_ArrayForEach(e, splits)
    {
        const char *path = json_get_str(e, "path");
        long rest =
            json_get_long(e, "rest_job", 0, s->parallelism > 0 ? s->parallelism - 1 : 0, -1);
        if (!*path || rest < 0) continue; /* not ours to guess: that file then runs whole */
        plan_split_t *sp = &s->splits[s->n_splits++];
        sp->path = xstrdup(path);
        sp->rest_job = rest;
    }
    read_string_array(cJSON_GetObjectItemCaseSensitive(refine, "elsewhere"), &s->elsewhere);
}

static slice_t *slice_from_json(const cJSON *root)
{
    slice_t *s = xcalloc(1, sizeof *s);
    strlist_init(&s->tests);
    strlist_init(&s->skipped);
    s->suite = xstrdup(json_get_str(root, "suite"));
    s->source = xstrdup(json_get_str(root, "source"));
    s->reason = xstrdup(json_get_str(root, "reason"));
    s->identifier = xstrdup(json_get_str(root, "identifier"));
    s->from_server = json_get_bool(root, "from_server");
    s->job = json_get_long(root, "job", 0, 1000000, -1);
    s->parallelism = json_get_long(root, "parallelism", 0, 1000000, -1);
    read_string_array(cJSON_GetObjectItemCaseSensitive(root, "tests"), &s->tests);
    read_string_array(cJSON_GetObjectItemCaseSensitive(root, "skipped"), &s->skipped);
    read_muted(cJSON_GetObjectItemCaseSensitive(root, "muted"), s);
    strlist_init(&s->elsewhere);
    read_refine(cJSON_GetObjectItemCaseSensitive(root, "refine"), s);
    const cJSON *est = cJSON_GetObjectItemCaseSensitive(root, "estimate");
    double seconds = json_get_num(est, "seconds");
    s->estimate_s = isfinite(seconds) && seconds >= 0 && seconds < 1e9 ? seconds : -1;
    s->estimate_basis = xstrdup(cJSON_IsObject(est) ? json_get_str(est, "basis") : "none");
    s->samples = json_get_long(est, "samples", -1, 1000000000000L, -1);
    s->with_history = json_get_count(est, "with_history");
    return s;
}

bool slice_file_read(const config_t *cfg, slice_t **out, char **err)
{
    *out = NULL;
    cJSON *root;
    if (!state_dir_read_json(cfg, SLICE_FILE_NAME, SLICE_FILE_VERSION, &root, err)) return false;
    if (root) *out = slice_from_json(root);
    cJSON_Delete(root);
    return true;
}

char *slice_file_mismatch(const config_t *cfg, const slice_t *s)
{
    if (strcmp(s->identifier, cfg->identifier) != 0)
        return xasprintf("plan identifier '%s', not '%s'", s->identifier, cfg->identifier);
    if (strcmp(s->suite, cfg->suite_slug) != 0)
        return xasprintf("suite '%s', not '%s'", s->suite, cfg->suite_slug);
    if (s->job != cfg->parallel_job || s->parallelism != cfg->parallel_job_count)
        return xasprintf("job %ld of %ld, not job %ld of %ld", s->job + 1, s->parallelism,
                         cfg->parallel_job + 1, cfg->parallel_job_count);
    return NULL;
}

void slice_file_free(slice_t *s)
{
    if (!s) return;
    free(s->suite);
    free(s->source);
    free(s->reason);
    free(s->identifier);
    free(s->estimate_basis);
    strlist_free(&s->tests);
    strlist_free(&s->skipped);
    for (size_t i = 0; i < s->n_muted; i++) {
        free(s->muted[i].scope);
        free(s->muted[i].name);
    }
    free(s->muted);
    for (size_t i = 0; i < s->n_splits; i++) free(s->splits[i].path);
    free(s->splits);
    strlist_free(&s->elsewhere);
    free(s);
}
