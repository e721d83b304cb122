/* durations: known run times, per file and per test, for the fallback plan.
 *
 * Accepts pytest-split's .test_durations (a JSON object of node id or path to
 * seconds) and our own text format: one "<seconds> <path>" per line, '#'
 * comments allowed. durations_file.h reads (and writes) them and says what
 * makes an entry bad (NaN, infinity, a negative, more than a week, a key with
 * no file part, ...): in `plan` a bad entry is a warning and is ignored, so
 * the plan's sums and ratios stay finite; in `durations merge` it is an error.
 *
 * When the same test or file appears more than once, the later entry wins:
 * later in the file, or in a later file given to merge. Across merged files
 * the later file also wins at the granularity it has: a later entry for a
 * whole file replaces earlier entries of that file's tests, and later test
 * entries replace an earlier whole-file entry (so a file's time is never
 * counted twice). Within one file, an entry for a file and entries for its
 * tests add up. */
#ifndef TEP_DURATIONS_H
#define TEP_DURATIONS_H
#include <stdbool.h>
#include <stddef.h>
#include "base/buf.h"
#include "model/durations_file.h"
#include "base/err.h"
#include "base/strlist.h"

typedef struct {
    char **paths;    /* per file, sorted, one entry per file */
    double *seconds; /* the file's entry plus all its tests' */
    size_t len;
    const char **tests; /* node ids ("file::name"), sorted, one each */
    double *test_seconds;
    size_t n_tests;
    buf_t arena; /* holds the text of tests */
} durations_t;

/* Reads a durations file (lenient: each bad entry is a line for `warn`, which
 * may be NULL, and is left out). */
bool durations_load(const char *path, warn_fn warn, void *warn_user, durations_t *d, char **err);
void durations_free(durations_t *d);
/* Seconds for a file, or for a test when given a node id; -1 when unknown. */
double durations_get(const durations_t *d, const char *path_or_id);
/* How many node ids of `file` are known; they are d->tests[*first ...]. */
size_t durations_tests_of(const durations_t *d, const char *file, size_t *first);

/* Keys relative to another directory than the plan's paths: pytest-split
 * (and test-engine-pytest before 0.2) keyed tests as pytest prints them,
 * relative to its rootdir, which in a monorepo is below the checkout. When
 * one prefix before d's paths names more of `files` than the paths do as
 * they are, every path and test of d gets it. Returns the prefix given ("",
 * none; caller frees); *matched: d's files that name one of `files` after. */
char *durations_rebase(durations_t *d, const strlist_t *files, size_t *matched);

/* Leaves e sorted by key, one entry per key, by the rules above (entries of
 * a later src win); durations_file_write_json writes the result. */
void durations_resolve(durations_file_entries_t *e);

#endif
