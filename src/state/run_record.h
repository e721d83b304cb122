/* run_record: run.json, the run phase's record for the report phase.
 *
 * Everything report needs besides the result files themselves, so it never
 * re-runs pytest or parses a result file into memory: mode, plan source, the
 * exit status and why, each attempt (result file, exit code, times, how many
 * entries it ran, the node-id prefix of its result file), the tests a killed
 * pytest was running, the counts of every outcome, the exit-4 forensics text,
 * the tests that failed in some attempt (node id, final status, attempts,
 * flaky, muted, collection error, one-line cause), and the job's timing
 * (results_timing.h: its estimate, its slowest tests, its skip reasons, bounded).
 * Its size follows the failures, never the suite: tests that passed are only
 * counted.
 *
 * Format (version RUN_RECORD_VERSION): one JSON array, written atomically. Its
 * first element is the header object ("version", the fields above, "counts"
 * for people and tools, "settled" for the model, "timing": {"estimate":
 * {"seconds", "basis", "samples", "with_history", "entries"}, "slowest":
 * [{"node_id", "seconds"}] slowest first, "skip_reasons": [{"reason",
 * "count", "example"}], "skipped", "skipped_other", "timed", "tests_seconds"},
 * "failures": how many elements follow); then one object per failed test. Being an array, it is
 * read back with the collector reader's streaming scanner, one element at a
 * time, so reading it costs what the failures cost. A reader refuses
 * another version (the command phase must run again with this binary). */
#ifndef TEP_RUN_RECORD_H
#define TEP_RUN_RECORD_H
#include <stdbool.h>
#include "config/config.h"
#include "results/results_model.h"
#include "results/results_timing.h"
#include "base/strlist.h"

#define RUN_RECORD_VERSION 4

typedef struct {
    int index;
    char *result_file; /* relative to the state dir; NULL: run.json named none of ours */
    int exit_code;
    int signal;
    double started, ended; /* epoch seconds */
    size_t n_selectors;
    char *id_prefix; /* pytest's rootdir seen from where it ran ("" or "a/b/"): the
                      * result file's node ids need it to run from there */
} attempt_t;

typedef struct {
    char *mode; /* "json" | "junit" */
    char *plan_source;
    char *plan_reason;
    bool from_server;
    int exit_status;
    bool terminal;
    char *why;
    char *forensics;
    attempt_t *attempts;
    size_t n_attempts;
    strlist_t running;       /* tests a killed pytest was running */
    size_t salvaged;         /* results written from pytest's own reports after it was killed */
    results_model_t result;  /* counts, and the tests that failed in some attempt */
    results_timing_t timing; /* estimate, slowest tests, skip reasons */
} run_record_t;

/* How long pytest took: the first attempt (the slice the estimate is for),
 * and the in-job retries after it; -1 when it never ran. */
void run_record_took(const run_record_t *rec, double *first_s, double *retries_s);
/* Writes run.json atomically; false with *err ("cannot write <path> (...)"). */
bool run_record_write(const config_t *cfg, const run_record_t *rec, char **err);
/* Reads run.json. No run.json: true with *out NULL. Unusable (another
 * version, damaged, cut short): false with *err, one line naming the file
 * and what to do. On true, *out is the caller's (run_record_delete). */
bool run_record_read(const config_t *cfg, run_record_t **out, char **err);
/* Frees what a record holds (one built in place by the run phase). */
void run_record_free(run_record_t *rec);
/* Frees a record run_record_read gave, and the record; NULL is fine. */
void run_record_delete(run_record_t *rec);

#endif
