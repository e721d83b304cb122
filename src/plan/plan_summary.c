#include "plan/plan_summary.h"
#include "base/log.h"
#include <math.h>
#include <stdbool.h>

/* Up to this many of the job's entries are listed; slice.json has them all. */
#define ENTRIES_SHOWN 100

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

void plan_summary_print_loads(const plan_t *p)
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

/* Test Engine's estimate for this job and what it rests on, when it gave them. */
static void print_server_estimate(const plan_task_t *t)
{
    if (t->estimated_s < 0) return;
    if (t->samples < 0) {
        log_info("Test Engine estimates this job at %.1fs", t->estimated_s);
        return;
    }
    size_t n = t->run.len, defaults = n > t->n_history ? n - t->n_history : 0;
    log_info("Test Engine estimates this job at %.1fs from %ld timing sample%s: %zu of its %zu "
             "entr%s %s history%s",
             t->estimated_s, t->samples, t->samples == 1 ? "" : "s", t->n_history, n,
             n == 1 ? "y" : "ies", t->n_history == 1 ? "has" : "have",
             defaults ? ", the others are at its default" : "");
}

void plan_summary_print(const config_t *cfg, const plan_t *p, size_t n_files)
{
    const strlist_t *mine = &p->tasks[cfg->parallel_job].run;
    log_section("plan for job %ld of %ld", cfg->parallel_job + 1, cfg->parallel_job_count);
    log_info("Plan source: %s%s%s", plan_source_name(p->source), *p->reason ? " - " : "",
             p->reason);
    log_info("Plan identifier: %s", cfg->identifier);
    if (n_files == PLAN_SUMMARY_NOT_DISCOVERED)
        log_info("Files discovered: none needed (the plan names them); entries on this job: %zu",
                 mine->len);
    else
        log_info("Files discovered: %zu; entries on this job: %zu", n_files, mine->len);
    if (p->source == PLAN_FALLBACK) plan_summary_print_loads(p);
    if (p->source == PLAN_SERVER_CACHED || p->source == PLAN_SERVER_CREATED)
        print_server_estimate(&p->tasks[cfg->parallel_job]);
    size_t shown = mine->len < ENTRIES_SHOWN ? mine->len : ENTRIES_SHOWN;
    for (size_t i = 0; i < shown; i++) log_info("  %s", mine->items[i]);
    if (shown < mine->len)
        log_info("  ... and %zu more (all are in %s/slice.json)", mine->len - shown,
                 cfg->state_dir);
    if (p->n_muted) log_info("Muted tests known to Test Engine: %zu", p->n_muted);
    for (size_t i = 0; i < p->skipped.len; i++)
        log_info("Skipped by Test Engine: %s", p->skipped.items[i]);
}
