/* plan_explain: `plan --explain` and `plan --plan-out FILE`: the whole plan, why.
 *
 * Users ask why a split is uneven (bktec #494, #570, #597). This makes the
 * plan exactly as a job would (plan_phase_choose: Test Engine's cached or new
 * plan, else the local fallback) and shows every job's entries with each
 * estimate and where it came from (plan_estimate.h), the entries nothing
 * knows the time of, and the bound no split can beat: max(total / jobs,
 * the longest entry). It writes no slice and runs no test; it runs pytest
 * --collect-only only where a job would (tag filters, Test Engine's split
 * by example), and does not refine the fallback's split files.
 *
 * --plan-out FILE writes the plan as JSON in the shape of Test Engine's
 * answer, the one `bktec plan --plan-out` passes through: "identifier",
 * "parallelism", "tasks" {"<job>": {"node_number", "tests": [{"path",
 * "format", "estimated_duration" (ms), "timing_sample_size"}]}},
 * "muted_tests", "skipped_tests", "timing_metadata". Ours adds, per test,
 * "estimate_source", per task its "estimated_duration" and
 * "timing_sample_size", and first in the object an "explain" member
 * ({"generator": "test-engine-pytest", "version", "source", "reason",
 * "bound", "no_history", ...}). Unlike bktec's, a fallback plan has its
 * tasks filled in: it is the split the jobs will run. FILE is written
 * atomically, and only over a file this tool wrote (the "explain" member
 * opens it); anything else there is refused. */
#ifndef TEP_PLAN_EXPLAIN_H
#define TEP_PLAN_EXPLAIN_H
#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "config/config.h"
#include "base/err.h"
#include "model/plan.h"

#define PLAN_EXPLAIN_VERSION 1

/* `plan --explain` (print) and/or `--plan-out FILE` (plan_out may be NULL).
 * Returns the exit status: 0, or the configuration / terminal status. */
int plan_explain_run(config_t *cfg, bool print, const char *plan_out);

/* The bound a plan cannot beat, from its estimates. */
typedef struct {
    double total_s;      /* every entry's estimate */
    double longest_s;    /* the longest single entry */
    const char *longest; /* which (borrowed from the plan), or NULL */
    double bound_s;      /* max(total / jobs, longest) */
    double makespan_s;   /* the slowest job's estimate */
    size_t estimated;    /* entries with an estimate */
    size_t entries;
} plan_explain_bound_t;

/* Building blocks, exposed for the unit tests. p->estimates must be set. */
void plan_explain_bound(const plan_t *p, plan_explain_bound_t *b);
/* The --plan-out document (caller deletes). */
cJSON *plan_explain_json(const config_t *cfg, const plan_t *p);
/* Writes doc to path atomically; refuses a path that holds anything but a
 * file this tool wrote. false with *err (one line). */
bool plan_explain_write(const char *path, const cJSON *doc, char **err);
/* The explanation in the job log's voice (log.h). */
void plan_explain_print(const config_t *cfg, const plan_t *p, size_t n_entries);

#endif
