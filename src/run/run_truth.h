/* run_truth: what one pytest run did, from pytest's own reports and its result file.
 *
 * With the recorder's events (results_events.h) complete, or cut short by a
 * killed pytest, the run model takes each test from them: one test per node
 * id whatever pytest-rerunfailures did (flaky when a later try passed),
 * setup and teardown errors and an xdist worker's crash as failures, node ids
 * exact to the byte. The result file (collector JSON or JUnit) is still read
 * whole: its collection errors are the terminal signal, it must be readable,
 * and where it disagrees with pytest's reports the stricter verdict wins,
 * with a line naming the test and why ("the collector recorded it as passed;
 * pytest reported an error at teardown"). A result file a killed pytest
 * never wrote is written from the events (results_salvage.h), so the tests that
 * finished are still counted and uploaded, and the tests it was running are
 * named.
 *
 * Without events (the recorder could not load, or pytest stopped before its
 * session began) the model comes from the result file alone, as before.
 *
 * Either way node ids are made to run from where pytest ran (nodeid.h):
 * the prefix comes from the events' rootdir, else from each collector
 * record's file_name.
 *
 * A result file read to its end gets its index on request (results_index.h):
 * what report needs of each record, written in the same pass, so report
 * never parses the file again. */
#ifndef TEP_RUN_TRUTH_H
#define TEP_RUN_TRUTH_H
#include <stdbool.h>
#include "base/err.h"
#include "pytest/result_mode.h"
#include "results/results_model.h"
#include "base/strlist.h"

typedef struct {
    result_mode_t mode;
    const char *result_path;
    const char *events_path; /* NULL: the recorder was off for this pytest */
    const char *cwd;         /* where pytest ran (absolute) */
    bool killed;             /* ended by a signal, ours or not (timeouts included) */
    bool must_read;          /* pytest ended so that its result file must be there and whole */
    results_model_t *model;
    /* Write the result file's index (results_index.h) while it is read, for
     * the report phase: the attempt's file, not a part that is merged later. */
    bool index;
    warn_fn warn; /* lines about what disagrees or is missing */
    void *warn_user;
} run_truth_in_t;

typedef struct {
    bool recorded;        /* the model took the tests from pytest's own reports */
    char *prefix;         /* node-id prefix used ("" for none) */
    strlist_t running;    /* tests a killed pytest was running */
    size_t running_more;  /* more than results_events keeps by name */
    size_t finished;      /* tests pytest reported finished */
    size_t salvaged;      /* records written into the result file pytest never wrote */
    bool missing;         /* pytest wrote no result file though it had to */
    char *unreadable;     /* why the result file cannot be read, one line, or NULL */
    char *pytest_version; /* from the events, or NULL */
} run_truth_t;

void run_truth_read(const run_truth_in_t *in, run_truth_t *out);
void run_truth_free(run_truth_t *t);

/* Exposed for unit tests: whether the events file has a session line at its
 * start and an end line at its end (cheap: reads its head and tail). */
void run_truth_peek_events(const char *path, bool *session, bool *ended);

#endif
