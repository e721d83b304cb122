/* run_attempt: one attempt of the run phase, from selectors to results read.
 *
 * Attempt k runs the selectors it is given with the test command (k == 0) or
 * the retry command, writes results/attempt-<k>.json|xml and reads it into the
 * run's model. A selector list too long for one command line (run_argsplit)
 * runs as several pytest invocations, one result file each
 * (attempt-<k>.part-<j>), merged into the attempt's file; their exit codes
 * combine as one pytest run's would, and a part that ends the run (a
 * collection error that stopped pytest, a usage or internal error, a signal,
 * the timeout) starts no further part. BUILDKITE_TEST_ENGINE_TIMEOUT bounds
 * the attempt as a whole. Each part is one run_part. What went wrong is
 * logged and noted in the findings, for the run phase's verdict. */
#ifndef TEP_RUN_ATTEMPT_H
#define TEP_RUN_ATTEMPT_H
#include "run/run_state.h"
#include "base/strlist.h"

/* Runs attempt k over `selectors` and records it in rec->attempts (which
 * has room for it) and found->outcome. */
void run_attempt_run(const run_context_t *ctx, int k, const strlist_t *selectors, run_record_t *rec,
                     run_findings_t *found);

#endif
