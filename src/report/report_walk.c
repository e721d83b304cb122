#include "report/report_walk.h"
#include "results/results.h"
#include "base/fs.h"
#include "base/log.h"
#include "state/state_dir.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const report_walk_sink_t *sinks;
    size_t n;
    int attempt;
    result_mode_t mode;
    const char *prefix;
    size_t skip;   /* records the index already handed out */
    size_t seen;   /* records of the parse so far */
    buf_t scratch; /* an entry's key */
    report_walk_stats_t *stats;
} tee_t;

static void tee_entry(const tee_t *t, const results_index_entry_t *e)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->sinks[i].record) t->sinks[i].record(t->sinks[i].user, e, t->attempt);
}

/* A record of the parse, made into the entry the index would have held. */
static void tee_record(const test_record_t *rec, void *user)
{
    tee_t *t = user;
    if (t->seen++ < t->skip) return;
    results_index_entry_t e;
    results_index_entry_of_record(rec, t->mode, t->prefix, &t->scratch, &e);
    t->stats->parsed++;
    tee_entry(t, &e);
}

bool report_walk_json(const run_record_t *rec)
{
    return rec->mode && strcmp(rec->mode, "json") == 0;
}

/* The file's records from its index; true when the index gave all of them.
 * Otherwise t->skip says how many it gave (the parse goes on from there). */
static bool walk_index(tee_t *t, const char *path, const char *rel)
{
    bool missing = false;
    char *why = NULL;
    results_index_reader_t *r = results_index_open(path, t->mode, t->prefix, &missing, &why);
    results_index_next_t got = RESULTS_INDEX_DAMAGED;
    if (r) {
        results_index_entry_t e;
        while ((got = results_index_next(r, &e, &why)) == RESULTS_INDEX_ENTRY) tee_entry(t, &e);
        t->skip = results_index_count(r);
        results_index_close(r);
    }
    if (got == RESULTS_INDEX_END) {
        free(why);
        return true;
    }
    /* No index is expected (a salvaged file, one cut short); a bad one is not. */
    if (missing)
        log_debug("%s has no index (%s); reading the file", rel, why);
    else if (t->skip)
        log_warn("%s.index is %s; reading %s for the records after the first %zu", rel, why, rel,
                 t->skip);
    else
        log_warn("%s.index is %s; reading %s instead", rel, why, rel);
    free(why);
    return false;
}

static void walk_file(tee_t *t, const char *path, const char *rel)
{
    const report_walk_sink_t *sinks = t->sinks;
    for (size_t s = 0; s < t->n; s++)
        if (sinks[s].file_begin) sinks[s].file_begin(sinks[s].user, path, t->attempt);
    char *error = NULL;
    t->skip = t->seen = 0;
    if (walk_index(t, path, rel))
        t->stats->indexed++;
    else
        results_read_file(t->mode, path, tee_record, t, NULL, NULL, &error);
    for (size_t s = 0; s < t->n; s++)
        if (sinks[s].file_end) sinks[s].file_end(sinks[s].user, path, error);
    free(error);
}

size_t report_walk_run(const config_t *cfg, const run_record_t *rec,
                       const report_walk_sink_t *sinks, size_t n_sinks, report_walk_stats_t *stats)
{
    report_walk_stats_t none;
    if (!stats) stats = &none;
    memset(stats, 0, sizeof *stats);
    tee_t t = {.sinks = sinks,
               .n = n_sinks,
               .mode = report_walk_json(rec) ? MODE_JSON : MODE_JUNIT,
               .stats = stats};
    for (size_t i = 0; i < rec->n_attempts; i++) {
        const attempt_t *a = &rec->attempts[i];
        if (!a->result_file) continue; /* a damaged run.json: nothing to read */
        char *path = state_dir_file(cfg, a->result_file);
        if (fs_exists(path)) {
            stats->files++;
            t.attempt = a->index;
            t.prefix = a->id_prefix ? a->id_prefix : "";
            walk_file(&t, path, a->result_file);
        }
        free(path);
    }
    buf_free(&t.scratch);
    return stats->files;
}
