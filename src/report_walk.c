#include "report_walk.h"
#include "results.h"
#include "fs.h"
#include "state_dir.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const report_walk_sink_t *sinks;
    size_t n;
    int attempt;
} tee_t;

static void tee_record(const test_record_t *rec, void *user)
{
    const tee_t *t = user;
    for (size_t i = 0; i < t->n; i++)
        if (t->sinks[i].record) t->sinks[i].record(t->sinks[i].user, rec, t->attempt);
}

bool report_walk_json(const run_record_t *rec)
{
    return rec->mode && strcmp(rec->mode, "json") == 0;
}

size_t report_walk_run(const config_t *cfg, const run_record_t *rec,
                       const report_walk_sink_t *sinks, size_t n_sinks)
{
    bool json = report_walk_json(rec);
    size_t files = 0;
    for (size_t i = 0; i < rec->n_attempts; i++) {
        if (!rec->attempts[i].result_file) continue; /* a damaged run.json: nothing to read */
        char *path = state_dir_file(cfg, rec->attempts[i].result_file);
        if (!fs_exists(path)) {
            free(path);
            continue;
        }
        files++;
        tee_t tee = {.sinks = sinks, .n = n_sinks, .attempt = rec->attempts[i].index};
        for (size_t s = 0; s < n_sinks; s++)
            if (sinks[s].file_begin) sinks[s].file_begin(sinks[s].user, path, tee.attempt);
        char *error = NULL;
        results_read_file(json ? MODE_JSON : MODE_JUNIT, path, tee_record, &tee, NULL, NULL,
                          &error);
        for (size_t s = 0; s < n_sinks; s++)
            if (sinks[s].file_end) sinks[s].file_end(sinks[s].user, path, error);
        free(error);
        free(path);
    }
    return files;
}
