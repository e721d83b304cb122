/* Result files merged byte for byte: results_merge_concat (an attempt's
 * parts) and results_merge_final (every attempt into result-path) on two
 * result files of any bytes, in either format. Input: a byte (bit 0: JUnit,
 * bit 1: final, bit 2: a small read size), two bytes giving the first file's length, the first
 * file, then the second. Invariants: the merged file is written and reads back to its end as a
 * result file of the same format, holding exactly the records the merge says it wrote, each a
 * usable record; concatenation keeps every usable record of both files; the final merge never
 * writes more records than the files hold; each problem is one line. */
#include "fuzz_util.h"
#include "results/results.h"
#include "results/results_json.h"
#include "results/results_merge.h"
#include <string.h>

typedef struct {
    size_t usable, problems;
} count_t;

static void count_record(const test_record_t *rec, void *user)
{
    count_t *c = user;
    if (rec->problem)
        c->problems++;
    else
        c->usable++;
}

static count_t read_count(result_mode_t mode, const char *path, bool *whole)
{
    count_t c = {0, 0};
    char *err = NULL;
    *whole = results_read_file(mode, path, count_record, &c, NULL, NULL, &err);
    FUZZ_CHECK(*whole == (err == NULL));
    free(err);
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    result_mode_t mode = data[0] & 1 ? MODE_JUNIT : MODE_JSON;
    /* Small reads: chunk boundaries inside records, and no 256 KiB buffer per read. */
    results_json_set_chunk_size(data[0] & 4 ? 61 : 4096);
    bool final = data[0] & 2;
    size_t first = (size_t)data[1] | (size_t)data[2] << 8;
    if (first > size - 3) first = size - 3;
    const char *ext = mode == MODE_JSON ? "json" : "xml";
    char a[64], b[64], out[64];
    snprintf(a, sizeof a, "attempt-1.%s", ext);
    snprintf(b, sizeof b, "attempt-2.%s", ext);
    snprintf(out, sizeof out, "merged.%s", ext);
    strlist_t inputs = STRLIST_INIT, problems = STRLIST_INIT;
    strlist_push(&inputs, fuzz_dir_file(a, data + 3, first));
    strlist_push(&inputs, fuzz_dir_file(b, data + 3 + first, size - 3 - first));
    char *out_path = strdup(fuzz_dir_file(out, NULL, 0));
    bool whole;
    count_t in1 = read_count(mode, inputs.items[0], &whole);
    count_t in2 = read_count(mode, inputs.items[1], &whole);

    results_merge_stats_t stats;
    memset(&stats, 0, sizeof stats);
    char *err = NULL;
    bool ok = final ? results_merge_final(mode, &inputs, out_path, &stats, &problems, &err)
                    : results_merge_concat(mode, &inputs, out_path, &stats, &problems, &err);
    FUZZ_CHECK(ok && err == NULL);
    for (size_t i = 0; i < problems.len; i++) FUZZ_CHECK(fuzz_one_line(problems.items[i]));
    FUZZ_CHECK(stats.files == 2);
    count_t merged = read_count(mode, out_path, &whole);
    FUZZ_CHECK(whole);
    FUZZ_CHECK(merged.problems == 0 && merged.usable == stats.records);
    if (final)
        FUZZ_CHECK(stats.records <= in1.usable + in2.usable);
    else
        FUZZ_CHECK(stats.records == in1.usable + in2.usable);

    free(out_path);
    strlist_free(&problems);
    strlist_free(&inputs);
    return 0;
}
