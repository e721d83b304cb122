/* report_upload: sends results to Test Engine's upload API (multipart/form-data).
 *
 * The uploader is a sink of the report's one pass over the result files
 * (report_walk): it never holds more than one batch.
 * JSON mode: the records of every attempt, cut from the result files as raw
 * text (never re-encoded) into batches of at most upload-batch-size (5000).
 * JUnit mode: each attempt's XML file as pytest wrote it, or, when it has
 * more than upload-batch-size testcases, cut into documents of at most that
 * many (each testcase's bytes read back from the file by its offsets).
 * Each request is one multipart form (fields and data part: see
 * report_upload_form.h). Best effort: failures are reported (a warning per
 * failed request and per failed attempt), never fatal.
 *
 * One retry budget for the whole upload (every batch shares it), progress
 * rules and a ceiling per batch (see http.h: a big batch that moves may take
 * longer than api-timeout, a stalled one is cut after it, and none takes longer
 * than api-timeout plus its size at HTTP_MIN_UPLOAD_RATE), and a ceiling for
 * the whole upload: the retry budget, plus twice api-timeout, plus the result
 * files' bytes at HTTP_MIN_UPLOAD_RATE. The upload stops early, and counts what
 * it did not send, when the budget or the ceiling is used up, on 401/403 or an
 * untrusted certificate (every further batch would fail the same way), when the
 * upload API is unreachable after two quick tries (Test Engine down must not
 * hold every job for the whole budget), or when `stop` reports a signal:
 * between batches, during a batch (the transfer is aborted) or during a wait.
 *
 * Answers are read, not only their status: a 413 halves the batch until it
 * fits (later batches start at the size that fitted), and a result too large
 * alone is named (the first few; the rest counted) and not sent; a 202 whose
 * "skipped" counts results (with "errors") counts them as not sent, by number,
 * with the first error: the answer does not say which they were, and sending
 * the batch again would duplicate the others. */
#ifndef TEP_REPORT_UPLOAD_H
#define TEP_REPORT_UPLOAD_H
#include <stdbool.h>
#include <stddef.h>
#include "config/config.h"
#include "net/http.h"
#include "report/report_walk.h"

typedef enum {
    REPORT_UPLOAD_DONE,
    REPORT_UPLOAD_STOPPED_AUTH,
    REPORT_UPLOAD_STOPPED_TLS,
    REPORT_UPLOAD_STOPPED_BUDGET,
    REPORT_UPLOAD_STOPPED_SIGNAL,
    REPORT_UPLOAD_STOPPED_UNREACHABLE,
    REPORT_UPLOAD_STOPPED_TIME
} report_upload_end_t;

typedef struct {
    size_t records; /* test results (records or testcases) accepted by the upload API */
    size_t total;   /* test results found in the result files */
    size_t requests;
    size_t failed_requests;
    size_t skipped;        /* results a 202 answer said it skipped */
    size_t too_large;      /* results refused alone with 413 */
    size_t halvings;       /* batches halved after a 413 */
    size_t smallest_batch; /* the batch size that fitted after halving (0: none halved) */
    double seconds;
    report_upload_end_t end;
    int signal;       /* for REPORT_UPLOAD_STOPPED_SIGNAL */
    double budget_s;  /* for REPORT_UPLOAD_STOPPED_BUDGET */
    double ceiling_s; /* for REPORT_UPLOAD_STOPPED_TIME */
    char *skip_error; /* the first error of a 202 that skipped results */
    char *run_url;    /* from the first successful answer, if any */
    char *first_error;
    char *last_error; /* the failure that stopped the upload, for the shortfall line */
} report_upload_summary_t;

typedef struct uploader report_uploader_t;

/* Prepares an upload of `json` (else JUnit) results, `bytes` of result files
 * in all (for the upload's ceiling); stop may be NULL. */
report_uploader_t *report_upload_start(const config_t *cfg, bool json, size_t bytes,
                                       http_stop_fn stop, report_upload_summary_t *sum);
/* The sink that uploads what the walk reads. */
report_walk_sink_t report_upload_sink(report_uploader_t *u);
/* Sends what is left, notes the time taken, and frees u. */
void report_upload_finish(report_uploader_t *u);
/* A 2xx answer to a batch of `records` results (body[0..len), may be NULL):
 * its run URL (the first answer's), and how many of them it skipped
 * ("skipped", with "errors": the docs say some may be, even on 202), added
 * to sum with the first error. Returns how many it accepted (at most
 * records). Exposed for the fuzz target. */
size_t report_upload_read_answer(report_upload_summary_t *sum, const char *body, size_t len,
                                 size_t records);
/* One line saying what was not sent and why, e.g. "upload interrupted by
 * SIGTERM: 13,000 of 100,000 results sent; 87,000 not sent"; NULL when every
 * result was sent. Caller frees. */
char *report_upload_shortfall(const report_upload_summary_t *sum);
void report_upload_summary_free(report_upload_summary_t *sum);

#endif
