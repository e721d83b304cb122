/* report_walk: the report phase's one pass over the result files.
 *
 * Every attempt's result file (the ones run.json names, in attempt order) is
 * walked once, record by record, and each record is handed to every sink as
 * what the report needs of it (results_index.h: its bytes in the file, and
 * its durations entry): the uploader cuts batches from them, the durations
 * artifact takes each test's time. The records come from the index the run
 * phase wrote beside the file, so nothing is parsed; without one (a file
 * salvaged or cut short, written by an older run) the file is parsed as
 * before and each record made into the same entry, so the sinks get the
 * same either way. An index that is stale (its file changed) or damaged is
 * said in one warning line and the file is parsed instead, from the record
 * where the index stopped. Nothing holds the records: memory stays at what
 * the readers and the sinks keep (one block, one batch). Files that do not
 * exist (an attempt that wrote nothing) are skipped; the run phase already
 * said so. */
#ifndef TEP_REPORT_WALK_H
#define TEP_REPORT_WALK_H
#include <stdbool.h>
#include "config/config.h"
#include "results/results_index.h"
#include "results/results_model.h"
#include "state/run_record.h"

typedef struct {
    /* Any callback may be NULL. */
    void (*file_begin)(void *user, const char *path, int attempt);
    void (*record)(void *user, const results_index_entry_t *e, int attempt);
    /* error: why the file could not be read to its end, or NULL. */
    void (*file_end)(void *user, const char *path, const char *error);
    void *user;
} report_walk_sink_t;

typedef struct {
    size_t files;   /* result files read */
    size_t indexed; /* of them, read from their index alone */
    size_t parsed;  /* records read by parsing a file (no usable index) */
} report_walk_stats_t;

/* Returns how many files were read; stats may be NULL. */
size_t report_walk_run(const config_t *cfg, const run_record_t *rec,
                       const report_walk_sink_t *sinks, size_t n_sinks, report_walk_stats_t *stats);
/* Whether run.json says the result files are collector JSON (else JUnit). */
bool report_walk_json(const run_record_t *rec);

#endif
