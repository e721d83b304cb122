/* report_timing: see report_timing.h for the contract and the why. */
#include "report/report_timing.h"
#include "base/text.h"
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

/* A test's time as people read it: ms under a second (bktec's summary does the same). */
static void put_seconds(buf_t *b, double s)
{
    if (s < 0.001)
        buf_puts(b, "<1ms");
    else if (s < 1)
        buf_printf(b, "%.0fms", s * 1000);
    else
        buf_printf(b, "%.2fs", s);
}

/* Tests under a millisecond say nothing about a split: they are left out. */
static size_t timed_tests(const results_timing_t *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n_slowest; i++) n += t->slowest[i].seconds >= 0.001;
    return n;
}

static void put_slowest(buf_t *b, const results_timing_t *t, size_t shown)
{
    results_timing_test_t slow[RESULTS_TIMING_SLOWEST];
    results_timing_slowest(t, slow);
    buf_printf(b, "\nSlowest test%s:\n\n", shown == 1 ? "" : "s");
    for (size_t i = 0; i < shown; i++) {
        buf_printf(b, "%zu. ", i + 1);
        put_seconds(b, slow[i].seconds);
        buf_putc(b, ' ');
        put_id(b, slow[i].node_id);
        buf_putc(b, '\n');
    }
}

/* The reasons while they fit in `room` bytes, then how many skips are left. */
static void put_reasons(buf_t *b, const results_timing_t *t, size_t room)
{
    buf_printf(b, "\nSkipped (%zu), by reason:\n\n", t->skipped);
    buf_t item = BUF_INIT;
    size_t used = 0, shown = 0, left = t->skipped_other;
    for (; shown < t->n_reasons; shown++) {
        const results_timing_reason_t *r = &t->reasons[shown];
        buf_reset(&item);
        buf_printf(&item, "- %zu × ", r->count);
        if (*r->reason)
            report_markdown_text(&item, r->reason, RESULTS_TIMING_REASON_MAX);
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

/* Text inside raw HTML: escaped, control characters shown, first line, at
 * most max bytes (Markdown is not read inside an HTML block). */
static void put_html_text(buf_t *b, const char *s, size_t max)
{
    size_t n = strcspn(s, "\n");
    bool cut = n > max;
    size_t keep = cut ? text_utf8_prefix_len(s, n, max) : n;
    for (size_t i = 0; i < keep; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '&')
            buf_puts(b, "&amp;");
        else if (c == '<')
            buf_puts(b, "&lt;");
        else if (c == '>')
            buf_puts(b, "&gt;");
        else if (c == '"')
            buf_puts(b, "&quot;");
        else if (c < 0x20 || c == 0x7f)
            buf_printf(b, "\\x%02x", c);
        else
            buf_putc(b, (char)c);
    }
    if (cut) buf_puts(b, "...");
}

/* The job's line as HTML, for a <summary>: what report_markdown_heading
 * writes in Markdown ("**:stopwatch: label** · [job 2 of 3](url): "). */
static void put_html_heading(buf_t *b, const report_markdown_job_t *j)
{
    buf_puts(b, "<strong>:stopwatch: ");
    put_html_text(b, j->label && *j->label ? j->label : "pytest", 200);
    buf_puts(b, "</strong> · ");
    bool link = report_markdown_url_ok(j->job_url);
    if (link) buf_printf(b, "<a href=\"%s\">", j->job_url);
    if (j->job_count > 1)
        buf_printf(b, "job %ld of %ld", j->job_number, j->job_count);
    else
        buf_puts(b, "job");
    if (link) buf_puts(b, "</a>");
    if (j->retry_count > 0)
        buf_printf(b, " · attempt %ld (retry %ld)", j->retry_count + 1, j->retry_count);
    buf_puts(b, ": ");
}

static void put_time_words(buf_t *b, const results_timing_t *t, double first_s, double retries_s,
                           bool html)
{
    char *words = results_timing_words(t, first_s);
    if (html)
        put_html_text(b, words, 600);
    else
        report_markdown_text(b, words, 600);
    free(words);
    if (retries_s > 0) buf_printf(b, "; in-job retries %.1fs more", retries_s);
}

void report_timing_render(const report_markdown_job_t *j, const results_timing_t *t, double first_s,
                          double retries_s, buf_t *out)
{
    size_t start = out->len;
    size_t slow = timed_tests(t);
    bool more = slow || t->n_reasons || t->skipped_other;
    if (!more) { /* nothing to unfold: one line */
        report_markdown_heading(out, j, ":stopwatch:");
        put_time_words(out, t, first_s, retries_s, false);
        buf_putc(out, '\n');
        return;
    }
    /* The job's line is the <summary>: one line per job, its tests unfold
     * under it. A blank line ends the HTML block, so Markdown again inside. */
    buf_puts(out, "<details><summary>");
    put_html_heading(out, j);
    put_time_words(out, t, first_s, retries_s, true);
    if (t->skipped) buf_printf(out, " · %zu skipped", t->skipped);
    buf_puts(out, "</summary>\n");
    if (slow) put_slowest(out, t, slow);
    size_t used = out->len - start, tail = 200; /* "other reasons" and the closing tag */
    if (t->n_reasons || t->skipped_other)
        put_reasons(out, t, REPORT_TIMING_MAX > used + tail ? REPORT_TIMING_MAX - used - tail : 0);
    buf_puts(out, "\n</details>\n");
}
