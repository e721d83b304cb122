#include "plan_json.h"
#include "text.h"
#include "buf.h"
#include "durations.h"
#include "json_get.h"
#include "selector.h"
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
                           size_t *bad_estimates)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, tests)
    {
        const char *format = json_get_str(t, "format");
        bool is_selector = strcmp(format, "selector") == 0;
        const char *raw = is_selector ? json_get_str(t, "value") : json_get_str(t, "path");
        /* The server's paths carry the location prefix; pytest needs them without. */
        char *run = xstrdup(is_selector ? raw : selector_strip_prefix(prefix, raw));
        const char *why = selector_problem(run, strlen(run));
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
 * string; make it visible instead by rewriting it to U+FFFF first. */
static char *neutralise_nul_escapes(const char *body)
{
    buf_t b;
    buf_init(&b);
    for (const char *s = body; *s; s++) {
        if (s[0] == '\\' && s[1] == '\\') {
            buf_append(&b, s, 2);
            s++;
            continue;
        }
        if (s[0] == '\\' && s[1] == 'u' && strncmp(s + 2, "0000", 4) == 0) {
            buf_puts(&b, "\\uffff");
            s += 5;
            continue;
        }
        buf_putc(&b, *s);
    }
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

static void add_tasks(plan_t *p, const cJSON *tasks, const char *location_prefix,
                      size_t *bad_estimates)
{
    const cJSON *task;
    cJSON_ArrayForEach(task, tasks)
    {
        long node;
        if (!job_index(task->string, p->parallelism, &node)) {
            char *key = text_excerpt(task->string, strlen(task->string), 40);
            strlist_push_owned(&p->rejected, xasprintf("task '%s' is not a job index below %ld",
                                                       key, p->parallelism));
            free(key);
            continue;
        }
        add_task_tests(p, &p->tasks[node], cJSON_GetObjectItemCaseSensitive(task, "tests"),
                       location_prefix, bad_estimates);
    }
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

bool plan_json_parse(plan_t *p, const char *body, const char *location_prefix, warn_fn warn,
                     void *warn_user, char **err)
{
    char *clean = neutralise_nul_escapes(body);
    cJSON *root = cJSON_Parse(clean);
    free(clean);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return err_set(err, "Invalid Plan: the plan API answered with something that is not a JSON "
                            "object");
    }
    const char *ident = json_get_str(root, "identifier");
    if (*ident) {
        free(p->identifier);
        p->identifier = xstrdup(ident);
    }
    const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(root, "tasks");
    if (!cJSON_IsObject(tasks) || cJSON_GetArraySize(tasks) == 0) {
        cJSON_Delete(root);
        return err_set(err, "Error Plan: the Test Engine API answered with a plan that has no "
                            "tasks");
    }
    size_t bad_estimates = 0;
    add_tasks(p, tasks, location_prefix, &bad_estimates);
    warn_bad_estimates(bad_estimates, warn, warn_user);
    if (p->estimates) plan_estimates_read_server(p->estimates, root);
    parse_muted(p, cJSON_GetObjectItemCaseSensitive(root, "muted_tests"));
    add_skipped(p, cJSON_GetObjectItemCaseSensitive(root, "skipped_tests"));
    cJSON_Delete(root);
    return true;
}
