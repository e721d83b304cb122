/* collect: asks pytest which tests a set of files holds (--collect-only).
 *
 * Used when Test Engine wants slow files split into individual tests. It runs
 * the user's own launcher (the words of the test command before
 * {{testExamples}}, e.g. "python3 -m pytest -p plugin"), not a bare "pytest",
 * so the same interpreter and plugins see the files. A file that cannot be
 * imported is a collection error: the caller stops with the terminal status. */
#ifndef TEP_COLLECT_H
#define TEP_COLLECT_H
#include <stdbool.h>
#include "strlist.h"

typedef struct {
    strlist_t node_ids;
    strlist_t broken_files;  /* files pytest could not collect */
    int exit_code;
    char *error;             /* set when pytest could not run or failed otherwise */
} collect_result_t;

void collect_examples(const char *test_cmd, const strlist_t *files, collect_result_t *res);
void collect_result_free(collect_result_t *res);
/* Parses --collect-only -q output (exposed for unit tests). */
void collect_parse_output(const char *out, collect_result_t *res);

#endif
