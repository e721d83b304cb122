/* report_timing: each job's time in the step's annotation.
 *
 * One box per step ("info" style, priority 1 so failures stay above it),
 * every job appends its part (--append, wrapped by report_markdown_wrap): one
 * line with its estimate against the time pytest took ("estimated 12.0s by
 * Test Engine (340 timing samples, ...), took 13.4s (1.4s more, +12%)"); that line
 * is the <summary> of a <details> holding its slowest tests with their
 * durations and its skipped tests by reason (results_timing.h keeps them
 * bounded). Read down the box, the lines compare the jobs: the split's
 * balance at a glance, one line each, the tests a click away. The summary
 * is raw HTML (Markdown is not read there), so its text is HTML-escaped. A part
 * stays within REPORT_TIMING_MAX bytes (node ids cut), so 100 jobs fit the
 * agent's 1 MiB many times over. Never prints. */
#ifndef TEP_REPORT_TIMING_H
#define TEP_REPORT_TIMING_H
#include "base/buf.h"
#include "report/report_markdown.h"
#include "results/results_timing.h"

#define REPORT_TIMING_MAX      (8 * 1024)
#define REPORT_TIMING_PRIORITY "1"

/* The box's --context: "test-engine-pytest-<step>-time". Caller frees. */
char *report_timing_context(const char *step_id);
/* This job's part; first_s / retries_s: pytest's time on the first attempt
 * and on the in-job retries (-1: none). */
void report_timing_render(const report_markdown_job_t *j, const results_timing_t *t, double first_s,
                          double retries_s, buf_t *out);

#endif
