/* Shared by the libFuzzer targets: inputs as C strings and as files.
 *
 * Parsers that read a path get the input through one memfd per process,
 * rewritten for every input and opened by its /proc/self/fd name: no disk
 * I/O, nothing left behind. Invariants are checked with FUZZ_CHECK, which
 * aborts (a crash libFuzzer reports and saves) when one does not hold. */
#ifndef TEP_FUZZ_UTIL_H
#define TEP_FUZZ_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A NUL-terminated copy of the input (embedded NULs end the string early). */
char *fuzz_cstr(const uint8_t *data, size_t size);
/* The input as a file; returns its path (valid until the next call). */
const char *fuzz_file(const uint8_t *data, size_t size);
/* Splits the input at the first byte `sep`: both halves NUL-terminated copies. */
void fuzz_split(const uint8_t *data, size_t size, uint8_t sep, char **a, char **b);

/* A private folder for this process (under $TMPDIR, else /dev/shm, else
 * /tmp), removed with what is in it when the process exits: for readers
 * that take a directory (the state folder) rather than a path. */
const char *fuzz_dir(void);
/* Writes the input as the file `name` in fuzz_dir(); returns its path
 * (valid until the next call). */
const char *fuzz_dir_file(const char *name, const uint8_t *data, size_t size);
/* Whether s is one line: no '\n' (and not NULL). */
int fuzz_one_line(const char *s);

/* Removes every BUILDKITE_* variable from the environment, so the targets
 * that load the configuration see only what they set (scripts/fuzz may run
 * inside a Buildkite job). */
void fuzz_clean_environment(void);
/* How many lines (each ending in '\n') f's writer produced: fn(arg, f) is
 * run on an in-memory stream. */
size_t fuzz_lines_written(void (*fn)(const void *arg, FILE *f), const void *arg);

/* A warn_fn (err.h) for the readers: checks each warning is one line and
 * counts it in the size_t given as user. */
void fuzz_count_warning(void *user, const char *line);

#endif
