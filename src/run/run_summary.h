/* run_summary: what the run phase tells people at the end.
 *
 * One "why" line (also stored in run.json and shown in the annotation) and
 * the "results" section of the log: counts, then each failed test and
 * collection error with its cause (results_cause_of), then flaky tests. The
 * why line names the real cause of a collection error, says whether pytest
 * stopped at it (so part of the slice never ran), and says "timed out after
 * N s" for BUILDKITE_TEST_ENGINE_TIMEOUT rather than a signal number. */
#ifndef TEP_RUN_SUMMARY_H
#define TEP_RUN_SUMMARY_H
#include "run/run_classify.h"
#include "state/run_record.h"

typedef struct {
    const outcome_t *outcome;
    const run_record_t *rec;
    const char *start_error;  /* the test command did not start */
    const char *unreadable;   /* first result-reading problem, or NULL */
    const char *missing_path; /* pytest's exit-4 path, or NULL */
    const char *usage;        /* pytest refused the command: why, or NULL */
    const char *usage_cmd;    /* the variable naming that command */
    long exit4_retries;
    long timeout_s;
    size_t slice_entries; /* entries given to the attempt that stopped */
    size_t not_run;       /* of those, entries pytest never ran (stopped early) */
} run_facts_t;

char *run_summary_why(const run_facts_t *f, int status, bool terminal);
void run_summary_print(const run_facts_t *f, int status);

#endif
