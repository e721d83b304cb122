#include "report_durations.h"
#include "run_nodeid.h"
#include "buf.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

char *report_durations_name(const config_t *cfg)
{
    char *name = xasprintf(REPORT_DURATIONS_PREFIX "%s.json", *cfg->job_id ? cfg->job_id : "local");
    /* The job id reaches buildkite-agent's argv as a file name: plain bytes only. */
    for (char *c = name + strlen(REPORT_DURATIONS_PREFIX); *c && strcmp(c, ".json") != 0; c++)
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '_' && *c != '-') *c = '_';
    return name;
}

bool report_durations_open(report_durations_t *d, const char *path, const run_result_t *failed,
                           char **err)
{
    memset(d, 0, sizeof *d);
    if (!durations_file_writer_open(&d->out, path, err)) return false;
    d->open = true;
    d->failed = failed;
    size_t n = failed ? failed->len : 0;
    d->latest = xmalloc((n ? n : 1) * sizeof(double));
    for (size_t i = 0; i < n; i++) d->latest[i] = -1;
    return true;
}

void report_durations_add(report_durations_t *d, const char *node_id, double seconds)
{
    if (!d->open || !(seconds >= 0)) return;
    const test_result_t *t = d->failed ? run_result_find(d->failed, node_id) : NULL;
    if (t)
        d->latest[t - d->failed->tests] =
            seconds; /* retried: its latest time, written at the end */
    else
        durations_file_writer_put(&d->out, node_id, seconds);
}

void report_durations_use_record(report_durations_t *d, const run_record_t *rec)
{
    d->rec = rec;
}

static const char *attempt_prefix(const run_record_t *rec, int attempt)
{
    for (size_t i = 0; rec && i < rec->n_attempts; i++)
        if (rec->attempts[i].index == attempt) return rec->attempts[i].id_prefix;
    return NULL;
}

static void durations_sink_record(void *user, const test_record_t *rec, int attempt)
{
    report_durations_t *d = user;
    if (rec->problem || rec->collection_error)
        return; /* a collection error is a file, not a test */
    bool json = !d->rec || !d->rec->mode || strcmp(d->rec->mode, "junit") != 0;
    char *id = run_nodeid_of_record(rec->scope, rec->name, rec->file, rec->node_id, json,
                                    attempt_prefix(d->rec, attempt));
    report_durations_add(d, id, rec->duration);
    free(id);
}

report_walk_sink_t report_durations_sink(report_durations_t *d)
{
    return (report_walk_sink_t){.record = durations_sink_record, .user = d};
}

bool report_durations_close(report_durations_t *d, size_t *written, char **err)
{
    bool ok = d->open;
    if (ok) {
        for (size_t i = 0; d->failed && i < d->failed->len; i++)
            if (d->latest[i] >= 0)
                durations_file_writer_put(&d->out, d->failed->tests[i].node_id, d->latest[i]);
        *written = d->out.written;
        ok = durations_file_writer_close(&d->out, err);
    } else {
        *written = 0;
    }
    free(d->latest);
    memset(d, 0, sizeof *d);
    return ok;
}
