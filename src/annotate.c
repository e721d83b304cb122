#include "annotate.h"
#include "agent.h"
#include "log.h"
#include "result.h"
#include <stdlib.h>
#include <string.h>

const char *annotate_style(const run_record_t *rec)
{
    if (rec->exit_status != 0) return "error";
    result_stats_t s;
    result_stats(&rec->result, &s);
    return (s.flaky || s.muted_failed) ? "warning" : "success";
}

/* One control character (never '\n') rendered visibly, as the log does. */
static void put_control(buf_t *b, const char *s)
{
    char one[2] = {*s, '\0'};
    log_escape(b, one);
}

static bool is_control(char c)
{
    return (unsigned char)c < 0x20 || c == 0x7f;
}

/* Inline text: no markdown, HTML or terminal surprises from test names and
 * messages. Only the first line is shown. */
static void put_inline(buf_t *b, const char *s, size_t max)
{
    size_t n = 0;
    for (; *s && *s != '\n' && n < max; s++, n++) {
        if (is_control(*s)) {
            put_control(b, s);
            continue;
        }
        switch (*s) {
        case '<': buf_puts(b, "&lt;"); break;
        case '>': buf_puts(b, "&gt;"); break;
        case '&': buf_puts(b, "&amp;"); break;
        case '`': buf_putc(b, '\''); break;
        case '|': buf_puts(b, "\\|"); break;
        default: buf_putc(b, *s);
        }
    }
    if (*s && *s != '\n') buf_puts(b, "...");
}

static void put_code(buf_t *b, const char *s)
{
    buf_puts(b, "<code>");
    put_inline(b, s, 400);
    buf_puts(b, "</code>");
}

typedef bool (*pick_fn)(const test_result_t *t);
static bool pick_failed(const test_result_t *t) { return t->status == ST_FAILED && !t->collection_error && !t->muted; }
static bool pick_collection(const test_result_t *t) { return t->collection_error; }
static bool pick_flaky(const test_result_t *t) { return result_is_flaky(t) && !t->muted; }
static bool pick_muted(const test_result_t *t) { return t->muted && t->status == ST_FAILED; }

static void list(buf_t *b, const run_record_t *rec, const char *title, pick_fn pick, bool reasons, size_t limit)
{
    size_t total = 0, shown = 0;
    for (size_t i = 0; i < rec->result.len; i++) total += pick(&rec->result.tests[i]);
    if (!total) return;
    buf_printf(b, "\n<details%s><summary>%s (%zu)</summary>\n\n", reasons ? " open" : "", title, total);
    for (size_t i = 0; i < rec->result.len && shown < limit; i++) {
        const test_result_t *t = &rec->result.tests[i];
        if (!pick(t)) continue;
        shown++;
        buf_puts(b, "- ");
        put_code(b, t->collection_error && t->file ? t->file : t->node_id);
        const char *cause = reasons ? t->failure : NULL; /* the run phase kept the cause */
        if (cause && *cause) {
            buf_puts(b, ": ");
            put_inline(b, cause, 300);
        }
        buf_putc(b, '\n');
    }
    if (shown < total) buf_printf(b, "- ... and %zu more (see the job log)\n", total - shown);
    buf_puts(b, "\n</details>\n");
}

void annotate_build(const config_t *cfg, const run_record_t *rec, const upload_summary_t *up, size_t limit, buf_t *b)
{
    result_stats_t s;
    result_stats(&rec->result, &s);
    const char *icon = rec->exit_status == 0 ? (s.flaky || s.muted_failed ? ":warning:" : ":white_check_mark:")
                                             : ":x:";
    buf_printf(b, "#### %s pytest, job %ld of %ld: exit status %d\n\n", icon, cfg->parallel_job + 1,
               cfg->parallel_job_count, rec->exit_status);
    buf_puts(b, rec->terminal ? "**Terminal, not retried:** " : "");
    put_inline(b, rec->why ? rec->why : "", 1000);
    buf_puts(b, "\n\n| passed | passed on retry | failed | skipped | muted (failed) | collection errors |\n"
                "|---|---|---|---|---|---|\n");
    buf_printf(b, "| %zu | %zu | %zu | %zu | %zu (%zu) | %zu |\n", s.passed_first, s.passed_retry, s.failed, s.skipped,
               s.muted_passed + s.muted_failed, s.muted_failed, s.collection_errors);
    list(b, rec, "Collection errors", pick_collection, true, limit);
    list(b, rec, "Failed tests", pick_failed, true, limit);
    list(b, rec, "Flaky tests (failed, then passed on retry)", pick_flaky, false, limit);
    list(b, rec, "Muted tests that failed", pick_muted, true, limit);
    if (rec->forensics && *rec->forensics) {
        buf_puts(b, "\n<details open><summary>Exit 4 forensics</summary>\n\n<pre>");
        for (const char *c = rec->forensics; *c && c - rec->forensics < 8000; c++) {
            if (*c == '<') buf_puts(b, "&lt;");
            else if (*c == '&') buf_puts(b, "&amp;");
            else if (*c != '\n' && is_control(*c)) put_control(b, c);
            else buf_putc(b, *c);
        }
        buf_puts(b, "</pre>\n\n</details>\n");
    }
    buf_puts(b, "\nPlan: ");
    put_inline(b, rec->plan_source ? rec->plan_source : "?", 100);
    if (rec->plan_reason && *rec->plan_reason) {
        buf_puts(b, " (");
        put_inline(b, rec->plan_reason, 500);
        buf_putc(b, ')');
    }
    buf_printf(b, ". Attempts: %zu.", rec->n_attempts);
    if (up && up->requests) {
        buf_printf(b, " Uploaded %zu result%s in %zu request%s", up->records, up->records == 1 ? "" : "s",
                   up->requests, up->requests == 1 ? "" : "s");
        if (up->failed_requests) buf_printf(b, " (%zu failed)", up->failed_requests);
        if (up->run_url && strncmp(up->run_url, "https://", 8) == 0) {
            buf_puts(b, ": [Test Engine run](");
            put_inline(b, up->run_url, 500);
            buf_putc(b, ')');
        }
        buf_putc(b, '.');
    }
    buf_putc(b, '\n');
}

bool annotate_send(const config_t *cfg, const run_record_t *rec, const upload_summary_t *up, char **err)
{
    buf_t body;
    buf_init(&body);
    size_t limit = 2000;
    for (;;) {
        buf_reset(&body);
        annotate_build(cfg, rec, up, limit, &body);
        if (body.len <= ANNOTATION_LIMIT || limit == 0) break;
        limit /= 2;
    }
    char *context = xasprintf("test-engine-pytest-%s-%ld", *cfg->step_id ? cfg->step_id : "local", cfg->parallel_job);
    const char *args[] = {"annotate", "--style", annotate_style(rec), "--context", context, NULL};
    bool ok = agent_call_with_text(cfg, args, body.data, body.len, err);
    free(context);
    buf_free(&body);
    return ok;
}
