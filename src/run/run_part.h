/* run_part: one pytest invocation of an attempt, from selectors to results read.
 *
 * Builds the command line from the template (the selectors, the part's result
 * file), prints it (shortened in the middle when huge, so a big slice never
 * floods the log), runs pytest in the job's environment without our tokens,
 * and reads the result file into the run's model. pytest's exit 4 ("file or
 * directory not found") for files that exist is retried with backoff while
 * retries and time are left, and forensics are printed when it stands
 * (run_exit4). A command that cannot start, a timeout and a result file that
 * cannot be read are logged and noted in the findings (run_state.h). */
#ifndef TEP_RUN_PART_H
#define TEP_RUN_PART_H
#include "base/process.h"
#include "run/run_state.h"

typedef struct {
    const char *tmpl;
    bool retry; /* the retry command (a usage error names it) */
    const strlist_t *selectors;
    const char *result_path;
    double deadline;     /* monotonic; 0 = none */
    bool index;          /* its result file is the attempt's: index it (results_index.h) */
    process_result_t pr; /* how pytest ended; the caller frees it (process_result_free) */
    size_t new_collection_errors;
} run_part_t;

/* Runs the part with what ctx gives every pytest, reads what it wrote into
 * rec (its results, the tests a killed pytest was running, forensics) and
 * notes what went wrong in found (part->pr is overwritten). */
void run_part_run(const run_context_t *ctx, run_part_t *part, run_record_t *rec,
                  run_findings_t *found);
/* Whether the part ended the run as a single pytest would have ended it. */
bool run_part_ends_run(const run_part_t *part);
/* Seconds to a monotonic deadline (negative once past); 0 for no deadline. */
double run_part_seconds_left(double deadline);

#endif
