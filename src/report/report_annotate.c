#include "report/report_annotate.h"
#include "results/results_cause.h"
#include "net/agent.h"
#include "report/report_markdown.h"
#include "report/report_jobtable.h"
#include "report/report_stepnote.h"
#include "report/report_timing.h"
#include "base/log.h"
#include "results/results_model.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The record's lists, as report_markdown items (reasons owned here). */
typedef struct {
    report_markdown_item_t *items;
    size_t len;
    char **owned;
} items_t;

static void items_push(items_t *l, size_t cap, const char *id, char *reason)
{
    if (!l->items) {
        l->items = xcalloc(cap ? cap : 1, sizeof *l->items);
        l->owned = xcalloc(cap ? cap : 1, sizeof *l->owned);
    }
    l->items[l->len] = (report_markdown_item_t){id, reason};
    l->owned[l->len++] = reason;
}

static void items_free(items_t *l)
{
    for (size_t i = 0; i < l->len; i++) free(l->owned[i]);
    free(l->owned);
    free(l->items);
}

typedef struct {
    report_markdown_job_t job;
    items_t failed, coll, flaky, muted;
    char *launcher, *job_url;
} glue_t;

static report_markdown_list_t items_as_list(const items_t *l)
{
    return (report_markdown_list_t){l->items, l->len};
}

static void glue_lists(glue_t *g, const results_model_t *r)
{
    size_t n = r->len;
    for (size_t i = 0; i < n; i++) {
        const test_result_t *t = &r->tests[i];
        if (t->collection_error)
            items_push(&g->coll, n, t->file ? t->file : t->node_id,
                       results_cause_of(t->failure, t->file));
        else if (t->muted && t->status == ST_FAILED)
            items_push(&g->muted, n, t->node_id, t->failure ? xstrdup(t->failure) : NULL);
        else if (t->status == ST_FAILED)
            items_push(&g->failed, n, t->node_id, t->failure ? xstrdup(t->failure) : NULL);
        else if (results_model_is_flaky(t) && !t->muted)
            items_push(&g->flaky, n, t->node_id, NULL);
    }
}

static void glue_init(glue_t *g, const config_t *cfg, const run_record_t *rec,
                      const report_upload_summary_t *up)
{
    memset(g, 0, sizeof *g);
    glue_lists(g, &rec->result);
    results_model_stats_t s;
    results_model_stats(&rec->result, &s);
    report_markdown_job_t *j = &g->job;
    j->passed = s.passed_first + s.passed_retry;
    j->failed = g->failed.len;
    j->flaky = g->flaky.len;
    j->skipped = s.skipped;
    j->muted_failed = g->muted.len;
    j->collection_errors = g->coll.len;
    j->failed_tests = items_as_list(&g->failed);
    j->collection_errs = items_as_list(&g->coll);
    j->flaky_tests = items_as_list(&g->flaky);
    j->muted_failures = items_as_list(&g->muted);
    j->job_number = cfg->parallel_job + 1;
    j->job_count = cfg->parallel_job_count;
    j->retry_count = cfg->job_retry_count;
    j->retry_of_failure = rec->plan_source && strcmp(rec->plan_source, "retry selectors") == 0;
    j->label = cfg->label;
    if (*cfg->build_url && *cfg->job_id)
        g->job_url = xasprintf("%s#%s", cfg->build_url, cfg->job_id);
    j->job_url = g->job_url;
    j->exit_status = rec->exit_status;
    j->terminal = rec->terminal;
    j->why = rec->why;
    if (up) j->run_url = up->run_url;
    g->launcher = report_markdown_launcher(cfg->test_cmd);
    j->launcher = g->launcher;
}

static void glue_free(glue_t *g)
{
    items_free(&g->failed);
    items_free(&g->coll);
    items_free(&g->flaky);
    items_free(&g->muted);
    free(g->launcher);
    free(g->job_url);
}

/* `buildkite-agent annotate [--append] --style S --context C [--priority P]`
 * with text on stdin. An agent older than annotation priorities refuses the
 * flag: it gets the box without it (the box then sits in creation order). */
static bool annotate_send(const config_t *cfg, const char *context, const char *style,
                          const char *priority, bool append, const char *text, size_t len,
                          char **err)
{
    const char *args[10];
    size_t n = 0;
    args[n++] = "annotate";
    if (append) args[n++] = "--append";
    args[n++] = "--style";
    args[n++] = style;
    args[n++] = "--context";
    args[n++] = context;
    size_t priority_at = n;
    if (priority) {
        args[n++] = "--priority";
        args[n++] = priority;
    }
    args[n] = NULL;
    bool ok = agent_call_with_text(cfg, args, text, len, err);
    if (!ok && priority && *err && strstr(*err, "priority")) {
        free(*err);
        *err = NULL;
        args[priority_at] = NULL;
        ok = agent_call_with_text(cfg, args, text, len, err);
    }
    return ok;
}

/* Appends body, wrapped to stand on its own whatever the agent does with
 * the whitespace between bodies (report_markdown.h), to a box. */
static bool annotate_append(const config_t *cfg, const report_markdown_job_t *job,
                            const char *context, const char *style, const char *priority,
                            const buf_t *body, char **err)
{
    buf_t wrapped = BUF_INIT;
    report_markdown_wrap(job, body, &wrapped);
    bool ok = annotate_send(cfg, context, style, priority, true, wrapped.data, wrapped.len, err);
    buf_free(&wrapped);
    return ok;
}

static bool append_to_box(const config_t *cfg, const report_markdown_job_t *job,
                          report_markdown_box_t box, const buf_t *body, char **err)
{
    char *context = report_markdown_box_context(cfg->step_id, box);
    bool ok = annotate_append(cfg, job, context, report_markdown_box_style(box), NULL, body, err);
    free(context);
    return ok;
}

/* A section the agent refused, most likely because the box is full (1 MiB in
 * all): one line that says so instead. Its own failure is not reported: the
 * caller already warns about the section. */
static void annotate_overflow(const config_t *cfg, const report_markdown_job_t *job,
                              report_markdown_box_t box)
{
    buf_t line = BUF_INIT;
    report_markdown_render_overflow(job, &line);
    char *err = NULL;
    if (append_to_box(cfg, job, box, &line, &err))
        log_info("Annotation: the box is full; one line appended instead");
    free(err);
    buf_free(&line);
}

/* A note of the step's, written whole (no --append): every job that has it
 * writes the same box, so the page shows it once (report_stepnote.h). */
static void annotate_step_note(const config_t *cfg, report_stepnote_t *note)
{
    char *err = NULL;
    if (annotate_send(cfg, note->context, "warning", NULL, false, note->body.data, note->body.len,
                      &err))
        log_info("Annotation: the step's note %s written (once for the step, whichever job "
                 "writes it)",
                 note->context);
    else
        log_warn("could not write the step's note %s: %s", note->context, err);
    free(err);
    report_stepnote_free(note);
}

/* This job's line (and slowest tests, skip reasons) in the step's time box. */
static void annotate_timing(const config_t *cfg, const run_record_t *rec,
                            const report_markdown_job_t *job)
{
    double first, retries;
    run_record_took(rec, &first, &retries);
    buf_t body = BUF_INIT;
    report_timing_render(job, &rec->timing, first, retries, &body);
    char *context = report_timing_context(cfg->step_id);
    char *err = NULL;
    if (annotate_append(cfg, job, context, "info", REPORT_TIMING_PRIORITY, &body, &err))
        log_info("Annotation: this job's time appended to the step's info box");
    else
        log_warn("could not add this job's time to the annotation: %s", err);
    free(err);
    free(context);
    buf_free(&body);
}

/* This job's row, as the step's table shows it (report_jobtable.h). */
static void jobtable_row(const config_t *cfg, const run_record_t *rec, const glue_t *g,
                         report_jobtable_row_t *row)
{
    double first, retries;
    run_record_took(rec, &first, &retries);
    const char *src = rec->plan_source ? rec->plan_source : "";
    memset(row, 0, sizeof *row);
    row->job = cfg->parallel_job;
    row->retry = cfg->job_retry_count;
    row->estimate_ms = rec->timing.estimate_s >= 0 ? lround(rec->timing.estimate_s * 1000) : -1;
    row->took_ms = first >= 0 ? lround(first * 1000) : -1;
    results_model_stats_t stats;
    results_model_stats(&rec->result, &stats);
    row->tests = (long)stats.total;
    row->failed = (long)(g->job.failed + g->job.collection_errors);
    row->plan = strncmp(src, "server", 6) == 0        ? 's'
                : strcmp(src, "retry selectors") == 0 ? 'r'
                                                      : 'l';
    report_jobtable_set_job_id(row, cfg->job_id); /* as the key carries it */
}

/* The rows the build's meta-data holds for this step, this job's own put in;
 * false with *err when the agent cannot list them. */
static bool jobtable_read(const config_t *cfg, const report_jobtable_row_t *mine,
                          report_jobtable_row_t *rows, size_t *n, char **err)
{
    const char *args[] = {"meta-data", "keys", NULL};
    buf_t keys = BUF_INIT;
    bool ok = agent_call(cfg, args, NULL, NULL, &keys, err);
    if (ok) {
        *n = report_jobtable_parse(cfg->step_id, keys.data ? keys.data : "", keys.len,
                                   cfg->parallel_job_count, rows);
        *n = report_jobtable_merge(rows, *n, mine);
    }
    buf_free(&keys);
    return ok;
}

static bool jobtable_write(const config_t *cfg, const report_jobtable_row_t *rows, size_t n,
                           char **err)
{
    buf_t body = BUF_INIT;
    report_jobtable_render(cfg->label, cfg->build_url, cfg->parallel_job_count, rows, n, &body);
    char *context = report_jobtable_context(cfg->step_id);
    bool ok = annotate_send(cfg, context, "info", REPORT_JOBTABLE_PRIORITY, false, body.data,
                            body.len, err);
    free(context);
    buf_free(&body);
    return ok;
}

/* The step's table of jobs (parallel steps only): this job's row goes into
 * the build's meta-data, then the whole table is written from every row
 * found. When rows are missing it looks once more after writing: a job that
 * finished at the same moment may have written its table without this row.
 * Returns how many jobs planned locally (for the step's note), 0 if unknown. */
static size_t annotate_jobtable(const config_t *cfg, const run_record_t *rec, const glue_t *g)
{
    if (cfg->parallel_job_count < 2 || !*cfg->job_id) return 0;
    long count = cfg->parallel_job_count > REPORT_JOBTABLE_MAX_JOBS ? REPORT_JOBTABLE_MAX_JOBS
                                                                    : cfg->parallel_job_count;
    report_jobtable_row_t mine;
    jobtable_row(cfg, rec, g, &mine);
    report_jobtable_row_t *rows = xcalloc((size_t)count + 1, sizeof *rows);
    size_t n = 0, local = 0;
    char *key = report_jobtable_key(cfg->step_id, &mine);
    char *value = xasprintf("job %ld of %ld, retry %ld (the key holds its row)", mine.job + 1,
                            count, mine.retry);
    char *err = NULL;
    bool ok = agent_metadata_set(cfg, key, value, &err) &&
              jobtable_read(cfg, &mine, rows, &n, &err) && jobtable_write(cfg, rows, n, &err);
    if (ok && n < (size_t)count) {
        size_t before = n;
        ok = jobtable_read(cfg, &mine, rows, &n, &err) &&
             (n <= before || jobtable_write(cfg, rows, n, &err));
    }
    if (ok) {
        local = report_jobtable_local(rows, n);
        log_info("Annotation: the step's table of jobs written (%zu of %ld jobs reported so far)",
                 n, count);
    } else {
        log_warn("could not write the step's table of jobs: %s", err);
    }
    free(err);
    free(value);
    free(key);
    free(rows);
    return local;
}

/* Before the upload: this job's section (failures or notes), its time, and
 * the step's note on a fallback plan. */
static bool annotate_run(const config_t *cfg, const run_record_t *rec, glue_t *g, char **err)
{
    report_markdown_box_t box = report_markdown_box(&g->job);
    bool ok = true;
    if (box == REPORT_MARKDOWN_BOX_NONE) {
        log_info("Annotation: no failures or notes from this job");
    } else {
        buf_t body = BUF_INIT;
        report_markdown_render_section(&g->job, REPORT_MARKDOWN_SECTION_MAX, &body);
        ok = append_to_box(cfg, &g->job, box, &body, err);
        if (ok)
            log_info("Annotation: %zu bytes appended to the step's %s box", body.len,
                     report_markdown_box_style(box));
        else
            annotate_overflow(cfg, &g->job, box);
        buf_free(&body);
    }
    annotate_timing(cfg, rec, &g->job);
    size_t local = annotate_jobtable(cfg, rec, g);
    bool fallback = rec->plan_source && strcmp(rec->plan_source, "fallback") == 0;
    if (fallback && !cfg->offline && rec->plan_reason && *rec->plan_reason) {
        report_stepnote_t note;
        report_stepnote_plan(cfg->step_id, cfg->label, rec->plan_reason, local,
                             cfg->parallel_job_count, &note);
        annotate_step_note(cfg, &note);
    }
    return ok;
}

/* After the upload: the step's note when it fell short, and a failing job's
 * Test Engine run under its section. */
static bool annotate_upload(const config_t *cfg, const report_upload_summary_t *up, glue_t *g,
                            char **err)
{
    report_stepnote_t note;
    if (report_stepnote_upload(cfg->step_id, cfg->label, up, &note)) annotate_step_note(cfg, &note);
    buf_t line = BUF_INIT;
    report_markdown_render_upload(&g->job, &line);
    bool ok = true;
    if (line.len) {
        ok = append_to_box(cfg, &g->job, REPORT_MARKDOWN_BOX_FAILURES, &line, err);
        if (ok) log_info("Annotation: this job's Test Engine run appended to the step's error box");
    }
    buf_free(&line);
    return ok;
}

bool report_annotate_send(const config_t *cfg, const run_record_t *rec,
                          const report_upload_summary_t *up, char **err)
{
    glue_t g;
    glue_init(&g, cfg, rec, up);
    bool ok = up ? annotate_upload(cfg, up, &g, err) : annotate_run(cfg, rec, &g, err);
    glue_free(&g);
    return ok;
}
