/* report_stepnote: see report_stepnote.h for the contract and the why. */
#include "report/report_stepnote.h"
#include "base/compat.h"
#include "report/report_markdown.h"
#include "base/strset.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define WHY_MAX 500 /* bytes of a reason shown */

char *report_stepnote_context(const char *step_id, const char *kind, const char *text)
{
    /* The details vary between jobs meeting one outage ("(1 attempt, last error: HTTP
     * 503)", "(2 attempts, ...)"): the text before them, digits aside, names it. */
    buf_t key = BUF_INIT;
    buf_puts(&key, kind);
    buf_putc(&key, '\x1f');
    for (const char *p = text; *p && *p != '('; p++)
        buf_putc(&key, *p >= '0' && *p <= '9' ? '#' : *p);
    uint64_t h = strset_hash(buf_str(&key));
    buf_free(&key);
    const char *id = step_id && *step_id ? step_id : "local";
    /* 19 + 56 + 6 + 12 = 93 characters at most: the agent's limit is 100 */
    return xasprintf("test-engine-pytest-%.56s-note-%012" PRIx64, id,
                     (uint64_t)(h & 0xffffffffffffULL));
}

static void put_title(buf_t *b, const char *label, const char *what)
{
    buf_puts(b, "**:warning: ");
    if (label && *label)
        report_markdown_text(b, label, 200);
    else
        buf_puts(b, "pytest");
    buf_printf(b, " · %s**\n\n", what);
}

void report_stepnote_plan(const char *step_id, const char *label, const char *reason,
                          size_t local_jobs, long job_count, report_stepnote_t *out)
{
    buf_init(&out->body);
    out->context = report_stepnote_context(step_id, "plan", reason);
    if (local_jobs && job_count > 1) {
        /* The count is what the build's meta-data held when this job read
         * it (report_stepnote.h: a job that read early may write last). */
        char *what =
            xasprintf("%zu of %ld jobs split locally, not by Test Engine", local_jobs, job_count);
        put_title(&out->body, label, what);
        free(what);
    } else {
        put_title(&out->body, label, "split locally, not by Test Engine");
    }
    buf_puts(&out->body, "Test Engine's plan API could not be used: ");
    report_markdown_text(&out->body, reason, WHY_MAX);
    buf_puts(&out->body,
             "  \nThe jobs that met this planned the split themselves, the same on each job "
             "(longest first over the durations file, else round-robin by name); it may be less "
             "balanced than Test Engine's. Each job's log says how its plan was made.\n");
}

/* Why the upload fell short, in words that hold for every job it happened to:
 * report_upload_shortfall's line also counts this job's results. */
static char *upload_why(const report_upload_summary_t *up)
{
    const char *last = up->last_error ? up->last_error : up->first_error ? up->first_error : "";
    switch (up->end) {
    case REPORT_UPLOAD_STOPPED_AUTH:
        return xasprintf("the upload API refused the token (%s); check BUILDKITE_ANALYTICS_TOKEN",
                         last);
    case REPORT_UPLOAD_STOPPED_TLS: return xasprintf("the upload stopped: %s", last);
    case REPORT_UPLOAD_STOPPED_BUDGET:
        return xasprintf("the upload retry budget ran out (last error: %s)", last);
    case REPORT_UPLOAD_STOPPED_SIGNAL: {
        const char *abbrev = compat_sigabbrev(up->signal);
        return abbrev ? xasprintf("the upload was interrupted by SIG%s", abbrev)
                      : xasprintf("the upload was interrupted by signal %d", up->signal);
    }
    case REPORT_UPLOAD_STOPPED_UNREACHABLE:
        return xasprintf("the upload API was unreachable (%s)", last);
    case REPORT_UPLOAD_STOPPED_TIME: return xstrdup("the upload's time limit was reached");
    case REPORT_UPLOAD_DONE: break;
    }
    if (up->failed_requests) return xasprintf("some upload requests failed (last error: %s)", last);
    if (up->records < up->total) return xstrdup("not every result was sent");
    return NULL;
}

bool report_stepnote_upload(const char *step_id, const char *label,
                            const report_upload_summary_t *up, report_stepnote_t *out)
{
    memset(out, 0, sizeof *out);
    char *why = upload_why(up);
    if (!why) return false;
    buf_init(&out->body);
    out->context = report_stepnote_context(step_id, "upload", why);
    put_title(&out->body, label, "results not all uploaded to Test Engine");
    buf_puts(&out->body, "Upload: ");
    report_markdown_text(&out->body, why, WHY_MAX);
    buf_puts(&out->body, "  \nThe tests ran and the jobs' statuses are their own; each job's log "
                         "says how many of its results were sent.\n");
    free(why);
    return true;
}

void report_stepnote_free(report_stepnote_t *n)
{
    free(n->context);
    buf_free(&n->body);
    memset(n, 0, sizeof *n);
}
