#include "fuzz_util.h"
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
