/* fs: small file-system helpers shared by the phases.
 *
 * This is the layer right above libc, and it fails the way libc does: false
 * (or NULL) with errno set. It cannot say what a file is for or what to do
 * about it, so its callers turn errno into the one-line message of src/err.h
 * ("cannot write <path> (<strerror>)" plus what to do).
 *
 * Writes are atomic and never go through a link: the data goes to a new
 * temporary file in the target's folder, ".<name>.tep-XXXXXX" with a random
 * suffix, created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW: a file or link
 * someone planted under that name is never opened), and is renamed over the
 * path only when all of it is written, so a phase reading the file (possibly
 * in another process) sees the old file or the whole new one, never half. A
 * link at the path itself is replaced, not followed. The durable variant
 * also syncs the file and its folder before and after the rename, for files
 * that hold results (run.json, result-path): after a crash or power loss
 * they are whole or absent, never empty.
 *
 * Reads have a size limit: a whole-file read refuses a file over its limit
 * (EFBIG) after reading at most the limit, so an endless file (/dev/zero) or
 * a huge one costs bounded memory and time.
 *
 * Directories are made without following links where the tool decides the
 * path (see fs_mkdir_path), so nothing is created in a link's target before
 * a caller's safety check can refuse the link. */
#ifndef TEP_FS_H
#define TEP_FS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The limit of fs_read_file: far above any file the tool reads whole (a plan
 * slice for 150,000 tests is about 15 MB). */
#define FS_READ_MAX (64UL << 20)

/* Reads a whole file of at most FS_READ_MAX bytes; returns NULL (errno set)
 * on failure, EFBIG when the file is larger. *len may be NULL. */
char *fs_read_file(const char *path, size_t *len);
/* The same with the caller's limit, in bytes. */
char *fs_read_file_max(const char *path, size_t max, size_t *len);
/* Writes len bytes atomically (see above); false with errno set. */
bool fs_write_file(const char *path, const char *data, size_t len);

/* An atomic write in parts, for a file written piece by piece (the stream
 * may seek: results_merge rewrites a header in place). */
typedef struct {
    FILE *f;      /* write here */
    char *path;   /* the file it becomes */
    char *tmp;    /* the file it is until then */
    bool durable; /* fsync before and after the rename */
} fs_atomic_t;

/* Creates the temporary file; false with errno set (nothing to finish then). */
bool fs_atomic_begin(fs_atomic_t *w, const char *path);
/* The same, and fs_atomic_finish syncs the data and the folder (see above). */
bool fs_atomic_begin_durable(fs_atomic_t *w, const char *path);
/* Closes the temporary file and renames it over the path. On any error
 * (a write that failed earlier included, ENOSPC for a full disk) the
 * temporary file is removed and false comes back with errno set. Either way
 * w is released. */
bool fs_atomic_finish(fs_atomic_t *w);
/* Drops the temporary file without renaming; w is released. */
void fs_atomic_abandon(fs_atomic_t *w);
/* Whether a file name is one of fs_atomic's temporary names (a leftover of
 * a process that was killed mid-write, which cleanup may remove). */
bool fs_atomic_is_temp(const char *name);

/* mkdir -p with mode 0700 for the directories it creates (see
 * fs_mkdir_path). */
bool fs_mkdirs(const char *path);
/* mkdir -p that follows no link in a relative path (the checkout's own
 * folders: a link there could lead anywhere), and in an absolute path only
 * in the folders that exist already (the place the user named, /tmp being a
 * link on some systems); what it creates is always a real directory. A link
 * where it must not follow one fails with ELOOP, before anything is created
 * in its target. *made_last (may be NULL) tells whether the last folder was
 * created by this call. */
bool fs_mkdir_path(const char *path, bool *made_last);
/* Whether an error number means the file system is full (ENOSPC, EDQUOT). */
bool fs_errno_is_full(int e);
bool fs_exists(const char *path);
bool fs_is_dir(const char *path);
/* Joins a and b with exactly one '/'. */
char *fs_join(const char *a, const char *b);
/* Seconds since the epoch, with sub-second precision, from CLOCK_REALTIME. */
double fs_now(void);
/* Monotonic seconds, for budgets and timeouts. */
double fs_monotonic(void);
void fs_sleep(double seconds);
/* RFC 3339 timestamp in UTC with microseconds, for timelines; a time before
 * the epoch, after the year 9999 or not a number gives the epoch's. */
#define FS_RFC3339_MAX_EPOCH 253402300800.0 /* 10000-01-01 */
void fs_rfc3339(double epoch, char out[40]);

#endif
