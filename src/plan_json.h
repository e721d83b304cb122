/* plan_json: a plan as Test Engine's plan API sends it (JSON), read into the
 * plan model (plan.h).
 *
 * Tasks are keyed by job index; each test is a file path (which carries the
 * location prefix, stripped here) or a selector. Every entry passes the
 * selector guard (selector.h) or lands in p->rejected with the reason, never
 * in a task: the body comes from the network. Only `job`'s entries (the ones
 * this process gives pytest) are checked against the file system; the other
 * jobs' entries get the grammar alone: they are counted and shown, never run
 * here, and each job checks its own (a plan of 100,000 files once cost
 * 300,000 path lookups on a job that keeps 6,250 of them). Muted and skipped tests are
 * kept for the summary. This module never prints: estimates that are not a
 * plausible duration are counted and reported in one line to `warn`. */
#ifndef TEP_PLAN_JSON_H
#define TEP_PLAN_JSON_H
#include <stdbool.h>
#include "err.h"
#include "plan.h"

/* Reads a plan answer body into p (tasks, identifier, muted, skipped); job
 * is the index whose entries are checked in full, or PLAN_JSON_ALL_JOBS.
 * false with *err when the body gives no plan to run: "Invalid Plan: ..."
 * when it is not a JSON object, "Error Plan: ..." when it has no tasks; the
 * message is the fallback's reason as the job log and annotation show it.
 * warn (may be NULL) hears at most one line. */
#define PLAN_JSON_ALL_JOBS (-1L)
bool plan_json_parse(plan_t *p, const char *body, const char *location_prefix, long job,
                     warn_fn warn, void *warn_user, char **err);

#endif
