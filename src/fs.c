#include "fs.h"
#include "buf.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *fs_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    buf_t b;
    buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_append(&b, chunk, n);
    /* The read's own errno (EISDIR for a directory) says more than EIO,
     * which stands in only when there is none. */
    int failed = ferror(f);
    int read_errno = errno;
    fclose(f);
    if (failed) {
        buf_free(&b);
        errno = read_errno ? read_errno : EIO;
        return NULL;
    }
    if (len) *len = b.len;
    return b.data;
}

bool fs_atomic_begin(fs_atomic_t *w, const char *path)
{
    w->path = xstrdup(path);
    w->tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    w->f = fopen(w->tmp, "wb");
    if (w->f) return true;
    int saved = errno;
    free(w->path);
    free(w->tmp);
    memset(w, 0, sizeof *w);
    errno = saved;
    return false;
}

bool fs_atomic_finish(fs_atomic_t *w)
{
    /* ferror first: a write that failed earlier (a full disk) must not be
     * renamed over a good file. Its errno is normally still set; EIO stands
     * in when something cleared it since. */
    bool ok = !ferror(w->f);
    if (!ok && errno == 0) errno = EIO;
    ok = fclose(w->f) == 0 && ok;
    ok = ok && rename(w->tmp, w->path) == 0;
    int saved = errno;
    if (!ok) unlink(w->tmp);
    free(w->path);
    free(w->tmp);
    memset(w, 0, sizeof *w);
    errno = saved;
    return ok;
}

bool fs_write_file(const char *path, const char *data, size_t len)
{
    fs_atomic_t w;
    if (!fs_atomic_begin(&w, path)) return false;
    fwrite(data, 1, len, w.f);
    return fs_atomic_finish(&w);
}

bool fs_mkdirs(const char *path)
{
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            free(p);
            return false;
        }
        *s = '/';
    }
    bool ok = mkdir(p, 0700) == 0 || errno == EEXIST;
    free(p);
    return ok && fs_is_dir(path);
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
    time_t secs = (time_t)epoch;
    long usec = (long)((epoch - (double)secs) * 1e6);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 40, "%s.%06ldZ", base, usec);
}
