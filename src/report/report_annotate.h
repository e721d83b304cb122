/* report_annotate: the glue between the run record and the step's annotation.
 *
 * Converts the record (and the upload's outcome) into report_markdown's input
 * and sends it with buildkite-agent annotate. Called twice by report: first
 * without the upload: this job's section, appended to the step's failures or
 * notes box when it has something to say (report_markdown.h), its time to the
 * step's info box (report_timing.h), and the step's note when the plan fell
 * back (report_stepnote.h); then with it: the step's note when the upload
 * fell short, and a failing job's Test Engine run under its section. Every
 * appended body is wrapped to stand on its own. A section the agent refuses
 * (the box is full) becomes one line that says so. */
#ifndef TEP_REPORT_ANNOTATE_H
#define TEP_REPORT_ANNOTATE_H
#include "base/buf.h"
#include "config/config.h"
#include "state/run_record.h"
#include "report/report_upload.h"

/* Appends this job's part to the step's annotation; logs what it did. false
 * with *err (one line) when the agent refused it. */
bool report_annotate_send(const config_t *cfg, const run_record_t *rec,
                          const report_upload_summary_t *up, char **err);

#endif
