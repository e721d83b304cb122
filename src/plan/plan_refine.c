/* plan_refine: this job's share of the split files, made exact by pytest.
 *
 * plan_fallback.c splits slow files by the tests the durations file knows,
 * without asking pytest, so every job computes the same plan. Only pytest
 * knows two things: which of those tests were renamed or removed since the
 * durations were recorded (pytest stops with "not found" when given such a
 * node id), and which tests were added since (no job was given them). So a
 * job that holds tests of a split file, or its rest, collects those files
 * (pytest --collect-only through the test command's launcher, collect_only.h) and
 *   - drops its node ids that pytest no longer collects: nothing to run;
 *   - as the rest job, replaces the whole file by every collected test no
 *     other job was given: its own known tests and the new ones, once each.
 * This uses only this job's own collection and the shared plan, so jobs
 * never have to agree on what pytest collected.
 *
 * When collection cannot tell (pytest does not start here, a file yields no
 * ids, a collected id cannot be passed to pytest), nothing is lost: the rest
 * job runs the whole file (the tests given to other jobs then run twice, and
 * it says so) and node ids stay. A file pytest cannot import is left in the
 * slice, for the run phase to report as the collection error it is. */
#include "plan/plan_refine.h"
#include "base/buf.h"
#include "plan/collect_only.h"
#include "base/log.h"
#include "pytest/selector.h"
#include "base/strset.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
    plan_t *p;
    long job;
    strlist_t files; /* split files this job has a part of */
    collect_only_result_t cr;
    strset_t collected;     /* node ids pytest collected */
    strset_t unknowable;    /* files collection says nothing reliable about */
    strset_t elsewhere;     /* node ids of split files given to other jobs */
    strlist_t *rest_ids;    /* per split: collected ids of the files this job runs the rest of */
    selector_guard_t guard; /* one lstat per file and folder, however many ids */
} refine_t;

/* Up to this many stale node ids are named; the rest are counted. */
#define STALE_SHOWN 5

static size_t split_index(const refine_t *r, const plan_split_t *s)
{
    return (size_t)(s - r->p->splits);
}

/* The split files this job holds tests or the rest of, each once. */
static void involved_files(refine_t *r)
{
    strset_t seen = STRSET_INIT;
    const strlist_t *run = &r->p->tasks[r->job].run;
    for (size_t i = 0; i < run->len; i++) {
        const plan_split_t *s = plan_split_of(r->p, run->items[i]);
        if (s && strset_add(&seen, s->path)) strlist_push(&r->files, s->path);
    }
    strset_free(&seen);
}

/* What pytest collected, indexed for rebuild_run; and the split files'
 * node ids other jobs were given. */
static void index_collection(refine_t *r)
{
    for (size_t i = 0; i < r->cr.whole_files.len; i++)
        strset_add(&r->unknowable, r->cr.whole_files.items[i]);
    for (size_t i = 0; i < r->cr.broken_files.len; i++) {
        char *file = selector_file_part(r->cr.broken_files.items[i]);
        const plan_split_t *s = plan_split_of(r->p, file);
        if (s) strset_add(&r->unknowable, s->path);
        log_warn("split by example: pytest cannot import %s (a collection error); it stays in "
                 "this job's slice and the run reports it",
                 r->cr.broken_files.items[i]);
        free(file);
    }
    for (size_t i = 0; i < r->cr.node_ids.len; i++) {
        const char *id = r->cr.node_ids.items[i];
        strset_add(&r->collected, id);
        const plan_split_t *s = plan_split_of(r->p, id);
        if (s && s->rest_job == r->job) strlist_push(&r->rest_ids[split_index(r, s)], id);
    }
    for (long k = 0; k < r->p->parallelism; k++) {
        const strlist_t *run = &r->p->tasks[k].run;
        for (size_t i = 0; k != r->job && i < run->len; i++)
            if (strstr(run->items[i], "::") && plan_split_of(r->p, run->items[i]))
                strset_add(&r->elsewhere, run->items[i]);
    }
}

/* The rest of split file s as node ids into out; false (out untouched)
 * when the whole file has to run instead. */
static bool rest_as_tests(refine_t *r, const plan_split_t *s, strlist_t *out)
{
    const strlist_t *ids = &r->rest_ids[split_index(r, s)];
    const char *why =
        strset_has(&r->unknowable, s->path) ? "pytest collected no test ids from it" : NULL;
    strlist_t mine = STRLIST_INIT;
    for (size_t i = 0; !why && i < ids->len; i++) {
        if (strset_has(&r->elsewhere, ids->items[i])) continue;
        const char *problem =
            selector_guard_problem(&r->guard, ids->items[i], strlen(ids->items[i]));
        if (problem)
            why = "a collected test id cannot be passed to pytest";
        else
            strlist_push(&mine, ids->items[i]);
    }
    if (why) {
        log_warn("split by example: %s: %s, so this job runs the whole file; its tests given "
                 "to other jobs run twice",
                 s->path, why);
        strlist_free(&mine);
        return false;
    }
    log_info("split by example: %s: this job runs the %zu of its %zu collected tests no other "
             "job was given (tests new since the durations were recorded included)",
             s->path, mine.len, ids->len);
    for (size_t i = 0; i < mine.len; i++) strlist_push(out, mine.items[i]);
    strlist_free(&mine);
    return true;
}

/* This job's list again: rests as node ids where collection allows, stale
 * node ids dropped, sorted. */
static void rebuild_run(refine_t *r)
{
    strlist_t *run = &r->p->tasks[r->job].run;
    strlist_t next = STRLIST_INIT;
    size_t gone = 0;
    for (size_t i = 0; i < run->len; i++) {
        const char *e = run->items[i];
        const plan_split_t *s = plan_split_of(r->p, e);
        bool is_rest = s && strcmp(e, s->path) == 0;
        if (is_rest && rest_as_tests(r, s, &next)) continue;
        bool stale =
            s && !is_rest && !strset_has(&r->unknowable, s->path) && !strset_has(&r->collected, e);
        if (stale) {
            if (gone++ < STALE_SHOWN)
                log_info("split by example: %s is in the durations file but pytest no longer "
                         "collects it; not run",
                         e);
            continue;
        }
        strlist_push(&next, e);
    }
    if (gone > STALE_SHOWN)
        log_info("split by example: ... %zu more tests pytest no longer collects; not run",
                 gone - STALE_SHOWN);
    strlist_sort(&next);
    strlist_free(run);
    *run = next;
}

void plan_refine_job(plan_t *p, long job, const char *test_cmd, bool may_defer)
{
    refine_t r = {.p = p, .job = job};
    involved_files(&r);
    if (r.files.len == 0) {
        strlist_free(&r.files);
        return;
    }
    log_info("split by example: asking pytest which tests %zu split file%s hold%s", r.files.len,
             r.files.len == 1 ? "" : "s", r.files.len == 1 ? "s" : "");
    collect_only_examples(test_cmd, &r.files, &r.cr);
    if (r.cr.error && may_defer) {
        log_info("split by example: %s; this job's share of the split files is settled when the "
                 "step's command runs, in its environment",
                 r.cr.error);
        p->refine_deferred = true;
        collect_only_result_free(&r.cr);
        strlist_free(&r.files);
        return;
    }
    if (r.cr.error) /* every file is then in whole_files: nothing is dropped, the rest runs whole */
        log_warn(
            "split by example: %s; this job's tests of split files are not checked against pytest",
            r.cr.error);
    r.rest_ids = xcalloc(p->n_splits, sizeof *r.rest_ids);
    index_collection(&r);
    selector_guard_init(&r.guard);
    rebuild_run(&r);
    selector_guard_free(&r.guard);
    for (size_t i = 0; i < p->n_splits; i++) strlist_free(&r.rest_ids[i]);
    free(r.rest_ids);
    strset_free(&r.collected);
    strset_free(&r.unknowable);
    strset_free(&r.elsewhere);
    collect_only_result_free(&r.cr);
    strlist_free(&r.files);
}

void plan_refine_slice(strlist_t *tests, long job, long parallelism, const plan_split_t *splits,
                       size_t n_splits, const strlist_t *elsewhere, const char *test_cmd)
{
    /* The plan as far as refining this job needs it: its own list, the
     * splits, and the other jobs' node ids of those splits (on any other job). */
    plan_t p;
    plan_init(&p, parallelism);
    for (size_t i = 0; i < tests->len; i++) strlist_push(&p.tasks[job].run, tests->items[i]);
    long other = (job + 1) % parallelism;
    for (size_t i = 0; other != job && i < elsewhere->len; i++)
        strlist_push(&p.tasks[other].run, elsewhere->items[i]);
    p.splits = xcalloc(n_splits ? n_splits : 1, sizeof *p.splits);
    for (size_t i = 0; i < n_splits; i++) {
        p.splits[i] = splits[i];
        p.splits[i].path = xstrdup(splits[i].path);
    }
    p.n_splits = n_splits;
    plan_refine_job(&p, job, test_cmd, false);
    strlist_free(tests);
    *tests = p.tasks[job].run;
    p.tasks[job].run = STRLIST_INIT;
    plan_free(&p);
}
