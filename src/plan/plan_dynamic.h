/* plan_dynamic: how many jobs a test step should have (bktec's dynamic
 * parallelism), for `plan --json` and `plan --pipeline-upload TEMPLATE`.
 *
 * It runs in a step of its own, before the test step exists: discover the
 * files (and apply a tag filter), build the plan request as the plan phase
 * does, and POST it with max_parallelism (BUILDKITE_TEST_ENGINE_MAX_PARALLELISM)
 * and target_time (BUILDKITE_TEST_ENGINE_TARGET_TIME, in seconds). Test Engine
 * answers with a plan whose `parallelism` is the number of jobs; the plan is
 * cached under the identifier, so the test step's jobs, given that
 * identifier, fetch it and run their slices.
 *
 * When the API cannot answer (or nobody configured it) the number is
 * estimated from local durations (BUILDKITE_TEST_ENGINE_DURATIONS_FILE):
 * ceil(total / target), at least 1, at most max_parallelism and the number of
 * entries; without durations or a target it is max_parallelism (else
 * BUILDKITE_PARALLEL_JOB_COUNT), as bktec's fallback. Either way it says so.
 *
 * --json prints one JSON object on stdout (everything else goes to stderr):
 *   {"parallelism": N, "identifier": ..., "source": "server" | "local estimate",
 *    "reason": ..., "BUILDKITE_TEST_ENGINE_PLAN_IDENTIFIER": ...,
 *    "BUILDKITE_TEST_ENGINE_PARALLELISM": "N"}
 * (the last two are bktec's output, strings as `buildkite-agent env set` wants).
 * --pipeline-upload runs `buildkite-agent pipeline upload TEMPLATE` with those
 * two variables added to its environment, for the agent to interpolate. */
#ifndef TEP_PLAN_DYNAMIC_H
#define TEP_PLAN_DYNAMIC_H
#include <stdbool.h>
#include "config/config.h"

/* template_path NULL: --json. Returns the exit status. */
int plan_dynamic(config_t *cfg, const char *template_path);

/* Exposed for unit tests: the local estimate and why (caller frees *how). */
long plan_dynamic_estimate(long max_parallelism, long fallback_parallelism, long target_s,
                           double total_s, size_t n_entries, char **how);

/* Reads the plan API's answer: usable when it has tasks, a parallelism
 * from 1 to 1000 and no identifier with a control character (it is put into
 * the environment a pipeline template is interpolated with). true with
 * *parallelism and *identifier (the plan's own, or NULL when it names none;
 * caller frees); false with *err (a one-line "Invalid Plan: ..." / "Error
 * Plan: ..." reason, as the fallback shows). */
bool plan_dynamic_read_answer(const char *body, long *parallelism, char **identifier, char **err);

#endif
