/* Collector JSON reader: cj_read_results and cj_scan_file on any bytes, at
 * several chunk sizes (the first byte picks one) so chunk boundaries fall
 * inside strings, escapes and numbers. Invariants: every element handed out
 * is non-empty and inside the file; a file read to its end is well formed. */
#include "buf.h"
#include "collector_json.h"
#include "fuzz_util.h"
#include "result.h"
#include <string.h>

typedef struct {
    size_t file_size;
    size_t total;
} scan_ctx_t;

static void on_element(const char *raw, size_t len, void *user)
{
    scan_ctx_t *c = user;
    FUZZ_CHECK(raw != NULL);
    FUZZ_CHECK(len > 0);               /* a zero-length element is the endless-loop bug */
    FUZZ_CHECK(len <= c->file_size);
    c->total += len;
    FUZZ_CHECK(c->total <= c->file_size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    /* small reads: the default 1 MiB buffer would cost more than the parse */
    static const size_t chunks[] = {4096, 1, 2, 3, 7, 64};
    size_t chunk = chunks[data[0] % (sizeof chunks / sizeof chunks[0])];
    data++, size--;
    const char *path = fuzz_file(data, size);
    cj_set_chunk_size(chunk);

    scan_ctx_t ctx = {.file_size = size};
    cj_scan_t scan;
    cj_scan_file(path, on_element, &ctx, &scan);
    FUZZ_CHECK(scan.ok || scan.error[0]);
    FUZZ_CHECK(memchr(scan.error, '\n', sizeof scan.error) == NULL);

    run_result_t r;
    result_init(&r, NULL, 0);
    cj_scan_t read;
    cj_read_results(path, &r, &read);
    FUZZ_CHECK(read.ok == scan.ok);
    FUZZ_CHECK(read.elements == scan.elements);
    FUZZ_CHECK(r.len + r.skipped_records <= read.elements);
    for (size_t i = 0; i < r.len; i++) {
        FUZZ_CHECK(r.tests[i].node_id && *r.tests[i].name);
        FUZZ_CHECK(!r.tests[i].failure || strlen(r.tests[i].failure) < TEP_TEXT_KEEP + 64);
    }
    result_free(&r);
    cj_set_chunk_size(0);
    return 0;
}
