/* report_upload_form: the multipart/form-data body of one upload request.
 *
 * Fields, as bktec sends them: format, run_env[...] (CI, key, branch,
 * commit_sha, number, url, job_id, message, location_prefix, collector,
 * test_runner, version, and run_env[cwd], the checkout's absolute path, only
 * when BUILDKITE_BUILD_ID is set), tags[...] from BUILDKITE_TEST_ENGINE_TAGS,
 * and the data part. Empty values are left out. curl's mime API carries every
 * value byte for byte, so quotes, semicolons, newlines and unicode arrive
 * intact. The data part is either a span of the caller's memory (read by
 * curl as it sends, never copied) or a file curl reads as it sends. */
#ifndef TEP_REPORT_UPLOAD_FORM_H
#define TEP_REPORT_UPLOAD_FORM_H
#include <curl/curl.h>
#include <stddef.h>
#include "config/config.h"

typedef struct {
    const config_t *cfg;
    const char *cwd;    /* run_env[cwd] */
    const char *format; /* "json" | "junit" */
    const char *data;   /* the data part from memory, data[0..len) */
    size_t len;
    const char *path; /* or this file as it is (then data is NULL) */
    const char *filename;
    const char *content_type;
} report_upload_part_t;

/* An http_mime_fn: a fresh form for one attempt from a report_upload_part_t
 * (`part`, which must outlive the request). */
curl_mime *report_upload_form(CURL *curl, void *part);

#endif
