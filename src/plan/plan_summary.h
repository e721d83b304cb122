/* plan_summary: the plan phase's readable account of a plan in the job log.
 *
 * A section header naming this job, where the plan came from and why, the
 * entries this job runs (the first 100; slice.json has them all), and, for
 * the local fallback, each job's load against the lower bounds it could
 * reach and the files it split by test. All on stdout via log.h; the plan
 * itself (plan.h) never prints. */
#ifndef TEP_PLAN_SUMMARY_H
#define TEP_PLAN_SUMMARY_H
#include <stddef.h>
#include "config/config.h"
#include "model/plan.h"

/* The summary of this job's slice; n_files: how many entries were planned,
 * or PLAN_SUMMARY_NOT_DISCOVERED when the plan needed no discovery (a cached
 * plan, a job retry's selectors). */
#define PLAN_SUMMARY_NOT_DISCOVERED ((size_t)-1)
void plan_summary_print(const config_t *cfg, const plan_t *p, size_t n_files);
/* Each job's load and, for LPT, the makespan against the file-level and the
 * test-level bound, and the files split by test. */
void plan_summary_print_loads(const plan_t *p);

#endif
