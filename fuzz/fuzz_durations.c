/* Durations files in both formats (pytest-split JSON, "<seconds> <path>"
 * lines), read as a stream. Invariants: every kept duration is finite and in
 * range, files and tests are sorted and unique, lookups find what was kept
 * (a test among its file's), a fallback plan built on them stays finite,
 * what `durations merge` writes from them reads back as the same, and bad
 * entries are named in single lines, at most DURATIONS_FILE_MAX_WARNINGS and a
 * count per file. */
#include "model/durations.h"
#include "fuzz_util.h"
#include "plan/plan_fallback.h"
#include "plan/plan_summary.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* What `durations merge` writes reads back, strictly, as the same entries. */
static void merge_round_trip(const char *path)
{
    durations_file_entries_t e = {0};
    char *err = NULL;
    size_t warnings = 0;
    durations_file_opts_t o = {
        .label = "merge", .strict = true, .warn = fuzz_count_warning, .warn_user = &warnings};
    bool read = durations_file_read(path, &o, &e, &err);
    FUZZ_CHECK(warnings <= DURATIONS_FILE_MAX_WARNINGS + 1);
    if (!read) {
        FUZZ_CHECK(err != NULL && strchr(err, '\n') == NULL);
        free(err);
        durations_file_entries_free(&e);
        return;
    }
    FUZZ_CHECK(warnings == 0); /* strict: a bad entry fails the read */
    durations_resolve(&e);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    FUZZ_CHECK(out && durations_file_write_json(&e, out));
    fclose(out);
    const char *again_path = fuzz_file((const uint8_t *)text, len);
    durations_file_entries_t again = {0};
    FUZZ_CHECK(durations_file_read(again_path, &o, &again, &err));
    FUZZ_CHECK(again.len == e.len);
    for (size_t i = 0; i < e.len; i++) {
        FUZZ_CHECK(strcmp(durations_file_key(&again, i), durations_file_key(&e, i)) == 0);
        FUZZ_CHECK(again.items[i].seconds == e.items[i].seconds);
    }
    durations_file_entries_free(&again);
    durations_file_entries_free(&e);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    merge_round_trip(path);
    path = fuzz_file(data, size); /* the round trip reused the file */
    durations_t d;
    char *err = NULL;
    size_t warnings = 0;
    bool loaded = durations_load(path, fuzz_count_warning, &warnings, &d, &err);
    FUZZ_CHECK(warnings <= DURATIONS_FILE_MAX_WARNINGS + 1);
    if (!loaded) {
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
