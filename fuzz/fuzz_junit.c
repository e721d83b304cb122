/* JUnit reader: junit_read_results (streaming, from a file) and
 * junit_case_ranges (in memory, for upload batches) on any bytes.
 * Invariants: ranges lie inside the document and in order; every recorded
 * test has a node id; reasons stay cut. */
#include "buf.h"
#include "fuzz_util.h"
#include "junit.h"
#include "result.h"
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    run_result_t r;
    result_init(&r, NULL, 0);
    junit_scan_t scan;
    junit_read_results(path, &r, &scan);
    FUZZ_CHECK(scan.ok || scan.error[0]);
    for (size_t i = 0; i < r.len; i++) {
        FUZZ_CHECK(r.tests[i].node_id != NULL);
        FUZZ_CHECK(!r.tests[i].failure || strlen(r.tests[i].failure) < TEP_TEXT_KEEP + 64);
    }
    result_free(&r);

    junit_cases_t cases;
    char *err = NULL;
    if (junit_case_ranges((const char *)data, size, &cases, &err)) {
        size_t prev_end = 0;
        for (size_t i = 0; i < cases.len; i++) {
            FUZZ_CHECK(cases.start[i] <= cases.end[i]);
            FUZZ_CHECK(cases.end[i] <= size);
            FUZZ_CHECK(cases.start[i] >= prev_end);
            prev_end = cases.end[i];
        }
    } else {
        FUZZ_CHECK(err != NULL);
    }
    free(err);
    junit_cases_free(&cases);

    /* The node-id rebuilders on the input's first line, as classname and name. */
    char *a, *b;
    fuzz_split(data, size, '\n', &a, &b);
    free(junit_node_id(a, b));
    free(junit_module_path(a));
    free(a);
    free(b);
    return 0;
}
