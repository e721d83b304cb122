#include "selector.h"
#include "buf.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *selector_file_part(const char *s)
{
    const char *sep = strstr(s, "::");
    return sep ? xstrndup(s, (size_t)(sep - s)) : xstrdup(s);
}

static int has_dotdot_component(const char *path)
{
    const char *p = path;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') return 1;
        if (!end) break;
        p = end + 1;
    }
    return 0;
}

/* A path that exists must resolve (symlinks included) inside the cwd. */
static int escapes_checkout(const char *file)
{
    char real[PATH_MAX], cwd[PATH_MAX];
    if (!realpath(file, real)) return 0; /* not there: nothing to escape through */
    if (!getcwd(cwd, sizeof cwd)) return 1;
    size_t n = strlen(cwd);
    if (n == 1) return 0; /* checkout at "/" */
    return !(strncmp(real, cwd, n) == 0 && (real[n] == '/' || real[n] == '\0'));
}

const char *selector_problem(const char *s, size_t len)
{
    if (len == 0 || !*s) return "is empty";
    if (strlen(s) != len) return "contains a NUL byte";
    if (strpbrk(s, "\n\r")) return "contains a line break";
    if (s[0] == '-') return "starts with '-' and would be read as a pytest option";
    if (s[0] == '/') return "is an absolute path";
    if (s[0] == '~') return "starts with '~'";
    char *file = selector_file_part(s);
    const char *why = NULL;
    if (!*file) why = "has no file part";
    else if (has_dotdot_component(file)) why = "contains '..' and could escape the checkout";
    else if (escapes_checkout(file)) why = "resolves outside the checkout";
    free(file);
    return why;
}
