/* report_annotate: the glue between the run record and the step's annotation.
 *
 * Converts the record (and the upload's outcome) into report_markdown's input,
 * picks the box and appends this job's section with buildkite-agent annotate
 * --append (see report_markdown.h for the boxes, styles and bounds). Called
 * twice by report: first without the upload (the section), then with it (at
 * most one short line: an upload problem, or a failing job's Test Engine
 * run). A section the agent refuses (the box is full) becomes one line that
 * says so. */
#ifndef TEP_REPORT_ANNOTATE_H
#define TEP_REPORT_ANNOTATE_H
#include "buf.h"
#include "config.h"
#include "run_record.h"
#include "report_upload.h"

/* Appends this job's part to the step's annotation; logs what it did. false
 * with *err (one line) when the agent refused it. */
bool report_annotate_send(const config_t *cfg, const run_record_t *rec,
                          const report_upload_summary_t *up, char **err);

#endif
