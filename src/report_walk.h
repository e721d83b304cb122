/* report_walk: the report phase's one pass over the result files.
 *
 * Every attempt's result file (the ones run.json names, in attempt order) is
 * streamed once, record by record, and each record is handed to every sink:
 * the uploader cuts batches from them, the durations artifact takes each
 * test's time. Nothing holds the records: memory stays at what the readers
 * and the sinks keep (one chunk, one batch). Files that do not exist (an
 * attempt that wrote nothing) are skipped; the run phase already said so. */
#ifndef TEP_REPORT_WALK_H
#define TEP_REPORT_WALK_H
#include <stdbool.h>
#include "config.h"
#include "run_result.h"
#include "run_record.h"

typedef struct {
    /* Any callback may be NULL. */
    void (*file_begin)(void *user, const char *path, int attempt);
    void (*record)(void *user, const test_record_t *rec, int attempt);
    /* error: why the file could not be read to its end, or NULL. */
    void (*file_end)(void *user, const char *path, const char *error);
    void *user;
} report_walk_sink_t;

/* Returns how many files were read. */
size_t report_walk_run(const config_t *cfg, const run_record_t *rec,
                       const report_walk_sink_t *sinks, size_t n_sinks);
/* Whether run.json says the result files are collector JSON (else JUnit). */
bool report_walk_json(const run_record_t *rec);

#endif
