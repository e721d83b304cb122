/* collect_only: asks pytest which tests a set of files holds (--collect-only).
 *
 * Used when Test Engine wants slow files split into individual tests. It runs
 * the user's own launcher: every word of the test command before
 * {{testExamples}} (e.g. "python3 -m pytest -p xdist -n 2"), options and
 * their values, so the same interpreter and plugins see the files.
 *
 * pytest's printed collection depends on -q/-v (the user's own -q turns
 * "--collect-only -q" into "-qq", which prints "file.py: 2"), on terminal
 * plugins and on quoting, so it is not parsed. Instead a tiny pytest plugin,
 * written from this binary into a private directory and loaded with -p,
 * records exactly what pytest collected as JSON lines, whatever the
 * verbosity, on pytest 7 and 8 alike.
 *
 * Nothing is ever lost: a requested file that yields no node id (nothing
 * collected, ids pytest roots elsewhere, or a launcher that could not load
 * the plugin) is returned in whole_files and runs as a file. A node pytest
 * could not import is a collection error: the caller stops with the terminal
 * status. The child gets the test run's environment, without our tokens. */
#ifndef TEP_COLLECT_ONLY_H
#define TEP_COLLECT_ONLY_H
#include <stdbool.h>
#include "base/strlist.h"

typedef struct {
    strlist_t node_ids;     /* ids of the requested files, in pytest's order */
    strlist_t whole_files;  /* requested files that yielded no id: run them whole */
    strlist_t broken_files; /* nodes pytest could not collect */
    size_t foreign_ids;     /* collected ids that belong to none of the requested files */
    char *foreign_example;  /* the first of them */
    char *unrecognized; /* pytest's "unrecognized arguments: ..." list (e.g. --tag-filters without
                           the collector) */
    int exit_code;
    char *error; /* why pytest did not report its collection (every file is whole) */
} collect_only_result_t;

void collect_only_examples(const char *test_cmd, const strlist_t *files,
                           collect_only_result_t *res);
/* The same with more pytest options (e.g. "--tag-filters", "team:x"). */
void collect_only_examples_with(const char *test_cmd, const strlist_t *options,
                                const strlist_t *files, collect_only_result_t *res);
void collect_only_result_free(collect_only_result_t *res);

/* Exposed for unit tests. */
/* The words before {{testExamples}}, minus the result option. */
bool collect_only_launcher(const char *tmpl, strlist_t *argv, char **err);
/* Reads the plugin's JSON lines; returns whether pytest finished collecting. */
bool collect_only_read_records(const char *text, const strlist_t *files,
                               collect_only_result_t *res);

#endif
