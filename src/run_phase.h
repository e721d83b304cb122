/* run_phase: the run phase from this job's slice to an exit status.
 *
 * Attempt 0 runs the slice with the test command; each retry runs only the
 * tests still failing (node ids) with the retry command, up to
 * BUILDKITE_TEST_ENGINE_RETRY_COUNT times. Every attempt writes its own result
 * file (results/attempt-<k>.json|xml), so nothing is stale and report can
 * upload them all. A terminal outcome stops retrying at once.
 *
 * An attempt whose entries do not fit on one command line (run_argsplit) runs as
 * several pytest invocations, each with its own result file
 * (attempt-<k>.part-<j>), merged into the attempt's one file; their exit codes
 * combine as one pytest run's would, and a part that ends the run (a
 * collection error that stopped pytest, a usage or internal error, a signal,
 * the timeout) starts no further part. BUILDKITE_TEST_ENGINE_TIMEOUT bounds
 * each attempt as a whole.
 *
 * With BUILDKITE_TEST_ENGINE_RESULT_PATH set, the merged result of all
 * attempts (each test's final outcome, in the mode's format) is written there
 * atomically after the last attempt. */
#ifndef TEP_RUN_PHASE_H
#define TEP_RUN_PHASE_H
#include "config.h"
#include "slice_file.h"

int run_phase_run(config_t *cfg, const slice_t *slice);

#endif
