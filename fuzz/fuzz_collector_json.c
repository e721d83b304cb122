/* Collector JSON reader: results_json_scan_file, results_json_read_records and
 * results_json_read_records on any bytes, at several chunk sizes (the first byte picks one) so
 * chunk boundaries fall inside strings, escapes and numbers. Invariants: every element handed out
 * is non-empty and inside the file; a file read to its end is well formed; every record is handed
 * out with its raw bytes, and a usable one has a node id, a name and a duration that is a real
 * number of seconds or none; the model keeps no more tests than records, with bounded causes;
 * warnings are single lines, at most RESULTS_JSON_MAX_WARNINGS and a count per file. */
#include "base/buf.h"
#include "base/text.h"
#include "results/results_json.h"
#include "fuzz_util.h"
#include "results/results_model.h"
#include <math.h>
#include <string.h>

typedef struct {
    size_t file_size;
    size_t total;
    size_t records;
} scan_ctx_t;

static void on_element(const char *raw, size_t len, void *user)
{
    scan_ctx_t *c = user;
    FUZZ_CHECK(raw != NULL);
    FUZZ_CHECK(len > 0); /* a zero-length element is the endless-loop bug */
    FUZZ_CHECK(len <= c->file_size);
    c->total += len;
    FUZZ_CHECK(c->total <= c->file_size);
}

static void on_record(const test_record_t *rec, void *user)
{
    scan_ctx_t *c = user;
    c->records++;
    FUZZ_CHECK(rec->raw != NULL && rec->raw_len > 0 && rec->raw_len <= c->file_size);
    const char *v;
    size_t vlen;
    if (results_json_member(rec->raw, rec->raw_len, "failure_expanded", &v,
                            &vlen)) /* inside the record */
        FUZZ_CHECK(v >= rec->raw && vlen > 0 && v + vlen <= rec->raw + rec->raw_len);
    if (rec->problem) return;
    FUZZ_CHECK(rec->node_id && rec->name && *rec->name && rec->scope);
    FUZZ_CHECK(rec->duration < 0 || (isfinite(rec->duration) && rec->duration >= 0));
    FUZZ_CHECK(!rec->failure || strlen(rec->failure) < TEXT_KEEP + 64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    /* small reads: the default buffer would cost more than the parse */
    static const size_t chunks[] = {4096, 1, 2, 3, 7, 64};
    size_t chunk = chunks[data[0] % (sizeof chunks / sizeof chunks[0])];
    data++;
    size--;
    const char *path = fuzz_file(data, size);
    results_json_set_chunk_size(chunk);

    scan_ctx_t ctx = {.file_size = size};
    results_json_scan_t scan;
    results_json_scan_file(path, on_element, &ctx, &scan);
    FUZZ_CHECK(!scan.error || (*scan.error && !strchr(scan.error, '\n')));

    scan_ctx_t rctx = {.file_size = size};
    results_json_scan_t records;
    results_json_read_records(path, on_record, &rctx, NULL, NULL, &records);
    FUZZ_CHECK(!records.error == !scan.error);
    FUZZ_CHECK(rctx.records == scan.elements); /* every element, usable or not */

    results_model_t r;
    results_model_init(&r, NULL, 0);
    results_json_scan_t read;
    size_t warnings = 0;
    results_json_read_records(path, results_model_add_fn, &r, fuzz_count_warning, &warnings, &read);
    FUZZ_CHECK(!read.error == !scan.error);
    FUZZ_CHECK(read.elements == scan.elements);
    FUZZ_CHECK(warnings <= RESULTS_JSON_MAX_WARNINGS + 1);
    free(scan.error);
    free(records.error);
    free(read.error);
    results_model_stats_t s;
    results_model_stats(&r, &s);
    FUZZ_CHECK(s.total + r.skipped_records <= read.elements); /* a repeated test counts once */
    FUZZ_CHECK(r.len <= s.total);
    for (size_t i = 0; i < r.len; i++) {
        FUZZ_CHECK(r.tests[i].node_id != NULL);
        FUZZ_CHECK(!r.tests[i].failure ||
                   strlen(r.tests[i].failure) < RESULTS_MODEL_CAUSE_KEEP + 64);
    }
    results_model_free(&r);
    results_json_set_chunk_size(0);
    return 0;
}
