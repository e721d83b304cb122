#include "json_get.h"
#include "plan.h"
#include "buf.h"
#include "log.h"
#include "selector.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void plan_init(plan_t *p, long parallelism)
{
    memset(p, 0, sizeof *p);
    p->parallelism = parallelism;
    p->tasks = xcalloc((size_t)parallelism, sizeof(plan_task_t));
    for (long i = 0; i < parallelism; i++) {
        strlist_init(&p->tasks[i].run);
        p->tasks[i].estimated_s = -1;
    }
    strlist_init(&p->skipped);
    strlist_init(&p->rejected);
    p->reason = xstrdup("");
    p->identifier = xstrdup("");
}

void plan_free(plan_t *p)
{
    for (long i = 0; i < p->parallelism; i++) strlist_free(&p->tasks[i].run);
    free(p->tasks);
    for (size_t i = 0; i < p->n_muted; i++) {
        free(p->muted[i].scope);
        free(p->muted[i].name);
    }
    free(p->muted);
    strlist_free(&p->skipped);
    strlist_free(&p->rejected);
    for (size_t i = 0; i < p->n_splits; i++) free(p->splits[i].path);
    free(p->splits);
    free(p->reason);
    free(p->identifier);
    memset(p, 0, sizeof *p);
}

const char *plan_source_name(plan_source_t s)
{
    switch (s) {
    case PLAN_SERVER_CACHED: return "server (cached plan)";
    case PLAN_SERVER_CREATED: return "server (new plan)";
    case PLAN_FALLBACK: return "fallback";
    case PLAN_RETRY_SELECTORS: return "retry selectors";
    }
    return "?";
}

/* The server's estimate in milliseconds as seconds, or -1 when it is not a
 * plausible duration (cJSON turns 1e999 into infinity). */
static double estimate_seconds(const cJSON *est)
{
    if (!cJSON_IsNumber(est)) return -1;
    double s = est->valuedouble / 1000.0;
    return isfinite(s) && s >= 0 && s <= DURATIONS_FILE_MAX_S ? s : -1;
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
            char *text =
                text_excerpt(run, strlen(run), 200); /* hostile or broken: one short line */
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
    for (size_t i = 0; i < p->n_muted; i++) free(p->muted[i].scope), free(p->muted[i].name);
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

bool plan_parse_server(plan_t *p, const char *body, const char *location_prefix, bool *empty,
                       char **err)
{
    *empty = false;
    char *clean = neutralise_nul_escapes(body);
    cJSON *root = cJSON_Parse(clean);
    free(clean);
    if (!cJSON_IsObject(root)) {
        *err = xstrdup("the plan API answered with something that is not a JSON object");
        cJSON_Delete(root);
        return false;
    }
    const char *ident = json_get_str(root, "identifier");
    if (*ident) {
        free(p->identifier);
        p->identifier = xstrdup(ident);
    }
    const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(root, "tasks");
    if (!cJSON_IsObject(tasks) || cJSON_GetArraySize(tasks) == 0) {
        *empty = true;
        cJSON_Delete(root);
        return true;
    }
    const cJSON *task;
    size_t bad_estimates = 0;
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
                       location_prefix, &bad_estimates);
    }
    if (bad_estimates)
        log_warn("the plan had %zu estimated_duration value%s that %s not a plausible number of "
                 "milliseconds; ignored",
                 bad_estimates, bad_estimates == 1 ? "" : "s", bad_estimates == 1 ? "is" : "are");
    parse_muted(p, cJSON_GetObjectItemCaseSensitive(root, "muted_tests"));
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(root, "skipped_tests"))
    {
        strlist_push_owned(&p->skipped,
                           xasprintf("%s %s", json_get_str(t, "scope"), json_get_str(t, "name")));
    }
    cJSON_Delete(root);
    return true;
}

static void print_bound(double makespan, double bound, const char *what, const char *longest)
{
    if (bound > 0 && isfinite(makespan / bound))
        log_info("  makespan %.1fs against the %s bound %.1fs (max of total/jobs and the longest "
                 "%s): ratio %.3f",
                 makespan, what, bound, longest, makespan / bound);
}

/* Up to this many split files are named; the rest are counted. */
#define SPLITS_SHOWN 10

static void print_splits(const plan_t *p)
{
    for (size_t i = 0; i < p->n_splits && i < SPLITS_SHOWN; i++) {
        const plan_split_t *s = &p->splits[i];
        log_info("  split %s (%.1fs) into %zu known test%s; job %ld runs the rest of it", s->path,
                 s->seconds, s->n_tests, s->n_tests == 1 ? "" : "s", s->rest_job + 1);
    }
    if (p->n_splits > SPLITS_SHOWN)
        log_info("  ... and %zu more files split by test", p->n_splits - SPLITS_SHOWN);
}

void plan_print_loads(const plan_t *p)
{
    double makespan = 0;
    bool timed = false;
    for (long j = 0; j < p->parallelism; j++) {
        const plan_task_t *t = &p->tasks[j];
        if (t->estimated_s >= 0) {
            timed = true;
            if (t->estimated_s > makespan) makespan = t->estimated_s;
            log_info("  job %ld: %zu entr%s, estimated %.1fs", j + 1, t->run.len,
                     t->run.len == 1 ? "y" : "ies", t->estimated_s);
        } else {
            log_info("  job %ld: %zu entr%s", j + 1, t->run.len, t->run.len == 1 ? "y" : "ies");
        }
    }
    if (!timed) return;
    print_splits(p);
    print_bound(makespan, p->lower_bound_s, "file-level", "file");
    print_bound(makespan, p->test_bound_s, "test-level", "test");
}
