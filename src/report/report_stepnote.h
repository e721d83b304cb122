/* report_stepnote: what every job of a step would say alike, said once.
 *
 * With Test Engine's API down, each of a step's jobs falls back to the local
 * plan and fails to upload, and each used to append the same two notes: 8
 * jobs, 16 yellow paragraphs. These notes belong to the step. Jobs cannot
 * agree on who writes them (they are separate processes, on separate hosts,
 * and the agent has no "create if absent"), so each note gets a context of
 * its own, named after its text, and every job that has it writes it in full
 * WITHOUT --append: a write replaces the box with the same note, so however
 * many jobs write it, in whatever order, the page shows it once. Jobs whose
 * notes differ (another error) get a box each, so nothing is lost. The
 * name's hash ignores digits and whatever follows the first '(' (the
 * details: "(1 attempt, last error: HTTP 503)", "(2 attempts, ...)"), so one
 * outage stays one note, in the last writer's words. A note names no job and
 * carries no per-job count: each job's log has those. The plan note counts
 * the step's jobs that planned locally ("8 of 8 jobs split locally"), from
 * the step's table of jobs as the writing job read them (a job that read
 * them early may write the note last, with a lower count).
 *
 * Notes: the plan fell back to the local split (not said when no Test Engine
 * is configured at all: that is the user's choice), and the results upload
 * fell short. Never prints. */
#ifndef TEP_REPORT_STEPNOTE_H
#define TEP_REPORT_STEPNOTE_H
#include <stdbool.h>
#include "base/buf.h"
#include "report/report_upload.h"

typedef struct {
    char *context; /* "test-engine-pytest-<step>-note-<hash>", at most 100 characters */
    buf_t body;    /* Markdown */
} report_stepnote_t;

/* The note for a plan that fell back because `reason` (the plan phase's
 * one line); label is BUILDKITE_LABEL (may be NULL). local_jobs of
 * job_count: how many jobs of the step planned locally, as far as the step's
 * table of jobs knows (report_jobtable.h); 0 when it does not: the title
 * then gives no count. */
void report_stepnote_plan(const char *step_id, const char *label, const char *reason,
                          size_t local_jobs, long job_count, report_stepnote_t *out);
/* The note for an upload that fell short; false (nothing to say) when every
 * result was sent. */
bool report_stepnote_upload(const char *step_id, const char *label,
                            const report_upload_summary_t *up, report_stepnote_t *out);
void report_stepnote_free(report_stepnote_t *n);
/* The context for a note of this kind and text (exposed for the unit tests).
 * Caller frees. */
char *report_stepnote_context(const char *step_id, const char *kind, const char *text);

#endif
