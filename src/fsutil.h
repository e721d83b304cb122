/* fsutil: small file-system helpers shared by the phases. */
#ifndef TEP_FSUTIL_H
#define TEP_FSUTIL_H
#include <stdbool.h>
#include <stddef.h>

/* Reads a whole file; returns NULL (errno set) on failure. *len may be NULL. */
char *fs_read_file(const char *path, size_t *len);
/* Writes atomically (temp file + rename) so a reader never sees half a file. */
bool fs_write_file(const char *path, const char *data, size_t len);
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
