#include "fuzz_util.h"
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) abort();
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

const char *fuzz_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("tep-fuzz-input", 0);
        if (fd < 0) abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0) abort();
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
        if (n <= 0) abort();
        done += (size_t)n;
    }
    return path;
}

void fuzz_split(const uint8_t *data, size_t size, uint8_t sep, char **a, char **b)
{
    const uint8_t *cut = size ? memchr(data, sep, size) : NULL;
    size_t n = cut ? (size_t)(cut - data) : size;
    *a = fuzz_cstr(data, n);
    *b = cut ? fuzz_cstr(cut + 1, size - n - 1) : fuzz_cstr(data, 0);
}

void fuzz_count_warning(void *user, const char *line)
{
    FUZZ_CHECK(line != NULL && strchr(line, '\n') == NULL);
    (*(size_t *)user)++;
}

static char fuzz_dir_path[4096];

/* Removes the folder's files (never a tree: the targets make none) and it. */
static void fuzz_dir_remove(void)
{
    DIR *d = opendir(fuzz_dir_path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
    rmdir(fuzz_dir_path);
}

const char *fuzz_dir(void)
{
    if (fuzz_dir_path[0]) return fuzz_dir_path;
    /* In memory where there is a tmpfs: the run.json writer syncs to disk. */
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/tep-fuzz-XXXXXX", tmp);
    if (!mkdtemp(fuzz_dir_path)) abort();
    atexit(fuzz_dir_remove);
    return fuzz_dir_path;
}

const char *fuzz_dir_file(const char *name, const uint8_t *data, size_t size)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) abort();
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) abort();
        done += (size_t)n;
    }
    close(fd);
    return path;
}

int fuzz_one_line(const char *s)
{
    return s != NULL && strchr(s, '\n') == NULL;
}

void fuzz_clean_environment(void)
{
    extern char **environ;
    for (size_t i = 0; environ[i];) {
        if (strncmp(environ[i], "BUILDKITE_", 10) != 0) {
            i++;
            continue;
        }
        char name[256];
        size_t n = strcspn(environ[i], "=");
        if (n >= sizeof name) abort();
        snprintf(name, sizeof name, "%.*s", (int)n, environ[i]);
        if (unsetenv(name) != 0) abort(); /* it shifts the rest down: look at i again */
    }
}

size_t fuzz_lines_written(void (*fn)(const void *arg, FILE *f), const void *arg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) abort();
    fn(arg, f);
    fclose(f);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    FUZZ_CHECK(len == 0 || text[len - 1] == '\n'); /* whole lines */
    free(text);
    return lines;
}
