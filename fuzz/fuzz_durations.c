/* Durations files in both formats (pytest-split JSON, "<seconds> <path>"
 * lines), read as a stream. Invariants: every kept duration is finite and in
 * range, files and tests are sorted and unique, lookups find what was kept
 * (a test among its file's), a fallback plan built on them stays finite,
 * and what `durations merge` writes from them reads back as the same. */
#include "durations.h"
#include "fuzz_util.h"
#include "plan_fallback.h"
#include "plan_summary.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* What `durations merge` writes reads back, strictly, as the same entries. */
static void merge_round_trip(const char *path)
{
    dur_entries_t e = {0};
    char *err = NULL;
    dur_read_opts_t o = {.label = "merge", .strict = true};
    if (!dur_read_file(path, &o, &e, &err)) {
        FUZZ_CHECK(err != NULL && strchr(err, '\n') == NULL);
        free(err);
        dur_entries_free(&e);
        return;
    }
    durations_resolve(&e);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    FUZZ_CHECK(out && durations_write_json(&e, out));
    fclose(out);
    const char *again_path = fuzz_file((const uint8_t *)text, len);
    dur_entries_t again = {0};
    FUZZ_CHECK(dur_read_file(again_path, &o, &again, &err));
    FUZZ_CHECK(again.len == e.len);
    for (size_t i = 0; i < e.len; i++) {
        FUZZ_CHECK(strcmp(dur_key(&again, i), dur_key(&e, i)) == 0);
        FUZZ_CHECK(again.items[i].seconds == e.items[i].seconds);
    }
    dur_entries_free(&again);
    dur_entries_free(&e);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    merge_round_trip(path);
    path = fuzz_file(data, size); /* the round trip reused the file */
    durations_t d;
    char *err = NULL;
    if (!durations_load(path, &d, &err)) {
        FUZZ_CHECK(err != NULL && strchr(err, '\n') == NULL);
        free(err);
        return 0;
    }
    strlist_t files = STRLIST_INIT;
    for (size_t i = 0; i < d.len; i++) {
        FUZZ_CHECK(isfinite(d.seconds[i]) && d.seconds[i] >= 0);
        FUZZ_CHECK(i == 0 ||
                   strcmp(d.paths[i - 1], d.paths[i]) < 0); /* sorted, one entry per file */
        FUZZ_CHECK(durations_get(&d, d.paths[i]) == d.seconds[i]);
        strlist_push(&files, d.paths[i]);
    }
    for (size_t i = 0; i < d.n_tests; i++) {
        FUZZ_CHECK(isfinite(d.test_seconds[i]) && d.test_seconds[i] >= 0);
        FUZZ_CHECK(strstr(d.tests[i], "::") != NULL && strncmp(d.tests[i], "::", 2) != 0);
        FUZZ_CHECK(i == 0 ||
                   strcmp(d.tests[i - 1], d.tests[i]) < 0); /* sorted, one entry per test */
        FUZZ_CHECK(durations_get(&d, d.tests[i]) == d.test_seconds[i]);
        size_t first, n = 0;
        char *file = strndup(d.tests[i], (size_t)(strstr(d.tests[i], "::") - d.tests[i]));
        n = durations_tests_of(&d, file, &first);
        FUZZ_CHECK(n >= 1 && first <= i && i < first + n); /* a test is found among its file's */
        FUZZ_CHECK(durations_get(&d, file) >= 0);
        free(file);
    }
    strlist_push(&files, "not/in/the/durations.py");
    plan_t p;
    plan_init(&p, 3);
    plan_fallback(&p, &files, &d);
    for (long j = 0; j < 3; j++)
        FUZZ_CHECK(p.tasks[j].estimated_s == -1 || isfinite(p.tasks[j].estimated_s));
    FUZZ_CHECK(isfinite(p.lower_bound_s));
    plan_summary_print_loads(&p);
    plan_free(&p);
    strlist_free(&files);
    durations_free(&d);
    return 0;
}
