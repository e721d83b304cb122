/* report_durations: this job's per-test durations, recorded for later plans.
 *
 * The report phase writes every test's time (collector history.duration,
 * JUnit time) as pytest-split's .test_durations format: one JSON object,
 * node id -> seconds, the node id made to run from where pytest ran (as the
 * plan's paths are: nodeid.h), so a plan made from it matches files
 * whatever pytest's rootdir was. It is
 * written while the result files are walked (a sink of report_walk), one
 * entry at a time, so it costs no memory per test: a test that ran once is
 * written at once; a test that failed in some attempt (run.json knows them:
 * the only ones retried) keeps its latest time in a slot of its own and is
 * written at the end, so no node id appears twice. Collection errors and
 * records without a usable time are left out. Each entry's key comes ready
 * from the result file's index (results_index.h: made by the run phase, or
 * from a parse when there is none); the retried tests are found by the
 * key's hash and then compared whole.
 *
 * The file is then uploaded as the artifact
 * test-engine-pytest-durations-<job id>.json (characters outside
 * [A-Za-z0-9._-] in the job id become '_'), from the state dir; `durations
 * merge` and the fallback plan read these. Written atomically (the file's
 * format and writing are durations_file.h's); a failure anywhere is a warning
 * for the caller, never a failure of the job. */
#ifndef TEP_REPORT_DURATIONS_H
#define TEP_REPORT_DURATIONS_H
#include <stdbool.h>
#include "config/config.h"
#include "model/durations_file.h"
#include "state/run_record.h"
#include "results/results_model.h"
#include "report/report_walk.h"

#define REPORT_DURATIONS_PREFIX "test-engine-pytest-durations-"

typedef struct {
    durations_file_writer_t out;
    bool open;
    const results_model_t *failed; /* tests that get one slot each */
    double *latest;                /* per failed test, -1 = none seen */
    /* The failed tests by their keys' hash (open addressing; a slot holds the
     * hash, so a probe reads one place), and each one's key as an index entry
     * has it. */
    struct report_durations_slot {
        uint32_t idx; /* UINT32_MAX: empty */
        uint32_t hash;
    } * slots;
    size_t n_slots;
    uint64_t *maybe; /* a bit per hash value (mod its size): most entries stop there */
    size_t maybe_bits;
    char **keys;
    size_t *key_lens;
    buf_t scratch;
} report_durations_t;

/* The artifact's file name for this job. Caller frees. */
char *report_durations_name(const config_t *cfg);
/* Starts writing `path`; `failed` (may be NULL) must outlive d. */
bool report_durations_open(report_durations_t *d, const char *path, const results_model_t *failed,
                           char **err);
void report_durations_add(report_durations_t *d, const char *node_id, double seconds);
/* One record's entry (nothing when it has no time). */
void report_durations_add_entry(report_durations_t *d, const results_index_entry_t *e);
/* The sink that feeds d from the walk. */
report_walk_sink_t report_durations_sink(report_durations_t *d);
/* Finishes the file; *written = entries. false with *err when it cannot be written. */
bool report_durations_close(report_durations_t *d, size_t *written, char **err);

#endif
