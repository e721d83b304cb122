/* annotation_md: the Markdown a team reads on the build page, one step's
 * annotation built from its parallel jobs.
 *
 * Every job of a step appends (`buildkite-agent annotate --append`) to the
 * same contexts, so a build shows one box per step, not one per job, and a
 * Buildkite retry adds to what earlier attempts wrote instead of replacing it.
 * Two boxes, because --append with --style sets the style of the whole box:
 *   ANNOT_BOX_FAILURES  style "error": only failing jobs write here, and the
 *                       retry that follows a failure ("failed on attempt 1,
 *                       passed on retry"); nothing can turn it green or yellow.
 *   ANNOT_BOX_NOTES     style "warning": passing jobs with something to say
 *                       (flaky tests, muted failures, a plan or upload problem).
 * A job that passed with nothing to say writes nothing: an all-green step has
 * no box at all. No job knows whether it is the first to write, so each
 * section starts with one compact line naming the step label and the job.
 *
 * Rendering works from its own input (annot_job_t), not from the run record,
 * so the record can change without touching this file. Names and reasons are
 * hostile text: node ids go verbatim into code spans whose fence is longer
 * than any backtick run inside (so `[*star*]`, `__dunder__`, `<b>` and `&amp;`
 * render literally and can be pasted into pytest); other text is backslash-
 * escaped; control characters are shown as \xNN. Each section is bounded
 * (the first items, then "and K more", saying what was cut). */
#ifndef TEP_ANNOTATION_MD_H
#define TEP_ANNOTATION_MD_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"

/* Each job's section stays within this, so 50 failing jobs stay well under
 * the agent's 1 MiB body limit (which counts the whole box after --append). */
#define ANNOT_SECTION_MAX (16 * 1024)

typedef struct {
    const char *id;         /* node id, or the file of a collection error */
    const char *reason;     /* may be NULL; only its first line is shown */
} annot_item_t;

typedef struct {
    const annot_item_t *items;
    size_t len;
} annot_list_t;

typedef struct {
    /* counts for the whole slice (lists may hold fewer than these) */
    size_t passed, failed, flaky, skipped, muted_failed, collection_errors;
    annot_list_t failed_tests;      /* reason: first line of the failure */
    annot_list_t collection_errs;   /* id: the file; reason: the real cause */
    annot_list_t flaky_tests;
    annot_list_t muted_failures;
    long job_number, job_count;     /* one-based */
    long retry_count;               /* BUILDKITE_RETRY_COUNT */
    bool retry_of_failure;          /* this attempt ran the previous one's failures */
    const char *label;              /* BUILDKITE_LABEL; may be NULL or "" */
    const char *job_url;            /* link to this job's log; may be NULL */
    int exit_status;
    bool terminal;                  /* a retry cannot fix it */
    const char *why;                /* one line on the outcome; may be NULL */
    const char *plan_problem;       /* NULL when the plan came as expected */
    const char *upload_problem;     /* NULL when the upload went fine (or did not run) */
    const char *run_url;            /* Test Engine run; may be NULL */
    const char *launcher;           /* "python3 -m pytest", for the reproduce command */
} annot_job_t;

typedef enum { ANNOT_BOX_NONE, ANNOT_BOX_FAILURES, ANNOT_BOX_NOTES } annot_box_t;

/* Where this job's section goes (NONE: it has nothing to say). */
annot_box_t annot_box(const annot_job_t *j);
/* The --style for a box ("error" or "warning"). */
const char *annot_box_style(annot_box_t box);
/* The --context for a box: "test-engine-pytest-<step>" (+ "-notes"). Caller frees. */
char *annot_box_context(const char *step_id, annot_box_t box);
/* The job's section, at most `max` bytes (max >= 1024). */
void annot_render_section(const annot_job_t *j, size_t max, buf_t *out);
/* The short line added after the upload: a problem, or the Test Engine run of
 * a failing job. Empty when there is nothing to add. */
void annot_render_upload(const annot_job_t *j, buf_t *out);
/* The line that replaces a section the agent refused (the box is full). */
void annot_render_overflow(const annot_job_t *j, buf_t *out);

/* Building blocks (exposed for the unit tests). */
/* `s` as one code span: a fence longer than any backtick run in s, padded
 * with spaces when s starts or ends with a backtick or a space. */
void annot_code_span(buf_t *b, const char *s);
/* Plain inline text: first line only, at most max bytes of it ("..." when
 * cut), Markdown punctuation backslash-escaped, control characters \xNN. */
void annot_text(buf_t *b, const char *s, size_t max);
/* One shell word: as is when it is plainly safe, else in single quotes. */
void annot_shell_word(buf_t *b, const char *s);
/* The launcher of a command template: the words before {{testExamples}}
 * without the result-path option, each shell-quoted. "pytest" when the
 * template has none. Caller frees. */
char *annot_launcher(const char *test_cmd);

#endif
