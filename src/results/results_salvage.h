/* results_salvage: the result file a killed pytest never wrote, from its reports.
 *
 * The collector and pytest's JUnit writer put their files down when pytest
 * finishes. A pytest that is OOM-killed, times out or is cancelled leaves
 * nothing, though thousands of tests may have finished. The recorder's events
 * (results_events.h) were written as those tests finished, so the run phase
 * writes them into the file pytest should have written, in the run's format,
 * and everything after (the report's upload, the durations artifact, the
 * annotation) sees those tests as if pytest had written them. Records are
 * what the collector or JUnit would have written for the same outcome, less
 * what only they know (a test's line number, its start time); text is made
 * valid UTF-8 for the API. The run model itself takes the tests from the
 * events directly, exact bytes and all. */
#ifndef TEP_RESULTS_SALVAGE_H
#define TEP_RESULTS_SALVAGE_H
#include <stdbool.h>
#include <stdio.h>
#include "results/results_events.h"
#include "pytest/result_mode.h"

typedef struct {
    FILE *f;
    result_mode_t mode;
    char *path;
    char *prefix; /* the rootdir seen from where pytest ran: file_name's start */
    size_t records;
    unsigned long long id_seed;
    bool failed; /* a write failed */
} results_salvage_t;

/* Starts path (which must not exist: pytest wrote none). false with *err. */
bool results_salvage_open(results_salvage_t *s, result_mode_t mode, const char *path, char **err);
/* The prefix to put before a record's file (nodeid.h). */
void results_salvage_set_prefix(results_salvage_t *s, const char *prefix);
/* One finished test (or collection error) as a record. */
void results_salvage_put(results_salvage_t *s, const run_event_test_t *t);
/* Ends the file; false with *err when it could not be written whole (then
 * the file is removed: a damaged result file would say less than none). */
bool results_salvage_close(results_salvage_t *s, char **err);

#endif
