#include "report_durations.h"
#include "buf.h"
#include "jsontext.h"
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *report_durations_name(const config_t *cfg)
{
    char *name = xasprintf(REPORT_DURATIONS_PREFIX "%s.json", *cfg->job_id ? cfg->job_id : "local");
    /* The job id reaches buildkite-agent's argv as a file name: plain bytes only. */
    for (char *c = name + strlen(REPORT_DURATIONS_PREFIX); *c && strcmp(c, ".json") != 0; c++)
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '_' && *c != '-') *c = '_';
    return name;
}

static void put_entry(report_durations_t *d, const char *node_id, double seconds)
{
    buf_t line = BUF_INIT;
    buf_puts(&line, d->written ? ",\n" : "\n");
    json_put_string(&line, node_id, true); /* read by Python tools: strict UTF-8 */
    buf_printf(&line, ": %.6f", seconds);
    if (fwrite(line.data, 1, line.len, d->f) != line.len) d->write_error = true;
    buf_free(&line);
    d->written++;
}

bool report_durations_open(report_durations_t *d, const char *path, const run_result_t *failed,
                           char **err)
{
    memset(d, 0, sizeof *d);
    d->path = xstrdup(path);
    d->tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    d->f = fopen(d->tmp, "wb");
    if (!d->f) {
        *err = xasprintf("cannot write %s (%s)", d->tmp, strerror(errno));
        free(d->path), free(d->tmp);
        memset(d, 0, sizeof *d);
        return false;
    }
    d->failed = failed;
    size_t n = failed ? failed->len : 0;
    d->latest = xmalloc((n ? n : 1) * sizeof(double));
    for (size_t i = 0; i < n; i++) d->latest[i] = -1;
    fputc('{', d->f);
    return true;
}

void report_durations_add(report_durations_t *d, const char *node_id, double seconds)
{
    if (!d->f || !(seconds >= 0)) return;
    const test_result_t *t = d->failed ? run_result_find(d->failed, node_id) : NULL;
    if (t)
        d->latest[t - d->failed->tests] =
            seconds; /* retried: its latest time, written at the end */
    else
        put_entry(d, node_id, seconds);
}

static void sink_record(void *user, const test_record_t *rec, int attempt)
{
    (void)attempt;
    if (rec->problem || rec->collection_error)
        return; /* a collection error is a file, not a test */
    report_durations_add(user, rec->node_id, rec->duration);
}

walk_sink_t report_durations_sink(report_durations_t *d)
{
    return (walk_sink_t){.record = sink_record, .user = d};
}

bool report_durations_close(report_durations_t *d, size_t *written, char **err)
{
    bool ok = d->f != NULL;
    if (ok) {
        for (size_t i = 0; d->failed && i < d->failed->len; i++)
            if (d->latest[i] >= 0) put_entry(d, d->failed->tests[i].node_id, d->latest[i]);
        fputs("\n}\n", d->f);
        ok = !d->write_error && !ferror(d->f);
        ok = fclose(d->f) == 0 && ok;
        ok = ok && rename(d->tmp, d->path) == 0;
        if (!ok) {
            *err = xasprintf("cannot write %s (%s)", d->path, strerror(errno));
            unlink(d->tmp);
        }
    }
    *written = d->written;
    free(d->latest);
    free(d->path);
    free(d->tmp);
    memset(d, 0, sizeof *d);
    return ok;
}
