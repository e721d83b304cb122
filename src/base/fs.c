#include "base/fs.h"
#include "base/buf.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *fs_read_file_max(const char *path, size_t max, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return NULL;
    struct stat st;
    /* A regular file says its size: one over the limit is refused unread. */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (unsigned long long)st.st_size > max) {
        close(fd);
        errno = EFBIG;
        return NULL;
    }
    buf_t b = BUF_INIT;
    int failed = 0;
    for (;;) {
        /* One byte past the limit tells a file of exactly max bytes from a
         * longer one (a device or a pipe says no size). */
        size_t room = max - b.len + 1;
        size_t want = room < 65536 ? room : 65536;
        buf_reserve(&b, want);
        ssize_t n = read(fd, b.data + b.len, want);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) failed = errno ? errno : EIO;
        if (n <= 0) break;
        b.len += (size_t)n;
        b.data[b.len] = '\0';
        if (b.len > max) {
            failed = EFBIG;
            break;
        }
    }
    close(fd);
    if (failed) {
        buf_free(&b);
        errno = failed;
        return NULL;
    }
    if (len) *len = b.len;
    return b.data ? b.data : xstrdup("");
}

char *fs_read_file(const char *path, size_t *len)
{
    return fs_read_file_max(path, FS_READ_MAX, len);
}

/* ---- atomic writes ---- */

#define TEMP_MARK     ".tep-"
#define TEMP_RANDOM   6
#define TEMP_BASE_MAX 200 /* the name keeps under NAME_MAX whatever the file's */

/* Six letters or digits that differ from call to call and from process to
 * process. They need not be secret: O_EXCL makes a planted name a retry, not
 * a risk; they only make a clash unlikely. */
static void temp_suffix(char out[TEMP_RANDOM + 1])
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    static unsigned long long counter;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned long long x = ((unsigned long long)getpid() << 32) ^ (unsigned long long)ts.tv_nsec ^
                           ((unsigned long long)ts.tv_sec << 20) ^
                           (++counter * 0x9E3779B97F4A7C15ULL);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    for (int i = 0; i < TEMP_RANDOM; i++) {
        out[i] = digits[x % (sizeof digits - 1)];
        x /= sizeof digits - 1;
    }
    out[TEMP_RANDOM] = '\0';
}

/* "<dir>/.<base>.tep-XXXXXX" for a path "<dir>/<base>". */
static char *temp_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    int dir_len = slash ? (int)(slash - path + 1) : 0;
    char suffix[TEMP_RANDOM + 1];
    temp_suffix(suffix);
    return xasprintf("%.*s.%.*s" TEMP_MARK "%s", dir_len, path, TEMP_BASE_MAX, base, suffix);
}

bool fs_atomic_is_temp(const char *name)
{
    size_t n = strlen(name);
    size_t tail = strlen(TEMP_MARK) + TEMP_RANDOM;
    if (name[0] != '.' || n < tail + 2) return false;
    const char *mark = name + n - tail;
    if (strncmp(mark, TEMP_MARK, strlen(TEMP_MARK)) != 0) return false;
    for (const char *c = mark + strlen(TEMP_MARK); *c; c++)
        if (!isalnum((unsigned char)*c)) return false;
    return true;
}

static bool atomic_open(fs_atomic_t *w, const char *path, bool durable)
{
    memset(w, 0, sizeof *w);
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 100; tries++) {
        free(w->tmp);
        w->tmp = temp_name(path);
        /* Exclusive and never through a link: whatever is at this name
         * already (a planted file or link) is someone else's; take another. */
        fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    w->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (w->f) {
        w->path = xstrdup(path);
        w->durable = durable;
        return true;
    }
    int saved = errno;
    if (fd >= 0) {
        close(fd);
        unlink(w->tmp);
    }
    free(w->tmp);
    memset(w, 0, sizeof *w);
    errno = saved;
    return false;
}

bool fs_atomic_begin(fs_atomic_t *w, const char *path)
{
    return atomic_open(w, path, false);
}

bool fs_atomic_begin_durable(fs_atomic_t *w, const char *path)
{
    return atomic_open(w, path, true);
}

/* The rename itself is on disk only once the folder is: best effort (some
 * file systems refuse to sync a directory, and the data is synced already). */
static void sync_parent(const char *path)
{
    char *copy = xstrdup(path);
    char *slash = strrchr(copy, '/');
    const char *dir = ".";
    if (slash == copy)
        dir = "/";
    else if (slash) {
        *slash = '\0';
        dir = copy;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

/* The first failure's errno wins: a write that failed earlier (a full disk)
 * says more than what closing the stream says after it. */
static void keep_first(int *first, bool ok)
{
    if (!ok && !*first) *first = errno ? errno : EIO;
}

bool fs_atomic_finish(fs_atomic_t *w)
{
    int first = 0;
    keep_first(&first, !ferror(w->f));
    keep_first(&first, fflush(w->f) == 0);
    if (w->durable && !first) keep_first(&first, fsync(fileno(w->f)) == 0);
    keep_first(&first, fclose(w->f) == 0);
    if (!first) keep_first(&first, rename(w->tmp, w->path) == 0);
    if (first)
        unlink(w->tmp);
    else if (w->durable)
        sync_parent(w->path);
    free(w->path);
    free(w->tmp);
    memset(w, 0, sizeof *w);
    errno = first;
    return first == 0;
}

void fs_atomic_abandon(fs_atomic_t *w)
{
    if (w->f) fclose(w->f);
    if (w->tmp) unlink(w->tmp);
    free(w->path);
    free(w->tmp);
    memset(w, 0, sizeof *w);
}

bool fs_write_file(const char *path, const char *data, size_t len)
{
    fs_atomic_t w;
    if (!fs_atomic_begin(&w, path)) return false;
    fwrite(data, 1, len, w.f);
    return fs_atomic_finish(&w);
}

bool fs_errno_is_full(int e)
{
    return e == ENOSPC || e == EDQUOT;
}

/* ---- directories ---- */

/* Opens the folder `name` in dirfd, making it when absent; never through a
 * link unless `follow`. */
static int open_or_make(int dirfd, const char *name, bool follow, bool *made)
{
    int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    *made = false;
    int fd = openat(dirfd, name, flags | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        if (mkdirat(dirfd, name, 0700) == 0)
            *made = true;
        else if (errno != EEXIST)
            return -1;
        fd = openat(dirfd, name, flags | O_NOFOLLOW);
    }
    if (fd >= 0) return fd;
    struct stat st;
    bool is_link = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
    if (!is_link) return -1; /* a file in the way: ENOTDIR as it came */
    if (follow) return openat(dirfd, name, flags);
    errno = ELOOP;
    return -1;
}

bool fs_mkdir_path(const char *path, bool *made_last)
{
    if (made_last) *made_last = false;
    bool absolute = path[0] == '/';
    int fd = open(absolute ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    char *copy = xstrdup(path);
    char *save = NULL;
    bool made = false, made_any = false, ok = true;
    for (char *name = strtok_r(copy, "/", &save); name && ok; name = strtok_r(NULL, "/", &save)) {
        /* An absolute path's existing folders are the place the user named;
         * a relative one is in the checkout, where a link could lead anywhere. */
        int next = open_or_make(fd, name, absolute && !made_any, &made);
        ok = next >= 0;
        int saved = errno;
        close(fd);
        fd = next;
        errno = saved;
        made_any = made_any || made;
    }
    int saved = errno;
    if (fd >= 0) close(fd);
    free(copy);
    errno = saved;
    if (ok && made_last) *made_last = made;
    return ok;
}

bool fs_mkdirs(const char *path)
{
    return fs_mkdir_path(path, NULL);
}

bool fs_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

bool fs_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *fs_join(const char *a, const char *b)
{
    size_t la = strlen(a);
    while (la > 1 && a[la - 1] == '/') la--;
    while (*b == '/') b++;
    /* "/" keeps its slash, and it is the one between: "/" + "x" is "/x". */
    const char *sep = la && a[la - 1] == '/' ? "" : "/";
    return xasprintf("%.*s%s%s", (int)la, a, sep, b);
}

double fs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double fs_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void fs_sleep(double seconds)
{
    if (seconds <= 0) return;
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void fs_rfc3339(double epoch, char out[40])
{
    /* a time a record did not hold (NaN) or one out of range is the epoch:
     * converting it to time_t would be undefined */
    if (!(epoch >= 0 && epoch < FS_RFC3339_MAX_EPOCH)) epoch = 0;
    time_t secs = (time_t)epoch;
    long usec = (long)((epoch - (double)secs) * 1e6);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 40, "%s.%06ldZ", base, usec);
}
