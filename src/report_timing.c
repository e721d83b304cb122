/* report_timing: see report_timing.h for the contract and the why. */
#include "report_timing.h"
#include <stdlib.h>
#include <string.h>

#define SHOWN_ID_MAX 300 /* a longer node id is cut in the box (the log has it whole) */

char *report_timing_context(const char *step_id)
{
    const char *id = step_id && *step_id ? step_id : "local";
    return xasprintf("test-engine-pytest-%.64s-time", id); /* at most 88 characters */
}

/* A node id as a code span, cut to SHOWN_ID_MAX bytes. */
static void put_id(buf_t *b, const char *id)
{
    size_t n = strlen(id);
    if (n <= SHOWN_ID_MAX) {
        report_markdown_code_span(b, id);
        return;
    }
    char *cut = xasprintf("%.*s...", SHOWN_ID_MAX - 3, id);
    report_markdown_code_span(b, cut);
    free(cut);
}

static void put_slowest(buf_t *b, const run_timing_t *t)
{
    run_timing_test_t slow[RUN_TIMING_SLOWEST];
    run_timing_slowest(t, slow);
    buf_printf(b, "\nSlowest test%s:\n\n", t->n_slowest == 1 ? "" : "s");
    for (size_t i = 0; i < t->n_slowest; i++) {
        buf_printf(b, "%zu. %.2fs ", i + 1, slow[i].seconds);
        put_id(b, slow[i].node_id);
        buf_putc(b, '\n');
    }
}

/* The reasons while they fit in `room` bytes, then how many skips are left. */
static void put_reasons(buf_t *b, const run_timing_t *t, size_t room)
{
    buf_printf(b, "\nSkipped (%zu), by reason:\n\n", t->skipped);
    buf_t item = BUF_INIT;
    size_t used = 0, shown = 0, left = t->skipped_other;
    for (; shown < t->n_reasons; shown++) {
        const run_timing_reason_t *r = &t->reasons[shown];
        buf_reset(&item);
        buf_printf(&item, "- %zu × ", r->count);
        if (*r->reason)
            report_markdown_text(&item, r->reason, RUN_TIMING_REASON_MAX);
        else
            buf_puts(&item, "no reason given");
        buf_puts(&item, " (e.g. ");
        put_id(&item, r->example);
        buf_puts(&item, ")\n");
        if (used + item.len > room) break;
        buf_append(b, item.data, item.len);
        used += item.len;
    }
    for (size_t i = shown; i < t->n_reasons; i++) left += t->reasons[i].count;
    if (left) buf_printf(b, "- %zu × other reasons (see the job log)\n", left);
    buf_free(&item);
}

void report_timing_render(const report_markdown_job_t *j, const run_timing_t *t, double first_s,
                          double retries_s, buf_t *out)
{
    size_t start = out->len;
    report_markdown_heading(out, j, ":stopwatch:");
    char *words = run_timing_words(t, first_s);
    report_markdown_text(out, words, 600);
    free(words);
    if (retries_s > 0) buf_printf(out, "; in-job retries %.1fs more", retries_s);
    buf_putc(out, '\n');
    if (!t->n_slowest && !t->n_reasons && !t->skipped_other) return;
    /* A blank line after the <summary> line ends the HTML block: Markdown again inside. */
    buf_puts(out, "\n<details>\n<summary>");
    if (t->n_slowest) buf_printf(out, "slowest test%s", t->n_slowest == 1 ? "" : "s");
    if (t->n_slowest && t->skipped) buf_puts(out, " · ");
    if (t->skipped) buf_printf(out, "%zu skipped", t->skipped);
    buf_puts(out, "</summary>\n");
    if (t->n_slowest) put_slowest(out, t);
    size_t used = out->len - start, tail = 200; /* "other reasons" and the closing tag */
    if (t->n_reasons || t->skipped_other)
        put_reasons(out, t, REPORT_TIMING_MAX > used + tail ? REPORT_TIMING_MAX - used - tail : 0);
    buf_puts(out, "\n</details>\n");
}
