/* slice.json, the plan phase's hand-over to the run phase: slice_file_read on
 * any bytes in a state folder, slice_file_mismatch against a job, then the
 * writer's round trip. Invariants: a refusal is one line that names the file;
 * a slice read has a job and parallelism in range (-1 when absent), muted
 * entries with both parts, and refine splits with a path and a rest job among
 * the slice's jobs; and what slice_file_write makes of the plan the slice
 * describes reads back as the same slice (its split files: those this job's
 * tests belong to, its "elsewhere": the other jobs' node ids in them). */
#include "base/buf.h"
#include "fuzz_util.h"
#include "model/plan.h"
#include "state/slice_file.h"
#include <stdlib.h>
#include <string.h>

static void check_slice(const slice_t *s)
{
    FUZZ_CHECK(s->suite && s->source && s->reason && s->identifier);
    FUZZ_CHECK(s->job >= -1 && s->job <= 1000000);
    FUZZ_CHECK(s->parallelism >= -1 && s->parallelism <= 1000000);
    for (size_t i = 0; i < s->n_muted; i++) FUZZ_CHECK(s->muted[i].scope && s->muted[i].name);
    FUZZ_CHECK(s->refine || (s->n_splits == 0 && s->elsewhere.len == 0));
    for (size_t i = 0; i < s->n_splits; i++) {
        FUZZ_CHECK(s->splits[i].path && *s->splits[i].path);
        FUZZ_CHECK(s->splits[i].rest_job >= 0 &&
                   s->splits[i].rest_job < (s->parallelism > 0 ? s->parallelism : 1));
    }
}

static bool same_list(const strlist_t *a, const strlist_t *b)
{
    if (a->len != b->len) return false;
    for (size_t i = 0; i < a->len; i++)
        if (strcmp(a->items[i], b->items[i]) != 0) return false;
    return true;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const plan_split_t *)a)->path, ((const plan_split_t *)b)->path);
}

static plan_source_t source_of(const char *name, bool *known)
{
    for (int k = PLAN_SERVER_CACHED; k <= PLAN_RETRY_SELECTORS; k++)
        if (strcmp(plan_source_name((plan_source_t)k), name) == 0) {
            *known = true;
            return (plan_source_t)k;
        }
    *known = false;
    return PLAN_FALLBACK;
}

/* The plan a slice describes: its tests on its job, the rest on the next. */
static void plan_of_slice(const slice_t *s, plan_t *p)
{
    plan_init(p, s->parallelism);
    free(p->reason);
    p->reason = strdup(s->reason);
    for (size_t i = 0; i < s->tests.len; i++)
        strlist_push(&p->tasks[s->job].run, s->tests.items[i]);
    for (size_t i = 0; i < s->skipped.len; i++) strlist_push(&p->skipped, s->skipped.items[i]);
    p->muted = calloc(s->n_muted + 1, sizeof *p->muted);
    for (size_t i = 0; i < s->n_muted; i++) {
        p->muted[i].scope = strdup(s->muted[i].scope);
        p->muted[i].name = strdup(s->muted[i].name);
    }
    p->n_muted = s->n_muted;
    p->refine_deferred = s->refine;
    p->splits = calloc(s->n_splits + 1, sizeof *p->splits);
    for (size_t i = 0; i < s->n_splits; i++) {
        p->splits[i] = s->splits[i];
        p->splits[i].path = strdup(s->splits[i].path);
    }
    p->n_splits = s->n_splits;
    qsort(p->splits, p->n_splits, sizeof *p->splits, by_path);
    long other = (s->job + 1) % s->parallelism;
    for (size_t i = 0; other != s->job && i < s->elsewhere.len; i++)
        strlist_push(&p->tasks[other].run, s->elsewhere.items[i]);
}

static void check_refine(const plan_t *p, const slice_t *s, const slice_t *again)
{
    FUZZ_CHECK(again->refine == s->refine);
    /* The split files this job's tests belong to, in the plan's order. */
    size_t n = 0;
    for (size_t i = 0; i < p->n_splits; i++) {
        const plan_split_t *sp = &p->splits[i];
        bool involved = false;
        for (size_t k = 0; !involved && k < s->tests.len; k++)
            involved = plan_split_of(p, s->tests.items[k]) == sp;
        if (!involved) continue;
        FUZZ_CHECK(n < again->n_splits);
        FUZZ_CHECK(strcmp(again->splits[n].path, sp->path) == 0);
        FUZZ_CHECK(again->splits[n].rest_job == sp->rest_job);
        n++;
    }
    FUZZ_CHECK(n == again->n_splits);
    size_t k = 0;
    for (size_t i = 0; s->parallelism > 1 && i < s->elsewhere.len; i++) {
        const char *id = s->elsewhere.items[i];
        if (!strstr(id, "::") || !plan_split_of(p, id)) continue;
        FUZZ_CHECK(k < again->elsewhere.len && strcmp(again->elsewhere.items[k], id) == 0);
        k++;
    }
    FUZZ_CHECK(k == again->elsewhere.len);
}

static void round_trip(config_t *cfg, const slice_t *s, const char *path)
{
    plan_t p;
    plan_of_slice(s, &p);
    bool known;
    p.source = source_of(s->source, &known);
    cfg->suite_slug = s->suite;
    cfg->identifier = s->identifier;
    cfg->parallel_job = s->job;
    cfg->parallel_job_count = s->parallelism;
    char *err = NULL;
    FUZZ_CHECK(slice_file_write(cfg, &p, &err));
    slice_t *again = NULL;
    FUZZ_CHECK(slice_file_read(cfg, &again, &err) && again != NULL);
    FUZZ_CHECK(strcmp(again->suite, s->suite) == 0 && strcmp(again->reason, s->reason) == 0);
    FUZZ_CHECK(strcmp(again->identifier, s->identifier) == 0);
    FUZZ_CHECK(again->job == s->job && again->parallelism == s->parallelism);
    FUZZ_CHECK(!known || (strcmp(again->source, s->source) == 0));
    FUZZ_CHECK(again->from_server ==
               (p.source == PLAN_SERVER_CACHED || p.source == PLAN_SERVER_CREATED));
    FUZZ_CHECK(same_list(&again->tests, &s->tests) && same_list(&again->skipped, &s->skipped));
    FUZZ_CHECK(again->n_muted == s->n_muted);
    for (size_t i = 0; i < s->n_muted; i++)
        FUZZ_CHECK(strcmp(again->muted[i].scope, s->muted[i].scope) == 0 &&
                   strcmp(again->muted[i].name, s->muted[i].name) == 0);
    check_refine(&p, s, again);
    char *why = slice_file_mismatch(cfg, again);
    FUZZ_CHECK(why == NULL); /* made for this job: taken */
    slice_file_free(again);
    plan_free(&p);
    (void)path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.state_dir = (char *)fuzz_dir();
    char *path = strdup(fuzz_dir_file("slice.json", data, size));
    slice_t *s = NULL;
    char *err = NULL;
    if (!slice_file_read(&cfg, &s, &err)) {
        FUZZ_CHECK(s == NULL && fuzz_one_line(err) && strstr(err, path) != NULL);
        free(err);
        free(path);
        return 0;
    }
    FUZZ_CHECK(s != NULL && err == NULL);
    check_slice(s);
    /* Another job's slice is never taken, and why is said in one line. */
    cfg.suite_slug = "suite";
    cfg.identifier = "build/step";
    cfg.parallel_job = 1;
    cfg.parallel_job_count = 3;
    char *why = slice_file_mismatch(&cfg, s);
    bool same = strcmp(s->identifier, "build/step") == 0 && strcmp(s->suite, "suite") == 0 &&
                s->job == 1 && s->parallelism == 3;
    FUZZ_CHECK(same == (why == NULL));
    free(why);
    /* The round trip, for a slice a run would take (its job among its jobs). */
    if (s->parallelism >= 1 && s->parallelism <= 64 && s->job >= 0 && s->job < s->parallelism)
        round_trip(&cfg, s, path);
    slice_file_free(s);
    free(path);
    return 0;
}
