/* plan_json: a plan as Test Engine's plan API sends it (JSON), read into the
 * plan model (plan.h).
 *
 * Tasks are keyed by job index; each test is a file path (which carries the
 * location prefix, stripped here) or a selector. Every entry passes the
 * selector guard (selector.h) or lands in p->rejected with the reason, never
 * in a task: the body comes from the network. Muted and skipped tests are
 * kept for the summary. This module never prints: estimates that are not a
 * plausible duration are counted and reported in one line to `warn`. */
#ifndef TEP_PLAN_JSON_H
#define TEP_PLAN_JSON_H
#include <stdbool.h>
#include "err.h"
#include "plan.h"

/* Reads a plan answer body into p (tasks, identifier, muted, skipped).
 * false with *err when the body gives no plan to run: "Invalid Plan: ..."
 * when it is not a JSON object, "Error Plan: ..." when it has no tasks; the
 * message is the fallback's reason as the job log and annotation show it.
 * warn (may be NULL) hears at most one line. */
bool plan_json_parse(plan_t *p, const char *body, const char *location_prefix, warn_fn warn,
                     void *warn_user, char **err);

#endif
