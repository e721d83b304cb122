/* report_jobtable: see report_jobtable.h for the contract and the why. */
#include "report/report_jobtable.h"
#include "report/report_markdown.h"
#include <stdlib.h>
#include <string.h>

#define KEY_HEAD    "test-engine-pytest:time:"
#define STEP_MAX    64
#define NUMBER_MAX  12 /* digits of a field: ~31 years in ms, and more tests than exist */
#define LABEL_SHOWN 200

/* What a job id keeps in a key: [A-Za-z0-9-]. */
static bool job_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/* The step id as keys and contexts carry it: [A-Za-z0-9_-], at most STEP_MAX. */
static void put_step(buf_t *b, const char *step_id)
{
    const char *id = step_id && *step_id ? step_id : "local";
    for (size_t i = 0; id[i] && i < STEP_MAX; i++) buf_putc(b, job_id_char(id[i]) ? id[i] : '_');
}

char *report_jobtable_context(const char *step_id)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, "test-engine-pytest-");
    put_step(&b, step_id);
    buf_puts(&b, "-jobs"); /* 19 + 64 + 5 = 88 characters at most: the agent allows 100 */
    return buf_detach(&b);
}

#define NUMBER_TOP 999999999999L /* the most a field's NUMBER_MAX digits hold */

/* A field as a key carries it: within what the parse takes back. */
static long bounded(long v)
{
    return v > NUMBER_TOP ? NUMBER_TOP : v;
}

static void put_ms(buf_t *b, long ms)
{
    if (ms < 0)
        buf_putc(b, '-');
    else
        buf_printf(b, "%ld", bounded(ms));
}

void report_jobtable_set_job_id(report_jobtable_row_t *row, const char *id)
{
    size_t n = 0;
    for (size_t i = 0; id && id[i] && n < REPORT_JOBTABLE_JOB_ID; i++)
        if (job_id_char(id[i])) row->job_id[n++] = id[i];
    row->job_id[n] = '\0';
}

char *report_jobtable_key(const char *step_id, const report_jobtable_row_t *row)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, KEY_HEAD);
    put_step(&b, step_id);
    buf_printf(&b, ":%ld:%ld:", bounded(row->job), bounded(row->retry));
    put_ms(&b, row->estimate_ms);
    buf_putc(&b, ':');
    put_ms(&b, row->took_ms);
    long tests = bounded(row->tests);
    buf_printf(&b, ":%ld:%ld:%c:", tests, row->failed > tests ? tests : row->failed, row->plan);
    for (size_t i = 0; row->job_id[i] && i < REPORT_JOBTABLE_JOB_ID; i++)
        if (job_id_char(row->job_id[i])) buf_putc(&b, row->job_id[i]);
    return buf_detach(&b);
}

/* ---- reading the key list ---- */

/* A field of digits (or "-" when dash_ok: -1) ending at ':' or the line's
 * end; advances *p past the ':'. */
static bool take_number(const char **p, const char *end, bool dash_ok, long *out)
{
    const char *s = *p;
    if (dash_ok && s < end && *s == '-' && (s + 1 == end || s[1] == ':')) {
        *out = -1;
        *p = s + 1 < end ? s + 2 : end;
        return s + 1 < end;
    }
    long v = 0;
    size_t digits = 0;
    for (; s < end && *s >= '0' && *s <= '9'; s++, digits++) {
        if (digits == NUMBER_MAX) return false;
        v = v * 10 + (*s - '0');
    }
    if (digits == 0 || s == end || *s != ':') return false;
    *out = v;
    *p = s + 1;
    return true;
}

/* One line: the row when it is exactly one of this step's keys. */
static bool parse_line(const char *line, const char *end, const char *head, size_t head_len,
                       long job_count, report_jobtable_row_t *row)
{
    if ((size_t)(end - line) <= head_len || memcmp(line, head, head_len) != 0) return false;
    const char *p = line + head_len;
    memset(row, 0, sizeof *row);
    if (!take_number(&p, end, false, &row->job) || !take_number(&p, end, false, &row->retry) ||
        !take_number(&p, end, true, &row->estimate_ms) ||
        !take_number(&p, end, true, &row->took_ms) || !take_number(&p, end, false, &row->tests) ||
        !take_number(&p, end, false, &row->failed))
        return false;
    if (row->job >= job_count || row->failed > row->tests) return false;
    if (end - p < 2 || !strchr("slr", *p) || *p == '\0' || p[1] != ':') return false;
    row->plan = *p;
    p += 2;
    size_t n = (size_t)(end - p);
    if (n > REPORT_JOBTABLE_JOB_ID) return false;
    for (size_t i = 0; i < n; i++)
        if (!job_id_char(p[i])) return false;
    memcpy(row->job_id, p, n);
    row->job_id[n] = '\0';
    return true;
}

/* One more attempt of have's job: the earliest attempt keeps the row, the
 * latest is said beside it. */
static void combine(report_jobtable_row_t *have, const report_jobtable_row_t *in)
{
    if (in->retry < have->retry) {
        report_jobtable_row_t was = *have;
        bool was_later = was.later_retry > was.retry;
        *have = *in;
        have->later_retry = was_later ? was.later_retry : was.retry;
        have->later_took_ms = was_later ? was.later_took_ms : was.took_ms;
        have->later_failed = was_later ? was.later_failed : was.failed;
        have->later_plan = was_later ? was.later_plan : was.plan;
    } else if (in->retry > have->retry && in->retry > have->later_retry) {
        have->later_retry = in->retry;
        have->later_took_ms = in->took_ms;
        have->later_failed = in->failed;
        have->later_plan = in->plan;
    }
}

static int by_job(const void *a, const void *b)
{
    const report_jobtable_row_t *x = a, *y = b;
    return (x->job > y->job) - (x->job < y->job);
}

size_t report_jobtable_parse(const char *step_id, const char *keys, size_t len, long job_count,
                             report_jobtable_row_t *rows)
{
    if (job_count <= 0) return 0;
    if (job_count > REPORT_JOBTABLE_MAX_JOBS) job_count = REPORT_JOBTABLE_MAX_JOBS;
    buf_t head = BUF_INIT;
    buf_puts(&head, KEY_HEAD);
    put_step(&head, step_id);
    buf_putc(&head, ':');
    /* slot[job]: 1 + its row's place, 0 when not seen */
    size_t *slot = xcalloc((size_t)job_count, sizeof *slot);
    size_t n = 0;
    const char *end = keys + len;
    for (const char *line = keys; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *stop = nl ? nl : end;
        const char *cut = stop > line && stop[-1] == '\r' ? stop - 1 : stop;
        report_jobtable_row_t row;
        if (parse_line(line, cut, head.data, head.len, job_count, &row)) {
            size_t *s = &slot[row.job];
            if (!*s) {
                rows[n] = row;
                *s = ++n;
            } else {
                combine(&rows[*s - 1], &row);
            }
        }
        line = nl ? nl + 1 : end;
    }
    free(slot);
    buf_free(&head);
    qsort(rows, n, sizeof *rows, by_job);
    return n;
}

size_t report_jobtable_merge(report_jobtable_row_t *rows, size_t n,
                             const report_jobtable_row_t *mine)
{
    size_t at = 0;
    while (at < n && rows[at].job < mine->job) at++;
    if (at < n && rows[at].job == mine->job) {
        if (mine->retry == rows[at].retry) { /* this very attempt: its own numbers */
            report_jobtable_row_t was = rows[at];
            rows[at] = *mine;
            rows[at].later_retry = was.later_retry;
            rows[at].later_took_ms = was.later_took_ms;
            rows[at].later_failed = was.later_failed;
            rows[at].later_plan = was.later_plan;
        } else {
            combine(&rows[at], mine);
        }
        return n;
    }
    memmove(rows + at + 1, rows + at, (n - at) * sizeof *rows);
    rows[at] = *mine;
    return n + 1;
}

size_t report_jobtable_local(const report_jobtable_row_t *rows, size_t n)
{
    size_t local = 0;
    for (size_t i = 0; i < n; i++)
        local += rows[i].plan == 'l' ||
                 (rows[i].later_retry > rows[i].retry && rows[i].later_plan == 'l');
    return local;
}

/* ---- the box ---- */

static void put_time(buf_t *b, long ms)
{
    if (ms < 0)
        buf_puts(b, "–");
    else if (ms < 1000)
        buf_printf(b, "%ldms", ms);
    else if (ms < 60000)
        buf_printf(b, "%.1fs", (double)ms / 1000);
    else
        buf_printf(b, "%ldm %02lds", ms / 60000, ms / 1000 % 60);
}

static const char *plan_words(char plan)
{
    return plan == 's' ? "Test Engine" : plan == 'r' ? "retry of failures" : "planned locally";
}

static void put_job_cell(buf_t *b, const char *build_url, const report_jobtable_row_t *r,
                         long job_count)
{
    bool link = *r->job_id && report_markdown_url_ok(build_url);
    if (link) buf_putc(b, '[');
    buf_printf(b, "%ld of %ld", r->job + 1, job_count);
    if (link) buf_printf(b, "](%s#%s)", build_url, r->job_id);
    if (r->retry > 0) buf_printf(b, " (retry %ld)", r->retry);
}

static void put_row(buf_t *b, const char *build_url, const report_jobtable_row_t *r, long count)
{
    buf_puts(b, "| ");
    put_job_cell(b, build_url, r, count);
    buf_printf(b, " | %s | ", plan_words(r->plan));
    put_time(b, r->estimate_ms);
    buf_puts(b, " | ");
    put_time(b, r->took_ms);
    buf_puts(b, " | ");
    if (r->estimate_ms > 0 && r->took_ms >= 0)
        buf_printf(b, "%+.0f%%",
                   100.0 * (double)(r->took_ms - r->estimate_ms) / (double)r->estimate_ms);
    else
        buf_puts(b, "–");
    buf_printf(b, " | %ld", r->tests);
    if (r->failed) buf_printf(b, ", %ld failed", r->failed);
    if (r->later_retry > r->retry) {
        buf_printf(b, "; retry %ld: ", r->later_retry);
        if (r->later_failed)
            buf_printf(b, "%ld failed", r->later_failed);
        else
            buf_puts(b, "passed");
        buf_puts(b, " (");
        put_time(b, r->later_took_ms);
        buf_putc(b, ')');
    }
    buf_puts(b, " |\n");
}

/* The slowest and quickest jobs that ran: the step waits for the slowest. */
static void put_spread(buf_t *b, const report_jobtable_row_t *rows, size_t n, long count)
{
    const report_jobtable_row_t *slow = NULL, *quick = NULL;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].took_ms < 0) continue;
        if (!slow || rows[i].took_ms > slow->took_ms) slow = &rows[i];
        if (!quick || rows[i].took_ms < quick->took_ms) quick = &rows[i];
    }
    if (!slow || slow == quick) return;
    buf_printf(b, "\nSlowest job: %ld of %ld, ", slow->job + 1, count);
    put_time(b, slow->took_ms);
    buf_printf(b, "; quickest: %ld of %ld, ", quick->job + 1, count);
    put_time(b, quick->took_ms);
    buf_puts(b, ". The step waits for the slowest.\n");
}

void report_jobtable_render(const char *label, const char *build_url, long job_count,
                            const report_jobtable_row_t *rows, size_t n, buf_t *out)
{
    buf_puts(out, "**:stopwatch: ");
    if (label && *label)
        report_markdown_text(out, label, LABEL_SHOWN);
    else
        buf_puts(out, "pytest");
    buf_printf(out, " · the split, job by job** (%zu of %ld job%s reported)\n\n", n, job_count,
               job_count == 1 ? "" : "s");
    buf_puts(out, "| job | plan | estimated | took | vs estimate | tests |\n"
                  "|---|---|--:|--:|--:|--:|\n");
    size_t at = 0;
    for (long job = 0; job < job_count && job < REPORT_JOBTABLE_MAX_JOBS; job++) {
        if (at < n && rows[at].job == job) {
            put_row(out, build_url, &rows[at++], job_count);
            continue;
        }
        buf_printf(out, "| %ld of %ld | not reported yet | – | – | – | – |\n", job + 1, job_count);
    }
    put_spread(out, rows, n, job_count);
    size_t local = report_jobtable_local(rows, n);
    if (local)
        buf_printf(out,
                   "\n%zu of %ld jobs planned locally: Test Engine's plan was not used "
                   "(the step's note says why).\n",
                   local, job_count);
}
