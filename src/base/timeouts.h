/* timeouts: every fixed time limit on a child process, in one place.
 *
 * A child that hangs must never hang the job, so every process the plugin
 * starts for itself has a limit. The ones a user can set (the run's own
 * BUILDKITE_TEST_ENGINE_TIMEOUT, api-timeout, the retry budgets) live in
 * config.c; these are the fixed ones, each sized from what the child does,
 * in seconds. */
#ifndef TEP_TIMEOUTS_H
#define TEP_TIMEOUTS_H

/* A buildkite-agent call (meta-data, artifact, annotate, oidc): a round trip
 * to Buildkite plus an artifact transfer; the agent retries on its own. */
#define TIMEOUT_AGENT_S 120
/* buildkite-agent pipeline upload of the dynamic step. */
#define TIMEOUT_PIPELINE_UPLOAD_S 300
/* buildkite-agent job promise-failure: an early signal, never worth a wait. */
#define TIMEOUT_PROMISE_S 5
/* pytest --collect-only over the slow files (split by example, tag filters):
 * imports every test module, so it is as slow as the suite's imports. */
#define TIMEOUT_COLLECT_S 600
/* The interpreter probe (is pytest, is the collector importable): one short
 * Python start-up. */
#define TIMEOUT_PROBE_S 30
/* git status for the exit-4 forensics: a read of the working tree. */
#define TIMEOUT_GIT_STATUS_S 10
/* Connecting to an API, whatever api-timeout says. */
#define TIMEOUT_CONNECT_S 10L
/* BUILDKITE_CANCEL_GRACE_PERIOD when the agent does not set it (its default). */
#define TIMEOUT_CANCEL_GRACE_S 10.0

#endif
