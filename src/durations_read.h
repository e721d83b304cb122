/* durations_read: the entries of one durations file, read as a stream.
 *
 * Two formats, told apart by the first non-blank byte:
 *   '{'   pytest-split's .test_durations: a JSON object of node id (or file
 *         path) to seconds, e.g. {"tests/a.py::test_x": 1.5}
 *   else  our text format: one "<seconds> <path>" per line, '#' comments
 *
 * The file is read byte by byte through stdio; only the keys are kept, in one
 * arena (no JSON tree, no copy of the file): 100,000 entries cost about the
 * size of their keys plus 24 bytes each.
 *
 * Entries come back in file order; a key repeated in the file is kept twice
 * (durations.h decides that the later one wins). A bad entry (a value that is
 * not a finite number of seconds in [0, DURATIONS_MAX_S], an empty key or one
 * without a file part, a key with a NUL or an unpaired UTF-16 surrogate, and
 * in strict mode a key that is not UTF-8) is named on one line with its file
 * and key or line, at most DURATIONS_MAX_WARNINGS times and then counted:
 * as a warning and skipped (lenient: the plan goes on), or as an error that
 * fails the read (strict: `durations merge` must not write a file that
 * silently lost entries). A file that is not one of the formats at all is an
 * error naming the file and the line. */
#ifndef TEP_DURATIONS_READ_H
#define TEP_DURATIONS_READ_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"

#define DURATIONS_MAX_S        (7.0 * 24 * 3600)
#define DURATIONS_MAX_WARNINGS 5

typedef struct {
    size_t key; /* offset of the NUL-terminated key in the arena */
    double seconds;
    unsigned src; /* which input file (the index given to the reader) */
} dur_entry_t;

typedef struct {
    buf_t arena; /* every key, NUL-terminated, in reading order */
    dur_entry_t *items;
    size_t len, cap;
} dur_entries_t;

typedef struct {
    const char *label; /* starts each message: "BUILDKITE_TEST_ENGINE_DURATIONS_FILE" */
    bool strict;
    unsigned src;
} dur_read_opts_t;

/* Appends the file's entries to out. False with *err (one line) when the file
 * cannot be read, is not a durations file, or (strict) has bad entries. */
bool dur_read_file(const char *path, const dur_read_opts_t *o, dur_entries_t *out, char **err);
void dur_entries_free(dur_entries_t *e);
static inline const char *dur_key(const dur_entries_t *e, size_t i)
{
    return e->arena.data + e->items[i].key;
}

#endif
