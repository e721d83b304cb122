/* upload: sends results to Test Engine's upload API (multipart/form-data).
 *
 * JSON mode: the records of every attempt, cut from the result files as raw
 * text (never re-encoded) into batches of at most upload-batch-size (5000).
 * JUnit mode: each attempt's XML file, cut into documents of at most
 * upload-batch-size testcases when it is larger (original bytes kept). Fields: format, run_env[...] (empty
 * values left out), tags[...], and the data part; curl's mime API carries
 * every value byte for byte, so quotes, semicolons, newlines and unicode
 * arrive intact. Best effort: failures are reported, never fatal. */
#ifndef TEP_UPLOAD_H
#define TEP_UPLOAD_H
#include <stdbool.h>
#include <stddef.h>
#include "config.h"
#include "runstate.h"

typedef struct {
    size_t records;        /* test results (records or testcases) sent successfully */
    size_t requests;
    size_t failed_requests;
    double seconds;
    char *run_url;         /* from the first successful answer, if any */
    char *first_error;
} upload_summary_t;

void upload_results(const config_t *cfg, const run_record_t *rec, upload_summary_t *sum);
void upload_summary_free(upload_summary_t *sum);

#endif
