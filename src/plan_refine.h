/* plan_refine: this job's part of the fallback's split files, checked
 * against pytest's own collection (see plan_refine.c): node ids pytest no
 * longer collects are dropped, and the job that runs a split file's rest runs
 * exactly the collected tests no other job was given, new ones included. */
#ifndef TEP_PLAN_REFINE_H
#define TEP_PLAN_REFINE_H
#include "plan.h"

/* Rewrites p->tasks[job].run; test_cmd's launcher runs the collection. */
void plan_refine_job(plan_t *p, long job, const char *test_cmd);

#endif
