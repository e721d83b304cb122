/* report_markdown: the Markdown a team reads on the build page, one step's
 * annotation built from its parallel jobs.
 *
 * Every job of a step appends (`buildkite-agent annotate --append`) to the
 * same contexts, so a build shows one box per step, not one per job, and a
 * Buildkite retry adds to what earlier attempts wrote instead of replacing it.
 * Two boxes, because --append with --style sets the style of the whole box:
 *   REPORT_MARKDOWN_BOX_FAILURES  style "error": only failing jobs write here, and the
 *                       retry that follows a failure ("failed on attempt 1,
 *                       passed on retry"); nothing can turn it green or yellow.
 *   REPORT_MARKDOWN_BOX_NOTES     style "warning": passing jobs with something to say
 *                       (flaky tests, muted failures, a plan or upload problem).
 * A job that passed with nothing to say writes nothing there. No job knows
 * whether it is the first to write, so each section starts with one compact
 * line naming the step label and the job. A note every job would repeat (the
 * plan fell back, the upload failed) is the step's, said once in a box of its
 * own (report_stepnote.h); each job's time goes to the step's "time" box
 * (report_timing.h).
 *
 * --append joins bodies with nothing between them, and an agent may trim
 * each body's whitespace (buildkite/feedback#391): a section that began with
 * a newline ran into the one before. So every appended body is wrapped
 * (report_markdown_wrap) between two HTML comment lines: where two sections
 * meet, "<!-- /... --><!-- ... -->" is one line, an HTML block of its own
 * that ends on that line, so each section starts a fresh block whatever
 * whitespace survives. The comments render as nothing.
 *
 * Rendering works from its own input (report_markdown_job_t), not from the run record,
 * so the record can change without touching this file. Names and reasons are
 * hostile text: node ids go verbatim into code spans whose fence is longer
 * than any backtick run inside (so `[*star*]`, `__dunder__`, `<b>` and `&amp;`
 * render literally and can be pasted into pytest); other text is backslash-
 * escaped; control characters are shown as \xNN. Each section is bounded
 * (the first items, then "and K more", saying what was cut). */
#ifndef TEP_REPORT_MARKDOWN_H
#define TEP_REPORT_MARKDOWN_H
#include <stdbool.h>
#include <stddef.h>
#include "base/buf.h"

/* Each job's section stays within this, so 50 failing jobs stay well under
 * the agent's 1 MiB body limit (which counts the whole box after --append). */
#define REPORT_MARKDOWN_SECTION_MAX (16 * 1024)

typedef struct {
    const char *id;     /* node id, or the file of a collection error */
    const char *reason; /* may be NULL; only its first line is shown */
} report_markdown_item_t;

typedef struct {
    const report_markdown_item_t *items;
    size_t len;
} report_markdown_list_t;

typedef struct {
    /* counts for the whole slice (lists may hold fewer than these) */
    size_t passed, failed, flaky, skipped, muted_failed, collection_errors;
    report_markdown_list_t failed_tests;    /* reason: first line of the failure */
    report_markdown_list_t collection_errs; /* id: the file; reason: the real cause */
    report_markdown_list_t flaky_tests;
    report_markdown_list_t muted_failures;
    long job_number, job_count; /* one-based */
    long retry_count;           /* BUILDKITE_RETRY_COUNT */
    bool retry_of_failure;      /* this attempt ran the previous one's failures */
    const char *label;          /* BUILDKITE_LABEL; may be NULL or "" */
    const char *job_url;        /* link to this job's log; may be NULL */
    int exit_status;
    bool terminal;        /* a retry cannot fix it */
    const char *why;      /* one line on the outcome; may be NULL */
    const char *run_url;  /* Test Engine run; may be NULL */
    const char *launcher; /* "python3 -m pytest", for the reproduce command */
} report_markdown_job_t;

typedef enum {
    REPORT_MARKDOWN_BOX_NONE,
    REPORT_MARKDOWN_BOX_FAILURES,
    REPORT_MARKDOWN_BOX_NOTES
} report_markdown_box_t;

/* Where this job's section goes (NONE: it has nothing to say). */
report_markdown_box_t report_markdown_box(const report_markdown_job_t *j);
/* The --style for a box ("error" or "warning"). */
const char *report_markdown_box_style(report_markdown_box_t box);
/* The --context for a box: "test-engine-pytest-<step>" (+ "-notes"). Caller frees. */
char *report_markdown_box_context(const char *step_id, report_markdown_box_t box);
/* The job's section, at most `max` bytes (max >= 1024). */
void report_markdown_render_section(const report_markdown_job_t *j, size_t max, buf_t *out);
/* The short line added after the upload: the Test Engine run of a failing
 * job. Empty when there is nothing to add. */
void report_markdown_render_upload(const report_markdown_job_t *j, buf_t *out);
/* body, made a self-contained piece of the box (see above): out gets
 * "<!-- test-engine-pytest: job I of N -->", a blank line, the body without
 * its leading and trailing newlines, a blank line, the closing comment. */
void report_markdown_wrap(const report_markdown_job_t *j, const buf_t *body, buf_t *out);
/* "**<icon> <label>** · [job 2 of 3](url) · attempt 2 (retry 1): " */
void report_markdown_heading(buf_t *b, const report_markdown_job_t *j, const char *icon);
/* The line that replaces a section the agent refused (the box is full). */
void report_markdown_render_overflow(const report_markdown_job_t *j, buf_t *out);

/* Building blocks (exposed for the unit tests). */
/* `s` as one code span: a fence longer than any backtick run in s, padded
 * with spaces when s starts or ends with a backtick or a space. */
void report_markdown_code_span(buf_t *b, const char *s);
/* Plain inline text: first line only, at most max bytes of it ("..." when
 * cut), Markdown punctuation backslash-escaped, control characters \xNN. */
void report_markdown_text(buf_t *b, const char *s, size_t max);
/* Whether url can be a link target as is: https://, and no space, control
 * character or byte that could end the link, the table cell or the HTML
 * attribute it sits in (the agent's URLs never have one). */
bool report_markdown_url_ok(const char *url);
/* One shell word: as is when it is plainly safe, else in single quotes. */
void report_markdown_shell_word(buf_t *b, const char *s);
/* The launcher of a command template: the words before {{testExamples}}
 * without the result-path option, each shell-quoted. "pytest" when the
 * template has none. Caller frees. */
char *report_markdown_launcher(const char *test_cmd);

#endif
