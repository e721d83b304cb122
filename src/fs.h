/* fs: small file-system helpers shared by the phases.
 *
 * This is the layer right above libc, and it fails the way libc does: false
 * (or NULL) with errno set. It cannot say what a file is for or what to do
 * about it, so its callers turn errno into the one-line message of src/err.h
 * ("cannot write <path> (<strerror>)" plus what to do).
 *
 * Writes are atomic: the data goes to "<path>.tmp.<pid>" next to the file and
 * is renamed over it only when all of it is on disk, so a phase reading the
 * file (possibly in another process) sees the old file or the whole new one,
 * never half. */
#ifndef TEP_FS_H
#define TEP_FS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Reads a whole file; returns NULL (errno set) on failure. *len may be NULL. */
char *fs_read_file(const char *path, size_t *len);
/* Writes len bytes atomically (see above); false with errno set. */
bool fs_write_file(const char *path, const char *data, size_t len);

/* An atomic write in parts, for a file written piece by piece. */
typedef struct {
    FILE *f;    /* write here */
    char *path; /* the file it becomes */
    char *tmp;  /* the file it is until then */
} fs_atomic_t;

/* Opens the temporary file; false with errno set (nothing to finish then). */
bool fs_atomic_begin(fs_atomic_t *w, const char *path);
/* Closes the temporary file and renames it over the path. On any error
 * (a write that failed earlier included) the temporary file is removed and
 * false comes back with errno set. Either way w is released. */
bool fs_atomic_finish(fs_atomic_t *w);

/* mkdir -p with mode 0700 for the directories it creates. */
bool fs_mkdirs(const char *path);
bool fs_exists(const char *path);
bool fs_is_dir(const char *path);
/* Joins a and b with exactly one '/'. */
char *fs_join(const char *a, const char *b);
/* Seconds since the epoch, with sub-second precision, from CLOCK_REALTIME. */
double fs_now(void);
/* Monotonic seconds, for budgets and timeouts. */
double fs_monotonic(void);
void fs_sleep(double seconds);
/* RFC 3339 timestamp in UTC with microseconds, for timelines. */
void fs_rfc3339(double epoch, char out[40]);

#endif
