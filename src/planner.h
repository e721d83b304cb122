/* planner: the plan phase from configuration to this job's slice.
 *
 * discover files -> (job retry? previous attempt's failed selectors) ->
 * cached plan -> filter_tests (+ --collect-only for slow files) -> new plan ->
 * fallback when the API cannot help -> slice.json + a readable summary. */
#ifndef TEP_PLANNER_H
#define TEP_PLANNER_H
#include "config.h"

/* Mints an OIDC API token when needed and validates for planning; prints
 * every problem. Returns false when the configuration cannot plan. */
bool planner_prepare(config_t *cfg);
/* Returns the process exit status (0, terminal, or configuration). */
int planner_plan(config_t *cfg);
/* The test command the run phase will use (user's, or the default). */
const char *planner_test_command(const config_t *cfg);

#endif
