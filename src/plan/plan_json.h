/* plan_json: a plan as Test Engine's plan API sends it (JSON), read into the
 * plan model (plan.h).
 *
 * Tasks are keyed by job index; each test is a file path (which carries the
 * location prefix, stripped here) or a selector. Every entry passes the
 * selector guard (selector.h) or lands in p->rejected with the reason, never
 * in a task: the body comes from the network.
 *
 * Only `job`'s task is read: the other jobs' tasks are cut out of the body
 * (jsoncut.h finds where each ends) and neither parsed nor checked, as this
 * process never runs them and each job checks its own. A plan of 100,000
 * files once cost 300,000 path lookups and a tree of 900,000 cJSON nodes on
 * a job that keeps 6,250 entries. The body must still be one JSON object
 * whose tasks are an object, and this job's task valid JSON (the other parts
 * read, identifier, muted and skipped tests, are ignored when they are not).
 * Muted and skipped tests are
 * kept for the summary. This module never prints: estimates that are not a
 * plausible duration are counted and reported in one line to `warn`. */
#ifndef TEP_PLAN_JSON_H
#define TEP_PLAN_JSON_H
#include <stdbool.h>
#include "base/err.h"
#include "model/plan.h"

/* Reads a plan answer body into p (identifier, job's task, muted, skipped);
 * job is a job index, or PLAN_JSON_ALL_JOBS to read every task (a tool that
 * shows the whole plan). Other task keys are still checked: one that is not a
 * job index below p->parallelism lands in p->rejected.
 * false with *err when the body gives no plan to run: "Invalid Plan: ..."
 * when it is not a JSON object, "Error Plan: ..." when it has no tasks; the
 * message is the fallback's reason as the job log and annotation show it.
 * warn (may be NULL) hears at most one line. */
#define PLAN_JSON_ALL_JOBS (-1L)
bool plan_json_parse(plan_t *p, const char *body, const char *location_prefix, long job,
                     warn_fn warn, void *warn_user, char **err);

#endif
