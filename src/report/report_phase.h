/* report_phase: the report phase's steps, from run.json to the end.
 *
 * Publishes retry selectors and annotates the build first: they are small,
 * local and what the next attempt and the people need, so a cancelled job
 * (SIGTERM, then SIGKILL after a grace period) must not lose them to a long
 * upload. Then walks the result files once (report_walk: from the index the
 * run phase wrote beside each, or a parse) into the upload and the durations
 * artifact, updates the annotation with the upload's
 * outcome, and posts plan metadata. Everything but the upload and the
 * durations comes from run.json, which holds the failures, not every test,
 * so memory follows the failures and one upload batch. SIGTERM/SIGINT/SIGHUP
 * (caught by the caller, process_catch_signals) stop the upload between
 * batches or mid-transfer; what was not sent is said in one line, and the
 * durations are then not uploaded.
 *
 * Best effort: every problem is reported on one line (this is a phase module:
 * it prints), nothing here fails the job. */
#ifndef TEP_REPORT_PHASE_H
#define TEP_REPORT_PHASE_H
#include "config/config.h"
#include "state/run_record.h"

/* Every step of the report for the run `rec` recorded; needs http_global_init. */
void report_phase_run(config_t *cfg, const run_record_t *rec);

#endif
