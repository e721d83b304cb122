/* plan_phase: the plan phase from configuration to this job's slice.
 *
 * (job retry? previous attempt's failed selectors) -> cached plan ->
 * discover files -> (tag filter? the matching node ids replace them) ->
 * filter_tests (+ --collect-only for slow files) -> new plan ->
 * fallback when the API cannot help (plan_fallback.h, then plan_refine.h) ->
 * slice.json + a readable summary (plan_summary.h). Discovery waits until a
 * step needs the files: a cached plan or a retry's selectors need none
 * (with a tag filter it comes first: its collection checks the collector). */
#ifndef TEP_PLAN_PHASE_H
#define TEP_PLAN_PHASE_H
#include <cjson/cJSON.h>
#include "config/config.h"
#include "net/http.h"
#include "model/plan.h"
#include "base/strlist.h"

/* Mints an OIDC API token when needed and validates for planning; prints
 * every problem. Returns false when the configuration cannot plan. */
bool plan_phase_prepare(config_t *cfg);
/* Returns the process exit status (0, terminal, or configuration). */
int plan_phase_plan(config_t *cfg);
/* The entries to plan: the test files (the files option, or discovery), or
 * with a tag filter the matching node ids (plan_tagfilter.h): the server
 * plan and the fallback split only those. Returns 0, or the status to stop
 * with, the reason logged. */
int plan_phase_entries(const config_t *cfg, strlist_t *entries);
/* The plan for these entries, as plan_phase_plan makes it, without writing
 * anything: plan --explain sets p->estimates first (then no job retry's
 * selectors, and the fallback's split files are not refined with pytest).
 * Logs what it does; returns 0, or the status to stop with. */
int plan_phase_choose(const config_t *cfg, const strlist_t *entries, plan_t *p);

/* What came of plan_phase_request_tests. */
typedef enum {
    PLAN_PHASE_TESTS_READY,    /* selectors and examples are filled: ask for the plan */
    PLAN_PHASE_TESTS_FALLBACK, /* *err: why the API cannot help; a local answer is due */
    PLAN_PHASE_TESTS_FATAL,    /* *err: a fatal API answer; stop with the configuration status */
    /* A slow file pytest cannot import: stop with the terminal status. Each
     * such file was logged on its own line (several lines do not fit one
     * *err), so *err stays NULL. */
    PLAN_PHASE_TESTS_TERMINAL,
} plan_phase_tests_t;

/* What a new plan request carries for these entries (files, or node ids with
 * a tag filter): selectors and examples, as the plan phase builds them. */
plan_phase_tests_t plan_phase_request_tests(http_client_t *c, const config_t *cfg,
                                            const strlist_t *entries, strlist_t *selectors,
                                            cJSON *examples, char **err);

#endif
