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
 * rules instead of a total timeout per batch (see http.h: a big batch that
 * moves may take longer than api-timeout; a stalled one is cut after it). The upload
 * stops early, and counts what it did not send, when the budget is used up, on
 * 401/403 or an untrusted certificate (every further batch would fail the same
 * way), or when `stop` reports a signal: between batches, during a batch (the
 * transfer is aborted) or during a wait. */
#ifndef TEP_REPORT_UPLOAD_H
#define TEP_REPORT_UPLOAD_H
#include <stdbool.h>
#include <stddef.h>
#include "config.h"
#include "http.h"
#include "report_walk.h"

typedef enum {
    REPORT_UPLOAD_DONE,
    REPORT_UPLOAD_STOPPED_AUTH,
    REPORT_UPLOAD_STOPPED_TLS,
    REPORT_UPLOAD_STOPPED_BUDGET,
    REPORT_UPLOAD_STOPPED_SIGNAL
} report_upload_end_t;

typedef struct {
    size_t records; /* test results (records or testcases) sent successfully */
    size_t total;   /* test results found in the result files */
    size_t requests;
    size_t failed_requests;
    double seconds;
    report_upload_end_t end;
    int signal;      /* for REPORT_UPLOAD_STOPPED_SIGNAL */
    double budget_s; /* for REPORT_UPLOAD_STOPPED_BUDGET */
    char *run_url;   /* from the first successful answer, if any */
    char *first_error;
    char *last_error; /* the failure that stopped the upload, for the shortfall line */
} report_upload_summary_t;

typedef struct uploader report_uploader_t;

/* Prepares an upload of `json` (else JUnit) results; stop may be NULL. */
report_uploader_t *report_upload_start(const config_t *cfg, bool json, http_stop_fn stop,
                                       report_upload_summary_t *sum);
/* The sink that uploads what the walk reads. */
report_walk_sink_t report_upload_sink(report_uploader_t *u);
/* Sends what is left, notes the time taken, and frees u. */
void report_upload_finish(report_uploader_t *u);
/* One line saying what was not sent and why, e.g. "upload interrupted by
 * SIGTERM: 13,000 of 100,000 results sent; 87,000 not sent"; NULL when every
 * result was sent. Caller frees. */
char *report_upload_shortfall(const report_upload_summary_t *sum);
void report_upload_summary_free(report_upload_summary_t *sum);

#endif
