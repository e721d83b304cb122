/* run_phase: the run phase from this job's slice to an exit status.
 *
 * Attempt 0 runs the slice with the test command; each retry runs only the
 * tests still failing (node ids) with the retry command, up to
 * BUILDKITE_TEST_ENGINE_RETRY_COUNT times. Every attempt writes its own result
 * file (results/attempt-<k>.json|xml), so nothing is stale and report can
 * upload them all. A terminal outcome stops retrying at once.
 *
 * One attempt is run_attempt (several pytest invocations when its entries do
 * not fit on one command line), one invocation is run_part; what they learn
 * is passed to them (run_state.h: what they read, what they find, and the
 * record they fill in). This file decides between attempts
 * and at the end: the exit status (run_classify), the summary (run_summary),
 * run.json (run_record).
 *
 * With BUILDKITE_TEST_ENGINE_RESULT_PATH set, the merged result of all
 * attempts (each test's final outcome, in the mode's format) is written there
 * atomically after the last attempt. */
#ifndef TEP_RUN_PHASE_H
#define TEP_RUN_PHASE_H
#include "config/config.h"
#include "state/slice_file.h"

int run_phase_run(config_t *cfg, const slice_t *slice);

#endif
