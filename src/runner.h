/* runner: the run phase from this job's slice to an exit status.
 *
 * Attempt 0 runs the slice with the test command; each retry runs only the
 * tests still failing (node ids) with the retry command, up to
 * BUILDKITE_TEST_ENGINE_RETRY_COUNT times. Every attempt writes its own result
 * file (results/attempt-<k>.json|xml), so nothing is stale and report can
 * upload them all. A terminal outcome stops retrying at once. */
#ifndef TEP_RUNNER_H
#define TEP_RUNNER_H
#include "config.h"
#include "state.h"

int runner_run(config_t *cfg, const slice_t *slice);

#endif
