/* annotate: the Buildkite annotation for one parallel job.
 *
 * Markdown with the outcome, counts, failed tests with their causes,
 * collection errors with the file and the real cause (classify_cause: the
 * exception, not the first traceback frame), flaky tests, exit-4 forensics,
 * where the plan came from and the upload result. The job is numbered from 1
 * ("job 1 of 3"), as everywhere people read it. Context is per step and job,
 * style follows the outcome. Text from outside (names, reasons, plan text)
 * has its control characters rendered visibly. Lists are shortened until the
 * body fits under Buildkite's 1 MiB limit. */
#ifndef TEP_ANNOTATE_H
#define TEP_ANNOTATE_H
#include "buf.h"
#include "config.h"
#include "runstate.h"
#include "upload.h"

#define ANNOTATION_LIMIT (1024 * 1024 - 4096)

/* Builds the body (list entries capped at `limit` each). */
void annotate_build(const config_t *cfg, const run_record_t *rec, const upload_summary_t *up, size_t limit, buf_t *out);
/* "success", "warning" or "error". */
const char *annotate_style(const run_record_t *rec);
/* Builds a body that fits, and sends it with buildkite-agent annotate. */
bool annotate_send(const config_t *cfg, const run_record_t *rec, const upload_summary_t *up, char **err);

#endif
