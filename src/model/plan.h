/* plan: the plan model, which tests each parallel job runs.
 *
 * A plan comes from the Test Engine server (cached or freshly created, read
 * by plan_json.h), from the local fallback (plan_fallback.h: identical on
 * every job, longest-processing-time first when durations are known, else
 * bktec's byte-sorted round-robin), or, on a Buildkite job retry, from the
 * previous attempt's retry selectors. Every entry from outside this process
 * is validated (selector.h) before use. This module only holds the plan: it
 * never prints (plan_summary.h shows one). */
#ifndef TEP_PLAN_H
#define TEP_PLAN_H
#include <stdbool.h>
#include <stddef.h>
#include "model/plan_estimate.h"
#include "base/strlist.h"

typedef enum {
    PLAN_SERVER_CACHED,
    PLAN_SERVER_CREATED,
    PLAN_FALLBACK,
    PLAN_RETRY_SELECTORS,
} plan_source_t;

typedef struct {
    char *scope;
    char *name;
} plan_test_ref_t;

typedef struct {
    strlist_t run;      /* what pytest gets: paths or node ids */
    double estimated_s; /* estimated load, -1 unknown */
    /* Test Engine's basis for it: timing_sample_size summed over the entries
     * (-1 when it gave none), and how many entries had history (samples > 0). */
    long samples;
    size_t n_history;
} plan_task_t;

/* A slow file the fallback split into its known tests (node ids). The rest
 * job runs the file whole less the tests other jobs got: plan_refine.c makes
 * that exact with pytest's collection, so tests added since the durations
 * were recorded run there, once. */
typedef struct {
    char *path;
    double seconds; /* its known time */
    size_t n_tests; /* known tests handed out as node ids */
    long rest_job;  /* runs the file less the tests other jobs got */
} plan_split_t;

typedef struct {
    plan_source_t source;
    char *reason; /* why fallback / notes */
    char *identifier;
    long parallelism;
    plan_task_t *tasks; /* parallelism entries */
    plan_test_ref_t *muted;
    size_t n_muted;
    strlist_t skipped;    /* "scope name" lines, informational */
    strlist_t rejected;   /* refused entries with the reason, for the summary */
    double lower_bound_s; /* fallback with durations: max(total/jobs, longest file) */
    double test_bound_s;  /* ... and max(total/jobs, longest test) */
    plan_split_t *splits; /* fallback: split files, sorted by path */
    size_t n_splits;
    bool refine_deferred; /* pytest could not collect here: the run phase refines the slice */
    plan_estimates_t *estimates; /* plan --explain only: each entry's estimate and origin */
} plan_t;

void plan_init(plan_t *p, long parallelism);
void plan_free(plan_t *p);
const char *plan_source_name(plan_source_t s);

/* The split file an entry (a path or node id) belongs to, or NULL (none is
 * not an error). p->splits must be sorted by path, as the fallback makes them. */
const plan_split_t *plan_split_of(const plan_t *p, const char *entry);

#endif
