#include "model/plan.h"
#include "base/buf.h"
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
        p->tasks[i].samples = -1;
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
    plan_estimates_delete(p->estimates);
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

const plan_split_t *plan_split_of(const plan_t *p, const char *entry)
{
    size_t n = strstr(entry, "::") ? (size_t)(strstr(entry, "::") - entry) : strlen(entry);
    size_t lo = 0, hi = p->n_splits; /* splits are made in the entries' sorted order */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *path = p->splits[mid].path;
        int c = strncmp(path, entry, n);
        if (c == 0 && path[n] != '\0') c = 1;
        if (c == 0) return &p->splits[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
