/* report_jobtable: the step's table of jobs, estimated against actual time.
 *
 * Each job of a parallel step knows only its own estimate and time, and the
 * agent has no way to read an annotation back, so no job can append a row
 * to a table another job started (the header would land wherever the first
 * job to finish put it, and a retry would repeat it). Instead every job
 * leaves its row in the build's meta-data and writes the whole table from
 * what it finds there (no --append: the last job to finish leaves all rows).
 *
 * The row is carried in the meta-data KEY, not its value: `meta-data keys`
 * lists every key in one call, where reading values would cost one agent
 * call (an API round trip) per job. The key's fields, after
 * "test-engine-pytest:time:<step>:", are separated by ':' -- job, retry,
 * estimate in ms ("-": none), time taken in ms ("-": none), tests, failed,
 * plan (s: Test Engine, l: planned locally, r: a retry of the failures) and
 * the job id.
 *
 * The key list is untrusted input (anything in the pipeline may set keys):
 * a line that is not exactly such a key is ignored and numbers are bounded.
 * A job index gets one row: its earliest attempt (the split's estimate
 * against the time it took), with its latest attempt's outcome beside it (a
 * Buildkite retry usually runs only the failures). Of two keys for one
 * attempt, the first listed stays. Never prints. */
#ifndef TEP_REPORT_JOBTABLE_H
#define TEP_REPORT_JOBTABLE_H
#include "base/buf.h"
#include <stdbool.h>
#include <stddef.h>

#define REPORT_JOBTABLE_MAX_JOBS 1000 /* Buildkite's highest parallelism */
#define REPORT_JOBTABLE_JOB_ID   64   /* bytes of a job id kept for its link */
#define REPORT_JOBTABLE_PRIORITY "1"

typedef struct {
    long job;                                /* 0-based parallel index */
    long retry;                              /* BUILDKITE_RETRY_COUNT */
    long estimate_ms;                        /* -1: no estimate */
    long took_ms;                            /* -1: nothing ran */
    long tests;                              /* test results of the job's first run */
    long failed;                             /* of those, failed in the end */
    char plan;                               /* 's', 'l' or 'r' */
    char job_id[REPORT_JOBTABLE_JOB_ID + 1]; /* [A-Za-z0-9-], "" when none */
    /* A later Buildkite attempt of the same job (parse and merge fill these;
     * a key carries one attempt): the row keeps the earliest attempt's
     * numbers, which are what the split did, and says how the latest went. */
    long later_retry; /* 0: none */
    long later_took_ms, later_failed;
    char later_plan;
} report_jobtable_row_t;

/* The box's --context: "test-engine-pytest-<step>-jobs". Caller frees. */
char *report_jobtable_context(const char *step_id);
/* The meta-data key carrying row (its job id reduced to [A-Za-z0-9-]). */
char *report_jobtable_key(const char *step_id, const report_jobtable_row_t *row);
/* The step's rows from `meta-data keys`' output (one key a line): at most
 * one per job index below job_count, sorted by job.
 * Returns how many were written to rows (room for job_count). */
size_t report_jobtable_parse(const char *step_id, const char *keys, size_t len, long job_count,
                             report_jobtable_row_t *rows);
/* rows (sorted, one per job) with `mine` (one attempt) combined into its job's row. */
size_t report_jobtable_merge(report_jobtable_row_t *rows, size_t n,
                             const report_jobtable_row_t *mine);
/* The whole box: a heading, one table row per job (jobs not reported yet
 * say so), the slowest and quickest job, and how many planned locally.
 * build_url: for links to each job (https:// only), may be "". */
void report_jobtable_render(const char *label, const char *build_url, long job_count,
                            const report_jobtable_row_t *rows, size_t n, buf_t *out);
/* How many rows planned locally, in their first or their latest attempt. */
size_t report_jobtable_local(const report_jobtable_row_t *rows, size_t n);
/* Sets row's job id from id as keys carry it: [A-Za-z0-9-] only, cut. */
void report_jobtable_set_job_id(report_jobtable_row_t *row, const char *id);

#endif
