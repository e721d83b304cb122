/* results_json: reads buildkite-test-collector's --json file as a stream.
 *
 * The file is one JSON array of test records, often on a single line. It is
 * read in chunks; each top-level element is cut out by a small scanner that
 * knows strings and nesting. Of each record only the values we use (scope,
 * name, result, file_name, failure_reason, tags, history.duration) are
 * decoded, with cJSON doing the decoding of anything escaped; the history's
 * spans and failure_expanded are skipped without being built. Memory stays at
 * one chunk plus one record, whatever the file size, and the raw text of each
 * record is handed out with it (test_record_t), so the uploader and the
 * result-path merge copy records without re-encoding them.
 *
 * Tolerated (the collector's gotchas): optional result/tags/failure_* keys,
 * empty scope, "::" inside names, exponent floats, \u escapes, any key case.
 * A record that is not an object or lacks a name is counted and skipped (the
 * first RESULTS_JSON_MAX_WARNINGS of a file are named, the rest counted in one
 * line, each line handed to the caller's warn_fn: this module never prints); a
 * file that is not an array, ends before the array closes, or has a byte where
 * no element can start (`[}]`), is an error naming the file and byte offset.
 *
 * Hostile input: every scanner step consumes input or stops; a failure_reason
 * keeps its first TEXT_KEEP bytes (with a note that it was cut); a scope,
 * name, result or file_name over RESULTS_JSON_MAX_ID bytes makes the record unusable
 * (pytest could not take it as an argument anyway); a record over the
 * RESULTS_JSON_MAX_RECORD bytes is an error, so memory stays bounded. */
#ifndef TEP_RESULTS_JSON_H
#define TEP_RESULTS_JSON_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include "base/err.h"
#include "base/text.h"
#include "results/results_model.h"

#define RESULTS_JSON_MAX_WARNINGS 5
#define RESULTS_JSON_MAX_ID       (64 * 1024)
#define RESULTS_JSON_MAX_RECORD   ((size_t)256 << 20)

/* One top-level element of the array, as raw JSON text (not NUL-terminated). */
typedef void (*results_json_element_fn)(const char *raw, size_t len, void *user);

typedef struct {
    size_t elements;
    size_t bad; /* elements that are not readable records */
    size_t at;  /* during the element callback: where the element starts in the file */
    /* NULL when the array was read to its end, else why not (one line naming
     * the file). The caller frees it. */
    char *error;
} results_json_scan_t;

/* Calls fn for each element; counts elements that are not objects as bad. */
void results_json_scan_file(const char *path, results_json_element_fn fn, void *user,
                            results_json_scan_t *out);
/* Calls fn for every element of a collector file, in order: a usable test
 * record with its fields, anything else with rec->problem set (and only its
 * raw bytes). With `warn` (may be NULL), hands it one line per unusable record
 * (the first RESULTS_JSON_MAX_WARNINGS, then a count); the run phase warns,
 * later readers do not. */
void results_json_read_records(const char *path, record_fn fn, void *user, warn_fn warn,
                               void *warn_user, results_json_scan_t *out);
/* Read size; tests shrink it to put chunk boundaries inside strings and escapes. */
void results_json_set_chunk_size(size_t bytes);
/* Largest record accepted (0: RESULTS_JSON_MAX_RECORD); tests lower it. */
void results_json_set_max_record(size_t bytes);
/* The raw value of a record's top-level member (key in any case), cut out of
 * the element's bytes, not decoded. false when absent or not an object. */
bool results_json_member(const char *raw, size_t len, const char *key, const char **value,
                         size_t *value_len);
/* The collection-error tag in a tags object: string "true" (or, leniently, JSON true). */
bool results_json_is_collection_error(const cJSON *tags);

#endif
