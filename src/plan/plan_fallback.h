/* plan_fallback: the local plan, computed the same way on every job.
 *
 * Without durations it is bktec's byte-sorted round-robin. With durations it
 * is longest-processing-time first: entries by descending seconds (ties by
 * name, so every job sorts alike) onto the least-loaded job (ties to the
 * lowest index, from a heap). An entry without a known duration counts as
 * the mean of the known ones: a neutral guess that neither piles them on one
 * job nor ignores them.
 *
 * Whole files cannot do better than max(total/jobs, longest file), and one
 * slow file can hold the whole build back. So, like Test Engine's split by
 * example, a file whose known time exceeds the target load (total/jobs) and
 * whose tests the durations file knows is split into those tests (node ids),
 * and the makespan approaches max(total/jobs, longest test).
 *
 * No test of a split file may be lost, including tests added since the
 * durations were recorded. So the file itself is one more entry, its "rest",
 * weighted with the file's time no known test accounts for; the job that gets
 * it runs the whole file, less the tests given to other jobs (its own known
 * tests are covered by the file and leave its list). plan_refine.c turns that
 * whole file into exactly those tests from pytest's own collection, on that
 * job alone; nothing here depends on collection, so every job agrees.
 *
 * A pure computation: it reads nothing, asks nothing and prints nothing
 * (plan_summary.h shows the loads and splits). */
#ifndef TEP_PLAN_FALLBACK_H
#define TEP_PLAN_FALLBACK_H
#include "model/durations.h"
#include "model/plan.h"
#include "base/strlist.h"

/* Fills p's tasks (p from plan_init with the job count) from `files` (paths,
 * or node ids under a tag filter; order and duplicates do not matter) and
 * `known` (may be NULL: round-robin). Sets p->source to PLAN_FALLBACK, and
 * with durations each task's estimate, the two bounds and p->splits (sorted
 * by path). Cannot fail. */
void plan_fallback(plan_t *p, const strlist_t *files, const durations_t *known);

#endif
