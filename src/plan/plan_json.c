#include "plan/plan_json.h"
#include "base/text.h"
#include "base/buf.h"
#include "model/durations.h"
#include "base/json_arena.h"
#include "base/json_get.h"
#include "base/jsoncut.h"
#include "net/engine_api.h"
#include "pytest/selector.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The server's estimate in milliseconds as seconds, or -1 when it is not a
 * plausible duration (cJSON turns 1e999 into infinity). */
static double estimate_seconds(const cJSON *est)
{
    if (!cJSON_IsNumber(est)) return -1;
    double s = est->valuedouble / 1000.0;
    return isfinite(s) && s >= 0 && s <= DURATIONS_FILE_MAX_S ? s : -1;
}

/* Test Engine's basis for an estimate (timing_sample_size): summed per job
 * for the summary, and each entry's note for plan --explain. */
static void note_estimate(plan_t *p, plan_task_t *task, const char *run, double seconds,
                          const char *format, const cJSON *t)
{
    long samples = json_get_long(t, "timing_sample_size", 0, 1000000000L, -1);
    if (samples >= 0) task->samples = (task->samples < 0 ? 0 : task->samples) + samples;
    if (samples > 0) task->n_history++;
    if (!p->estimates) return;
    plan_est_source_t source = seconds < 0    ? PLAN_EST_NONE
                               : samples > 0  ? PLAN_EST_SERVER_TIMING
                               : samples == 0 ? PLAN_EST_SERVER_DEFAULT
                                              : PLAN_EST_SERVER;
    plan_estimates_add(p->estimates, run, seconds, samples, source, plan_est_format_parse(format));
}

static void add_task_tests(plan_t *p, plan_task_t *task, const cJSON *tests, const char *prefix,
                           selector_guard_t *guard, size_t *bad_estimates)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, tests)
    {
        const char *format = json_get_str(t, "format");
        bool is_selector = strcmp(format, "selector") == 0;
        const char *raw = is_selector ? json_get_str(t, "value") : json_get_str(t, "path");
        /* The server's paths carry the location prefix; pytest needs them without
         * (and a name that is not UTF-8 went there escaped: engine_api.h). */
        char *run =
            engine_api_path_received(is_selector ? raw : selector_strip_prefix(prefix, raw));
        size_t len = strlen(run);
        const char *why = selector_guard_problem(guard, run, len);
        /* A NUL smuggled as \u0000 was rewritten to U+FFFF before parsing. */
        if (!why && strstr(run, "\xEF\xBF\xBF")) why = "contains a NUL byte";
        if (why) {
            /* Hostile or broken: one short line in the summary. */
            char *text = text_excerpt(run, strlen(run), 200);
            strlist_push_owned(&p->rejected, xasprintf("'%s' %s", text, why));
            free(text);
            free(run);
            continue;
        }
        strlist_push_owned(&task->run, run);
        const cJSON *est = cJSON_GetObjectItemCaseSensitive(t, "estimated_duration");
        double seconds = estimate_seconds(est);
        if (seconds >= 0)
            task->estimated_s = (task->estimated_s < 0 ? 0 : task->estimated_s) + seconds;
        else if (est)
            (*bad_estimates)++;
        note_estimate(p, task, run, seconds, format, t);
    }
}

/* A task key is a job index: decimal digits only (strtol alone would take
 * "", " 1" or "+1"), below the parallelism. */
static bool job_index(const char *key, long parallelism, long *node)
{
    size_t n = strlen(key);
    if (n == 0 || n > 9 || strspn(key, "0123456789") != n) return false;
    *node = strtol(key, NULL, 10);
    return *node < parallelism;
}

static void parse_muted(plan_t *p, const cJSON *muted)
{
    int n = cJSON_GetArraySize(muted);
    if (n <= 0) return;
    for (size_t i = 0; i < p->n_muted; i++) {
        free(p->muted[i].scope);
        free(p->muted[i].name);
    }
    free(p->muted); /* a plan parsed twice keeps the latest list */
    p->n_muted = 0;
    p->muted = xcalloc((size_t)n, sizeof(plan_test_ref_t));
    const cJSON *t;
    cJSON_ArrayForEach(t, muted)
    {
        p->muted[p->n_muted].scope = xstrdup(json_get_str(t, "scope"));
        p->muted[p->n_muted++].name = xstrdup(json_get_str(t, "name"));
    }
}

/* cJSON turns \u0000 into a real NUL, which would silently shorten the
 * string; make it visible instead by rewriting it to U+FFFF first. NULL when
 * the body has no "\u0000" at all (the usual case: the body is read as it
 * is, with no copy of 8 MB). Runs between backslashes are copied whole. */
static char *neutralise_nul_escapes(const char *body)
{
    if (!strstr(body, "\\u0000")) return NULL;
    buf_t b;
    buf_init(&b);
    const char *s = body;
    for (const char *bs = strchr(s, '\\'); bs; bs = strchr(s, '\\')) {
        buf_append(&b, s, (size_t)(bs - s));
        if (bs[1] == 'u' && strncmp(bs + 2, "0000", 4) == 0) {
            buf_puts(&b, "\\uffff");
            s = bs + 6;
        } else {
            size_t n = bs[1] ? 2 : 1; /* an escape pair: "\\\\" never starts another */
            buf_append(&b, bs, n);
            s = bs + n;
        }
    }
    buf_puts(&b, s);
    return buf_detach(&b);
}

/* One line on the estimates that were ignored, to the phase's warn_fn. */
static void warn_bad_estimates(size_t bad, warn_fn warn, void *warn_user)
{
    if (!bad || !warn) return;
    char *line = xasprintf("the plan had %zu estimated_duration value%s that %s not a plausible "
                           "number of milliseconds; ignored",
                           bad, bad == 1 ? "" : "s", bad == 1 ? "is" : "are");
    warn(warn_user, line);
    free(line);
}

static void add_skipped(plan_t *p, const cJSON *skipped)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, skipped)
    {
        strlist_push_owned(&p->skipped,
                           xasprintf("%s %s", json_get_str(t, "scope"), json_get_str(t, "name")));
    }
}

/* ---- the answer cut, not built: only this job's task is parsed ---- */

/* The root's members this module reads, as raw byte ranges (the first of
 * each name, as cJSON's lookup takes it). */
#define N_ROOT_KEYS 6

typedef struct {
    const char *v[N_ROOT_KEYS];
    size_t len[N_ROOT_KEYS];
} root_members_t;

static const char *const ROOT_KEYS[N_ROOT_KEYS] = {"identifier",      "tasks",
                                                   "muted_tests",     "skipped_tests",
                                                   "timing_metadata", "known_timings_ratio"};
enum {
    KEY_IDENTIFIER,
    KEY_TASKS,
    KEY_MUTED,
    KEY_SKIPPED,
    KEY_TIMING_METADATA,
    KEY_KNOWN_TIMINGS_RATIO
};

typedef struct {
    plan_t *p;
    const char *prefix;
    long job;
    json_arena_t arena;
    selector_guard_t guard;
    root_members_t root;
    size_t bad_estimates;
    size_t n_tasks;
    bool broken; /* a part this job reads is not JSON */
} cut_plan_t;

/* A raw key (no quotes) decoded; keys with escapes are rare, so only a key
 * with a backslash goes through cJSON (its quotes are the bytes around it). */
static char *decoded_key(cut_plan_t *r, const char *k, size_t klen)
{
    if (!memchr(k, '\\', klen)) return xstrndup(k, klen);
    const cJSON *s = json_arena_parse(&r->arena, k - 1, klen + 2);
    return xstrdup(cJSON_IsString(s) ? s->valuestring : "");
}

static void on_root_member(const char *k, size_t klen, const char *v, size_t vlen, void *user)
{
    cut_plan_t *r = user;
    char *key = decoded_key(r, k, klen);
    for (int i = 0; i < N_ROOT_KEYS; i++)
        if (!r->root.v[i] && strcmp(key, ROOT_KEYS[i]) == 0) {
            r->root.v[i] = v;
            r->root.len[i] = vlen;
        }
    free(key);
}

/* The root member i parsed, or NULL when absent or not JSON. */
static const cJSON *root_member(cut_plan_t *r, int i)
{
    return r->root.v[i] ? json_arena_parse(&r->arena, r->root.v[i], r->root.len[i]) : NULL;
}

/* One task: its key checked; parsed and read only when it is the job's. */
static void on_task(const char *k, size_t klen, const char *v, size_t vlen, void *user)
{
    cut_plan_t *r = user;
    plan_t *p = r->p;
    r->n_tasks++;
    char *key = decoded_key(r, k, klen);
    long node;
    if (!job_index(key, p->parallelism, &node)) {
        char *shown = text_excerpt(key, strlen(key), 40);
        strlist_push_owned(&p->rejected, xasprintf("task '%s' is not a job index below %ld", shown,
                                                   p->parallelism));
        free(shown);
    } else if (r->job == PLAN_JSON_ALL_JOBS || node == r->job) {
        const cJSON *task = json_arena_parse(&r->arena, v, vlen);
        if (task)
            add_task_tests(p, &p->tasks[node], cJSON_GetObjectItemCaseSensitive(task, "tests"),
                           r->prefix, &r->guard, &r->bad_estimates);
        else
            r->broken = true;
    }
    free(key);
}

/* Test Engine's basis for its estimates (plan --explain): the root's
 * timing_metadata and known_timings_ratio, the only root members it reads. */
static void read_timing_basis(cut_plan_t *r)
{
    cJSON *basis = cJSON_CreateObject();
    const cJSON *meta = root_member(r, KEY_TIMING_METADATA);
    const cJSON *ratio = root_member(r, KEY_KNOWN_TIMINGS_RATIO);
    if (meta) cJSON_AddItemToObject(basis, "timing_metadata", cJSON_Duplicate(meta, true));
    if (ratio) cJSON_AddItemToObject(basis, "known_timings_ratio", cJSON_Duplicate(ratio, true));
    plan_estimates_read_server(r->p->estimates, basis);
    cJSON_Delete(basis);
}

/* The plan read into r->p; false with *err (the fallback's reason). */
static bool read_plan(cut_plan_t *r, const char *body, char **err)
{
    const char *start = body;
    while (jsoncut_is_space(*start)) start++;
    const char *end = *start == '{' ? jsoncut_value_end(start, start + strlen(start)) : NULL;
    if (!end || !jsoncut_each_member(start, (size_t)(end - start), on_root_member, r))
        return err_set(err, "Invalid Plan: the plan API answered with something that is not a JSON "
                            "object");
    const cJSON *ident = root_member(r, KEY_IDENTIFIER);
    if (cJSON_IsString(ident) && *ident->valuestring) {
        free(r->p->identifier);
        r->p->identifier = xstrdup(ident->valuestring);
    }
    const char *tasks = r->root.v[KEY_TASKS];
    bool walked =
        tasks && *tasks == '{' && jsoncut_each_member(tasks, r->root.len[KEY_TASKS], on_task, r);
    if (tasks && *tasks == '{' && (!walked || r->broken))
        return err_set(err, "Invalid Plan: the plan API answered with tasks that are not JSON");
    if (!walked || r->n_tasks == 0)
        return err_set(err, "Error Plan: the Test Engine API answered with a plan that has no "
                            "tasks");
    parse_muted(r->p, root_member(r, KEY_MUTED));
    add_skipped(r->p, root_member(r, KEY_SKIPPED));
    if (r->p->estimates) read_timing_basis(r);
    return true;
}

bool plan_json_parse(plan_t *p, const char *body, const char *location_prefix, long job,
                     warn_fn warn, void *warn_user, char **err)
{
    char *clean = neutralise_nul_escapes(body);
    cut_plan_t r = {.p = p, .prefix = location_prefix, .job = job};
    selector_guard_init(&r.guard);
    bool ok = read_plan(&r, clean ? clean : body, err);
    if (ok) warn_bad_estimates(r.bad_estimates, warn, warn_user);
    selector_guard_free(&r.guard);
    json_arena_free(&r.arena);
    free(clean);
    return ok;
}
