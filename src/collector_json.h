/* collector_json: reads buildkite-test-collector's --json file as a stream.
 *
 * The file is one JSON array of test records, often on a single line. It is
 * read in chunks; each top-level element is cut out by a small scanner that
 * knows strings and nesting, and only that element is given to cJSON. Memory
 * stays at one chunk plus one record, whatever the file size, and the raw
 * text of each record is available to the uploader without re-encoding.
 *
 * Tolerated (the collector's gotchas): optional result/tags/failure_* keys,
 * empty scope, "::" inside names, exponent floats, \u escapes, any key case.
 * A record that is not an object or lacks a name is counted and skipped; a
 * file that is not an array, or ends before the array closes, is an error. */
#ifndef TEP_COLLECTOR_JSON_H
#define TEP_COLLECTOR_JSON_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include "result.h"

/* rec is NULL when the element could not be parsed as an object. */
typedef void (*cj_element_fn)(const char *raw, size_t len, cJSON *rec, void *user);

typedef struct {
    size_t elements;
    size_t bad;            /* elements that are not readable records */
    bool ok;               /* the array was read to its end */
    char error[256];       /* when !ok */
} cj_scan_t;

/* parse=false skips cJSON (raw text only, for uploads). */
void cj_scan_file(const char *path, bool parse, cj_element_fn fn, void *user, cj_scan_t *out);
/* Reads a collector file into the model. Prints one line per skipped record. */
void cj_read_results(const char *path, run_result_t *r, cj_scan_t *out);
/* The collection-error tag, as a string "true" (or, leniently, JSON true). */
bool cj_is_collection_error(const cJSON *rec);

#endif
