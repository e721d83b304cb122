/* durations_file: the durations file formats, read and written in one place.
 *
 * Read: two formats, told apart by the first non-blank byte:
 *   '{'   pytest-split's .test_durations: a JSON object of node id (or file
 *         path) to seconds, e.g. {"tests/a.py::test_x": 1.5}
 *   else  our text format: one "<seconds> <path>" per line, '#' comments
 * The file is read byte by byte through stdio (durations_lex.h does the JSON
 * tokens); only the keys are kept, in one arena (no JSON tree, no copy of the
 * file): 100,000 entries cost about the size of their keys plus 24 bytes each.
 *
 * Entries come back in file order; a key repeated in the file is kept twice
 * (durations.h decides that the later one wins). A bad entry (a value that is
 * not a finite number of seconds in [0, DURATIONS_FILE_MAX_S], an empty key or
 * one without a file part, a key with a NUL or an unpaired UTF-16 surrogate,
 * and in strict mode a key that is not UTF-8) is named on one line with its
 * file and key or line, at most DURATIONS_FILE_MAX_WARNINGS times and then
 * counted in one more line; each line goes to the caller's warn_fn (this
 * module never prints). Lenient, the entry is skipped and the plan goes on;
 * strict, the read fails (`durations merge` must not write a file that
 * silently lost entries). A file that is not one of the formats at all is an
 * error naming the file and the line.
 *
 * Written: always pytest-split's JSON object, in two shapes:
 *   - durations_file_write_json: the merged file `durations merge` prints:
 *     sorted keys, 4-space indent, each number the shortest that reads back
 *     the same, keys byte for byte as read.
 *   - durations_file_writer_*: the per-job artifact, one entry at a time (no
 *     memory per test), six decimals, keys made valid UTF-8 for the Python
 *     tools that read it; written to a temporary file and renamed, so a
 *     reader never sees half a file. */
#ifndef TEP_DURATIONS_FILE_H
#define TEP_DURATIONS_FILE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "base/buf.h"
#include "base/fs.h"
#include "base/err.h"

#define DURATIONS_FILE_MAX_S        (7.0 * 24 * 3600)
#define DURATIONS_FILE_MAX_WARNINGS 5

typedef struct {
    size_t key; /* offset of the NUL-terminated key in the arena */
    double seconds;
    unsigned src; /* which input file (the index given to the reader) */
} durations_file_entry_t;

typedef struct {
    buf_t arena; /* every key, NUL-terminated, in reading order */
    durations_file_entry_t *items;
    size_t len, cap;
} durations_file_entries_t;

typedef struct {
    const char *label; /* starts each message: "BUILDKITE_TEST_ENGINE_DURATIONS_FILE" */
    bool strict;
    unsigned src;
    warn_fn warn; /* gets each bad-entry line; may be NULL */
    void *warn_user;
} durations_file_opts_t;

/* Appends the file's entries to out. False with *err (one line) when the file
 * cannot be read, is not a durations file, or (strict) has bad entries. */
bool durations_file_read(const char *path, const durations_file_opts_t *o,
                         durations_file_entries_t *out, char **err);
/* Appends one entry (key: len bytes, copied). */
void durations_file_add(durations_file_entries_t *e, const char *key, size_t len, double seconds,
                        unsigned src);
void durations_file_entries_free(durations_file_entries_t *e);
static inline const char *durations_file_key(const durations_file_entries_t *e, size_t i)
{
    return e->arena.data + e->items[i].key;
}

/* Writes entries (resolved: sorted, one per key) as the merged file. false
 * when out cannot be written. */
bool durations_file_write_json(const durations_file_entries_t *e, FILE *out);

typedef struct {
    fs_atomic_t file; /* fs.h's atomic write: an exclusive temporary file, renamed */
    size_t written;
    bool write_error;
    buf_t pending; /* entries not written yet: one write per 64 KiB, not one per entry */
} durations_file_writer_t;

/* Starts writing `path` (through an exclusive temporary file, see fs.h). */
bool durations_file_writer_open(durations_file_writer_t *w, const char *path, char **err);
void durations_file_writer_put(durations_file_writer_t *w, const char *node_id, double seconds);
/* The same with the key already a JSON string literal (quotes included) as
 * durations_file_put_key writes it: the run phase renders each key once
 * (results_index.h), the report phase copies it. */
void durations_file_writer_put_json(durations_file_writer_t *w, const char *key_json, size_t len,
                                    double seconds);
/* node_id as the artifact's key: a JSON string literal, valid UTF-8. */
void durations_file_put_key(buf_t *b, const char *node_id);
/* seconds as printf's "%.6f" writes it, byte for byte, and without printf for
 * the values a test takes (0 to 2^33 s, on compilers with a 128-bit integer):
 * 100,000 entries cost 2 ms, not 15. */
void durations_file_put_seconds(buf_t *b, double seconds);
/* Finishes the file and frees w. false with *err when it could not be
 * written (nothing is left behind). */
bool durations_file_writer_close(durations_file_writer_t *w, char **err);

#endif
