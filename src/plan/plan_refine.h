/* plan_refine: this job's part of the fallback's split files, checked
 * against pytest's own collection (see plan_refine.c): node ids pytest no
 * longer collects are dropped, and the job that runs a split file's rest runs
 * exactly the collected tests no other job was given, new ones included. */
#ifndef TEP_PLAN_REFINE_H
#define TEP_PLAN_REFINE_H
#include "model/plan.h"

/* Rewrites p->tasks[job].run; test_cmd's launcher runs the collection.
 * With may_defer, when pytest cannot be asked here at all (the plan phase
 * runs before the step's command, so an interpreter that only its setup
 * provides, `. .venv/bin/activate && ...`, is not there yet), the list is
 * left as it is and p->refine_deferred set: the run phase, in the step's
 * environment, refines the slice instead (plan_refine_slice). Without
 * may_defer, the rest runs whole (its tests given to other jobs run twice,
 * and it says so). */
void plan_refine_job(plan_t *p, long job, const char *test_cmd, bool may_defer);
/* The run phase's half of a deferred refinement: `tests` (this job's slice)
 * rewritten from pytest's collection, with `splits` and `elsewhere` (node ids
 * of those splits other jobs run) as the plan phase saved them. */
void plan_refine_slice(strlist_t *tests, long job, long parallelism, const plan_split_t *splits,
                       size_t n_splits, const strlist_t *elsewhere, const char *test_cmd);

#endif
