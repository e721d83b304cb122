/* plan_phase: the plan phase from configuration to this job's slice.
 *
 * discover files -> (tag filter? the matching node ids replace them) ->
 * (job retry? previous attempt's failed selectors) ->
 * cached plan -> filter_tests (+ --collect-only for slow files) -> new plan ->
 * fallback when the API cannot help -> slice.json + a readable summary. */
#ifndef TEP_PLAN_PHASE_H
#define TEP_PLAN_PHASE_H
#include <cjson/cJSON.h>
#include "config.h"
#include "http.h"
#include "strlist.h"

/* Mints an OIDC API token when needed and validates for planning; prints
 * every problem. Returns false when the configuration cannot plan. */
bool plan_phase_prepare(config_t *cfg);
/* Returns the process exit status (0, terminal, or configuration). */
int plan_phase_plan(config_t *cfg);
/* The test files (files option or discovery); logs why not and returns false. */
bool plan_phase_discover(const config_t *cfg, strlist_t *files);
/* What a new plan request carries for these entries (files, or node ids with
 * a tag filter): selectors and examples, as the plan phase builds them.
 * Returns 0, or the status to stop with (fatal API answer: configuration; a
 * slow file that cannot be imported: terminal). *fallback_reason is set
 * (caller frees) when the API could not help and a local answer is due. */
int plan_phase_request_tests(http_client_t *c, const config_t *cfg, const strlist_t *entries,
                             strlist_t *selectors, cJSON *examples, char **fallback_reason);

#endif
