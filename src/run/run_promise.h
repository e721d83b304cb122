/* run_promise: bktec's opt-in early failure (BUILDKITE_TEST_ENGINE_PROMISE_FAILURE).
 *
 * When the run phase ends with test failures that in-job retries did not fix,
 * `buildkite-agent job promise-failure <status> --reason "test_failure (<n>
 * failed after retries)"` tells Buildkite now that this job will fail, so the
 * build can fail early while the report phase still uploads. It is best
 * effort: bounded at 5 s, any problem is one warning line, and the job's exit
 * status never changes.
 *
 * Only the failure status promises. bktec also promises when a collection
 * error is among its failed tests; we do not: that job exits with the terminal
 * status (65), and a promise of 1 would announce a status the job never exits
 * with, one that retry rules treat as retryable. Muted failures, signals, an
 * exit 1 with no failed test recorded, and other statuses do not promise. */
#ifndef TEP_RUN_PROMISE_H
#define TEP_RUN_PROMISE_H
#include "config/config.h"
#include "state/run_record.h"

/* After `run`: reads run.json and promises when it should (see above). */
void run_promise_failure_if_needed(const config_t *cfg, int status);
/* The hard failures to promise for: 0 when no promise is due. */
size_t run_promise_failures_due(const config_t *cfg, const run_record_t *rec, int status);

#endif
