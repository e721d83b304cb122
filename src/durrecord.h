/* durrecord: this job's per-test durations, recorded for later plans.
 *
 * The report phase writes every test's time (collector history.duration,
 * JUnit time) as pytest-split's .test_durations format: one JSON object,
 * node id (as pytest prints it, relative to the rootdir) -> seconds. It is
 * written while the result files are streamed (a sink of resultwalk), one
 * entry at a time, so it costs no memory per test: a test that ran once is
 * written at once; a test that failed in some attempt (run.json knows them:
 * the only ones retried) keeps its latest time in a slot of its own and is
 * written at the end, so no node id appears twice. Collection errors and
 * records without a usable time are left out.
 *
 * The file is then uploaded as the artifact
 * test-engine-pytest-durations-<job id>.json (characters outside
 * [A-Za-z0-9._-] in the job id become '_'), from the state dir; `durations
 * merge` and the fallback plan read these. Written atomically; a failure
 * anywhere is a warning for the caller, never a failure of the job. */
#ifndef TEP_DURRECORD_H
#define TEP_DURRECORD_H
#include <stdbool.h>
#include <stdio.h>
#include "buf.h"
#include "config.h"
#include "result.h"
#include "resultwalk.h"

#define DURRECORD_PREFIX "test-engine-pytest-durations-"

typedef struct {
    FILE *f;
    char *path, *tmp;
    const run_result_t *failed;   /* tests that get one slot each */
    double *latest;               /* per failed test, -1 = none seen */
    size_t written;
    bool write_error;
} durrecord_t;

/* The artifact's file name for this job. Caller frees. */
char *durrecord_name(const config_t *cfg);
/* Starts writing `path`; `failed` (may be NULL) must outlive d. */
bool durrecord_open(durrecord_t *d, const char *path, const run_result_t *failed, char **err);
void durrecord_add(durrecord_t *d, const char *node_id, double seconds);
/* The sink that feeds d from the walk. */
walk_sink_t durrecord_sink(durrecord_t *d);
/* Finishes the file; *written = entries. false with *err when it cannot be written. */
bool durrecord_close(durrecord_t *d, size_t *written, char **err);

#endif
