/* JUnit reader: results_junit_read_records (streaming, from a
 * file) on any bytes. Invariants: every testcase's byte range lies inside the
 * file, after the one before; every usable
 * record has a node id and a duration that is a real number of seconds or
 * none; reasons and causes stay cut; warnings are single lines, at most
 * RESULTS_JUNIT_MAX_WARNINGS and two totals per file. */
#include "base/buf.h"
#include "base/text.h"
#include "fuzz_util.h"
#include "results/results_junit.h"
#include "results/results_model.h"
#include <math.h>
#include <string.h>

typedef struct {
    size_t size;
    size_t prev_end;
} ranges_ctx_t;

static void on_record(const test_record_t *rec, void *user)
{
    ranges_ctx_t *c = user;
    FUZZ_CHECK(rec->start <= rec->end);
    FUZZ_CHECK(rec->end <= c->size);
    FUZZ_CHECK(rec->start >= c->prev_end);
    c->prev_end = rec->end;
    if (rec->problem) return;
    FUZZ_CHECK(rec->node_id != NULL && rec->scope != NULL && rec->name != NULL);
    FUZZ_CHECK(rec->duration < 0 || (isfinite(rec->duration) && rec->duration >= 0));
    FUZZ_CHECK(!rec->failure || strlen(rec->failure) < TEXT_KEEP + 64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    ranges_ctx_t ctx = {.size = size};
    results_junit_scan_t scan;
    results_junit_read_records(path, on_record, &ctx, NULL, NULL, &scan);
    FUZZ_CHECK(!scan.error || *scan.error);

    results_model_t r;
    results_model_init(&r, NULL, 0);
    results_junit_scan_t read;
    size_t warnings = 0;
    results_junit_read_records(path, results_model_add_fn, &r, fuzz_count_warning, &warnings,
                               &read);
    FUZZ_CHECK(!read.error == !scan.error);
    FUZZ_CHECK(warnings <= RESULTS_JUNIT_MAX_WARNINGS + 2);
    free(scan.error);
    free(read.error);
    for (size_t i = 0; i < r.len; i++) {
        FUZZ_CHECK(r.tests[i].node_id != NULL);
        FUZZ_CHECK(!r.tests[i].failure ||
                   strlen(r.tests[i].failure) < RESULTS_MODEL_CAUSE_KEEP + 64);
    }
    results_model_free(&r);

    /* The node-id rebuilders on the input's first line, as classname and name. */
    char *a, *b;
    fuzz_split(data, size, '\n', &a, &b);
    free(results_junit_node_id(a, b));
    free(results_junit_module_path(a));
    free(a);
    free(b);
    return 0;
}
