/* The step's table of jobs as read back from `meta-data keys` (anything in
 * the pipeline can set keys): report_jobtable_parse, then the table.
 * Invariants: at most one row per job, below the job count, in job order;
 * every row read goes out as a key that reads back as the same row; the
 * table has one line per job whatever the keys held. */
#include "fuzz_util.h"
#include "report/report_jobtable.h"
#include <string.h>

#define COUNT 7

static bool same_row(const report_jobtable_row_t *a, const report_jobtable_row_t *b)
{
    return a->job == b->job && a->retry == b->retry && a->estimate_ms == b->estimate_ms &&
           a->took_ms == b->took_ms && a->tests == b->tests && a->failed == b->failed &&
           a->plan == b->plan && strcmp(a->job_id, b->job_id) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    report_jobtable_row_t rows[COUNT + 1], again[COUNT];
    size_t n = report_jobtable_parse("step-1", (const char *)data, size, COUNT, rows);
    FUZZ_CHECK(n <= COUNT);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(rows[i].job >= 0 && rows[i].job < COUNT);
        FUZZ_CHECK(i == 0 || rows[i].job > rows[i - 1].job);
        FUZZ_CHECK(rows[i].failed <= rows[i].tests && strchr("slr", rows[i].plan));
        char *key = report_jobtable_key("step-1", &rows[i]);
        FUZZ_CHECK(report_jobtable_parse("step-1", key, strlen(key), COUNT, again) == 1);
        FUZZ_CHECK(same_row(&again[0], &rows[i]));
        free(key);
    }
    report_jobtable_row_t mine = {
        .job = 3, .retry = 0, .estimate_ms = -1, .took_ms = 5, .tests = 1, .plan = 'l'};
    n = report_jobtable_merge(rows, n, &mine);
    FUZZ_CHECK(n <= COUNT);
    buf_t b = BUF_INIT;
    report_jobtable_render("Unit", "https://buildkite.com/o/p/builds/1", COUNT, rows, n, &b);
    size_t table_lines = 0;
    for (const char *l = buf_str(&b); (l = strstr(l, "\n| ")) != NULL; l++) table_lines++;
    FUZZ_CHECK(table_lines == COUNT + 1); /* the header, then a line per job */
    buf_free(&b);
    return 0;
}
