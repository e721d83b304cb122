#include "report/report_markdown.h"
#include "base/text.h"
#include "base/log.h"
#include "base/strlist.h"
#include "config/template.h"
#include <stdlib.h>
#include <string.h>

/* Room kept for one "and K more" line per list, the reproduce command and the
 * closing lines, so cutting the lists is all it takes to stay under `max`. */
#define MORE_LINE_MAX 200
#define ID_MAX        1000 /* a longer node id is cut (and then not pasteable) */
#define REASON_MAX    300
#define REPRODUCE_IDS 5
#define REPRODUCE_MAX 2048
#define NOTES_MAX     (4 * 1024) /* a passing job's notes stay short */

/* ---------------------------------------------------------------- inline pieces */

/* Control characters (C0, DEL, C1) as \xNN, as the log shows them. */
static char *visible_text(const char *s, size_t max, bool *cut)
{
    buf_t b = BUF_INIT;
    size_t n = strlen(s);
    *cut = n > max;
    char *head = xstrndup(s, text_utf8_prefix_len(s, n, max));
    log_escape(&b, head);
    free(head);
    return buf_detach(&b);
}

void report_markdown_code_span(buf_t *b, const char *s)
{
    bool cut;
    char *text = visible_text(s, ID_MAX, &cut);
    size_t longest = 0, run = 0;
    for (const char *p = text; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        if (run > longest) longest = run;
    }
    size_t len = strlen(text);
    /* CommonMark strips one space from each end when both ends have one, and
     * a backtick next to the fence would join it: pad both ends then. */
    bool pad =
        len && (text[0] == '`' || text[0] == ' ' || text[len - 1] == '`' || text[len - 1] == ' ');
    for (size_t i = 0; i <= longest; i++) buf_putc(b, '`');
    if (pad) buf_putc(b, ' ');
    buf_puts(b, text);
    if (pad) buf_putc(b, ' ');
    for (size_t i = 0; i <= longest; i++) buf_putc(b, '`');
    if (cut) buf_puts(b, " (cut)");
    free(text);
}

/* Markdown and HTML punctuation that could start emphasis, code, links,
 * raw HTML, entities, tables, strikethrough or headings. Backslash-escaping
 * any ASCII punctuation is always literal in CommonMark. */
static bool md_special(char c)
{
    return c && strchr("\\`*_[]<>&|~!#$", c) != NULL;
}

void report_markdown_text(buf_t *b, const char *s, size_t max)
{
    if (!s) return;
    const char *nl = strchr(s, '\n');
    size_t n = nl ? (size_t)(nl - s) : strlen(s);
    char *line = xstrndup(s, n);
    bool cut;
    char *text = visible_text(line, max, &cut);
    for (const char *p = text; *p; p++) {
        if (md_special(*p)) buf_putc(b, '\\');
        buf_putc(b, *p);
    }
    if (cut) buf_puts(b, "...");
    free(text);
    free(line);
}

static bool shell_safe(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("-_./=:,+@%", c);
}

void report_markdown_shell_word(buf_t *b, const char *s)
{
    bool safe = *s != '\0';
    for (const char *p = s; *p && safe; p++) safe = shell_safe(*p);
    if (safe) {
        buf_puts(b, s);
        return;
    }
    buf_putc(b, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            buf_puts(b, "'\\''");
        else
            buf_putc(b, *p);
    }
    buf_putc(b, '\'');
}

static bool is_result_option(const char *w)
{
    return strcmp(w, "--json") == 0 || strcmp(w, "--junit-xml") == 0 ||
           strcmp(w, "--junitxml") == 0;
}

char *report_markdown_launcher(const char *test_cmd)
{
    strlist_t words = STRLIST_INIT;
    char *err = NULL;
    if (test_cmd && *test_cmd) template_launcher(test_cmd, &words, &err);
    free(err);
    size_t n = words.len;
    if (n && is_result_option(words.items[n - 1])) n--; /* "--json {{resultPath}}" */
    buf_t b = BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (i) buf_putc(&b, ' ');
        report_markdown_shell_word(&b, words.items[i]);
    }
    strlist_free(&words);
    if (!b.len) buf_puts(&b, "pytest");
    return buf_detach(&b);
}

/* ---------------------------------------------------------------- where it goes */

static bool job_failed(const report_markdown_job_t *j)
{
    return j->exit_status != 0;
}

/* A plan or upload problem is the step's, said once in a note of its own
 * (report_stepnote.h), not in every job's section. */
static bool has_notes(const report_markdown_job_t *j)
{
    return j->flaky || j->muted_failed;
}

report_markdown_box_t report_markdown_box(const report_markdown_job_t *j)
{
    /* A retry after failures reports its outcome next to them, in the red
     * box, even when it passed: "failed on attempt 1, passed on retry". */
    if (job_failed(j) || (j->retry_count > 0 && j->retry_of_failure))
        return REPORT_MARKDOWN_BOX_FAILURES;
    return has_notes(j) ? REPORT_MARKDOWN_BOX_NOTES : REPORT_MARKDOWN_BOX_NONE;
}

const char *report_markdown_box_style(report_markdown_box_t box)
{
    return box == REPORT_MARKDOWN_BOX_FAILURES ? "error" : "warning";
}

char *report_markdown_box_context(const char *step_id, report_markdown_box_t box)
{
    /* A step id is a UUID (36 characters): well within the 100-character limit.
     * Anything longer is cut, so the context stays valid. */
    const char *id = step_id && *step_id ? step_id : "local";
    return xasprintf("test-engine-pytest-%.64s%s", id,
                     box == REPORT_MARKDOWN_BOX_NOTES ? "-notes" : "");
}

/* ---------------------------------------------------------------- the section */

bool report_markdown_url_ok(const char *url)
{
    if (!url || strncmp(url, "https://", 8) != 0) return false;
    for (const unsigned char *c = (const unsigned char *)url; *c; c++)
        if (*c <= 0x20 || *c == 0x7f || strchr("()<>[]\"'`\\|&", *c)) return false;
    return true;
}

static void put_job_link(buf_t *b, const report_markdown_job_t *j)
{
    bool link = report_markdown_url_ok(j->job_url);
    if (link) buf_putc(b, '[');
    if (j->job_count > 1)
        buf_printf(b, "job %ld of %ld", j->job_number, j->job_count);
    else
        buf_puts(b, "job");
    if (link) buf_printf(b, "](%s)", j->job_url);
}

void report_markdown_wrap(const report_markdown_job_t *j, const buf_t *body, buf_t *out)
{
    size_t n = body->len;
    while (n && (body->data[n - 1] == '\n' || body->data[n - 1] == ' ')) n--;
    size_t start = 0;
    while (start < n && body->data[start] == '\n') start++;
    buf_printf(out, "<!-- test-engine-pytest: job %ld of %ld -->\n\n", j->job_number, j->job_count);
    buf_append(out, body->data + start, n - start);
    buf_puts(out, "\n\n<!-- /test-engine-pytest -->\n");
}

/* One line that names the step and the job, since no job knows whether its
 * section is the first in the box: "**:x: Unit tests** · job 2 of 3 · attempt 2 (retry 1)". */
void report_markdown_heading(buf_t *b, const report_markdown_job_t *j, const char *icon)
{
    buf_printf(b, "**%s ", icon);
    if (j->label && *j->label)
        report_markdown_text(b, j->label, 200);
    else
        buf_puts(b, "pytest");
    buf_puts(b, "** · ");
    put_job_link(b, j);
    if (j->retry_count > 0)
        buf_printf(b, " · attempt %ld (retry %ld)", j->retry_count + 1, j->retry_count);
    buf_puts(b, ": ");
}

static void put_counts(buf_t *b, const report_markdown_job_t *j)
{
    struct {
        size_t n;
        const char *one, *many;
    } parts[] = {
        {j->failed, "failed", "failed"},
        {j->collection_errors, "collection error", "collection errors"},
        {j->passed, "passed", "passed"},
        {j->flaky, "flaky", "flaky"},
        {j->muted_failed, "muted failure", "muted failures"},
        {j->skipped, "skipped", "skipped"},
    };
    bool first = true;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (!parts[i].n && i != 2) continue;
        buf_printf(b, "%s%zu %s", first ? "" : " · ", parts[i].n,
                   parts[i].n == 1 ? parts[i].one : parts[i].many);
        first = false;
    }
}

static void put_item(buf_t *b, const report_markdown_item_t *it, bool reason)
{
    buf_puts(b, "- ");
    report_markdown_code_span(b, it->id ? it->id : "?");
    if (reason && it->reason && *it->reason) {
        buf_puts(b, ": ");
        report_markdown_text(b, it->reason, REASON_MAX);
    }
    buf_putc(b, '\n');
}

/* A titled list, items while they fit within `room` bytes, then a line on
 * what was cut. `total` may exceed l->len (the record kept only the first). */
static void put_list(buf_t *b, const char *title, const report_markdown_list_t *l, size_t total,
                     bool reasons, size_t room)
{
    if (!total) return;
    size_t start = b->len;
    buf_printf(b, "\n%s (%zu):\n\n", title, total);
    buf_t item = BUF_INIT;
    size_t shown = 0;
    for (; shown < l->len; shown++) {
        buf_reset(&item);
        put_item(&item, &l->items[shown], reasons);
        if (b->len - start + item.len > room) break;
        buf_append(b, item.data, item.len);
    }
    buf_free(&item);
    if (shown < total)
        buf_printf(b,
                   "- ... and %zu more, not shown to keep the annotation small: see the job log\n",
                   total - shown);
}

/* "Reproduce locally: `python3 -m pytest 'a::b' 'c'`": the first few failures. */
static void put_reproduce(buf_t *b, const report_markdown_job_t *j)
{
    buf_t cmd = BUF_INIT;
    buf_puts(&cmd, j->launcher && *j->launcher ? j->launcher : "pytest");
    const report_markdown_list_t *lists[] = {&j->collection_errs, &j->failed_tests};
    size_t n = 0;
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < lists[k]->len && n < REPRODUCE_IDS; i++) {
            const char *id = lists[k]->items[i].id;
            if (!id || strlen(id) > ID_MAX || cmd.len + strlen(id) + 8 > REPRODUCE_MAX) continue;
            bool control = false;
            for (const char *p = id; *p; p++) control |= (unsigned char)*p < 0x20 || *p == 0x7f;
            if (control) continue; /* not pasteable as shown */
            buf_putc(&cmd, ' ');
            /* pytest loads a conftest.py for the tests below it, not as an argument */
            size_t len = strlen(id);
            bool conftest = len >= 11 && strcmp(id + len - 11, "conftest.py") == 0 &&
                            (len == 11 || id[len - 12] == '/');
            char *word = conftest ? xstrndup(id, len > 11 ? len - 12 : 0) : xstrdup(id);
            report_markdown_shell_word(&cmd, *word ? word : ".");
            free(word);
            n++;
        }
    }
    if (n) {
        buf_puts(b, "\nReproduce locally: ");
        report_markdown_code_span(b, cmd.data);
        buf_putc(b, '\n');
    }
    buf_free(&cmd);
}

static const char *outcome_words(const report_markdown_job_t *j)
{
    if (!job_failed(j))
        return j->retry_of_failure ? "failed on the previous attempt, passed on retry" : "passed";
    return j->retry_of_failure ? "failed again on retry" : "failed";
}

/* The tail (reproduce command, problems) is built first, so the lists get
 * whatever room is left and the whole stays within max. */
void report_markdown_render_section(const report_markdown_job_t *j, size_t max, buf_t *out)
{
    bool failed = job_failed(j);
    buf_t head = BUF_INIT, tail = BUF_INIT, lists = BUF_INIT;
    report_markdown_heading(&head, j,
                            failed                ? ":x:"
                            : j->retry_of_failure ? ":white_check_mark:"
                                                  : ":warning:");
    buf_puts(&head, outcome_words(j));
    if (failed) buf_printf(&head, " (exit status %d)", j->exit_status);
    buf_puts(&head, "\n\n");
    if (failed && j->why && *j->why) {
        if (j->terminal) buf_puts(&head, "**Not retried:** ");
        report_markdown_text(&head, j->why, 500);
        buf_puts(&head, "  \n");
    }
    put_counts(&head, j);
    buf_putc(&head, '\n');

    if (failed) put_reproduce(&tail, j);

    size_t limit = failed ? max : (max < NOTES_MAX ? max : NOTES_MAX);
    size_t fixed = head.len + tail.len + 4 * MORE_LINE_MAX;
    size_t room = limit > fixed ? limit - fixed : 0;
    /* Shared room, in reading order: what a team acts on first gets it first. */
    struct {
        const char *title;
        const report_markdown_list_t *l;
        size_t total;
        bool reasons;
    } parts[] = {
        {"Collection errors", &j->collection_errs, j->collection_errors, true},
        {"Failed tests", &j->failed_tests, j->failed, true},
        {"Flaky tests (failed, then passed on an in-job retry)", &j->flaky_tests, j->flaky, false},
        {"Muted tests that failed (not counted as failures)", &j->muted_failures, j->muted_failed,
         true},
    };
    for (size_t i = 0; i < 4; i++) {
        size_t used = lists.len; /* every list so far */
        put_list(&lists, parts[i].title, parts[i].l, parts[i].total, parts[i].reasons,
                 room > used ? room - used : 0);
    }
    buf_append(out, head.data ? head.data : "", head.len);
    buf_append(out, lists.data ? lists.data : "", lists.len);
    buf_append(out, tail.data ? tail.data : "", tail.len);
    buf_free(&head);
    buf_free(&lists);
    buf_free(&tail);
}

void report_markdown_render_upload(const report_markdown_job_t *j, buf_t *out)
{
    bool run_link = report_markdown_url_ok(j->run_url);
    if (!(job_failed(j) && run_link)) return;
    report_markdown_heading(out, j, ":link:");
    buf_printf(out, "results in [Test Engine](%s)", j->run_url);
    buf_putc(out, '\n');
}

void report_markdown_render_overflow(const report_markdown_job_t *j, buf_t *out)
{
    report_markdown_heading(out, j, job_failed(j) ? ":x:" : ":warning:");
    buf_puts(out, outcome_words(j));
    buf_puts(out, " (");
    put_counts(out, j);
    buf_puts(out, "); the annotation is full, details are in the job log\n");
}
